package builtin

import (
	"bytes"
	"context"
	"image/png"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// A render offers small PNG previews of each Item along its steps (not
// after the last one); without a taker it renders none.
func TestBuiltinPreviews(t *testing.T) {
	type shown struct {
		item int
		data []byte
	}
	var got []shown
	job := worker.RenderJob{
		Job: &aimg.Job{ID: "j1", ItemIDs: []string{"i1", "i2"}},
		Payload: aimg.JobPayload{Backend: aimg.BackendBuiltin, Kind: aimg.MTypeImage,
			Params: aimg.GenerationParams{Steps: 10, Width: 512, Height: 256, CFGScale: 7}},
		Preview: func(item int, data []byte) { got = append(got, shown{item, data}) },
	}
	if _, err := (Backend{}).Render(context.Background(), job, func(float64) {}); err != nil {
		t.Fatal(err)
	}
	// Every second step but the last, per Item: steps 2, 4, 6, 8.
	if len(got) != 8 || got[0].item != 0 || got[7].item != 1 {
		t.Fatalf("%d previews, want 4 per Item in Item order", len(got))
	}
	img, err := png.Decode(bytes.NewReader(got[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != PreviewSize || b.Dy() != PreviewSize/2 {
		t.Fatalf("preview %v, want %dx%d", b, PreviewSize, PreviewSize/2)
	}
	if bytes.Equal(got[0].data, got[3].data) {
		t.Fatal("the previews do not change along the steps")
	}
}
