package a1111_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/a1111"
	"aimg/internal/worker/a1111/a1111fake"
)

func TestBackendRendersAJob(t *testing.T) {
	fake := newFake(t, a1111fake.Options{})
	c := newClient(t, fake, nil)
	init := pngBase64(t, 8, 8)
	raw, _ := base64.StdEncoding.DecodeString(init)
	job := worker.RenderJob{
		Job:       &aimg.Job{ID: "j1", Attempts: 2, ItemIDs: []string{"i1", "i2"}},
		OpenInput: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
	}
	b := a1111.Backend{Client: c, Resolve: func(ctx context.Context, job worker.RenderJob) (a1111.Request, error) {
		img, err := a1111.InitImageFromJob(ctx, job)
		if err != nil {
			return a1111.Request{}, err
		}
		return a1111.Request{Img2Img: &a1111.Img2ImgRequest{
			Txt2ImgRequest: a1111.Txt2ImgRequest{Prompt: "p", Width: 16, Height: 16, Steps: 1, BatchSize: 2},
			InitImages:     []string{img}}}, nil
	}}
	outs, err := b.Render(context.Background(), job, func(float64) {})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[1].ItemID != "i2" || outs[1].Validate() != nil || outs[0].Files[0].ContentType != "image/png" {
		t.Fatalf("outputs %+v", outs)
	}
	sent := fake.Requests("/sdapi/v1/img2img")[0].JSON()
	if sent["force_task_id"] != "aimg-j1-2" || sent["init_images"].([]any)[0] != init {
		t.Errorf("sent force_task_id %v (want one per attempt), init_images %.20v", sent["force_task_id"], sent["init_images"])
	}
	// Neither or both: invalid.
	b.Resolve = func(context.Context, worker.RenderJob) (a1111.Request, error) { return a1111.Request{}, nil }
	if _, err := b.Render(context.Background(), job, func(float64) {}); aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Errorf("empty request: %v", err)
	}
	// Fewer images than Items (an interrupt by someone else): retryable.
	b.Resolve = func(context.Context, worker.RenderJob) (a1111.Request, error) {
		return a1111.Request{Txt2Img: &a1111.Txt2ImgRequest{Prompt: "p", Width: 16, Height: 16, Steps: 1}}, nil
	}
	if _, err := b.Render(context.Background(), job, func(float64) {}); err == nil || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Errorf("1 image for 2 items: %v", err)
	}
}
