package comfyui_test

import (
	"bytes"
	"context"
	"image/png"
	"sync"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/comfyui/comfyuifake"
)

// The fake's binary PREVIEW_IMAGE frames (one per KSampler step) reach the
// progress reports as PNG previews, and the backend hands them over as the
// previews of the Job's first Item.
func TestPreviewFramesBecomePreviews(t *testing.T) {
	fake := comfyuifake.New()
	defer fake.Close()
	c := newClient(t, fake, nil)
	var rec recorder
	if _, err := c.Run(testCtx(t), txt2img(42, 4), nil, rec.add); err != nil {
		t.Fatal(err)
	}
	previews := 0
	for _, p := range rec.all() {
		if p.Preview == nil {
			continue
		}
		previews++
		if p.PreviewType != "image/png" {
			t.Fatalf("preview type %q, want image/png", p.PreviewType)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(p.Preview)); err != nil {
			t.Fatalf("the preview is not the frame's PNG: %v", err)
		}
	}
	if previews != 4 {
		t.Fatalf("%d previews, want one per step (4)", previews)
	}

	var mu sync.Mutex
	var items []int
	job := worker.RenderJob{Job: &aimg.Job{ID: "j", ItemIDs: []string{"i"}},
		Preview: func(item int, img []byte) {
			mu.Lock()
			defer mu.Unlock()
			if bytes.HasPrefix(img, []byte("\x89PNG")) {
				items = append(items, item)
			}
		}}
	b := comfyui.Backend{Client: c, Resolve: func(context.Context, worker.RenderJob) (comfyui.Request, error) {
		return comfyui.Request{Workflow: txt2img(7, 3)}, nil
	}}
	if _, err := b.Render(testCtx(t), job, func(float64) {}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(items) != 3 || items[0] != 0 {
		t.Fatalf("previews handed over for items %v, want 3 of item 0", items)
	}
}
