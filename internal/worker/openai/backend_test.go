package openai_test

import (
	"context"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/openai"
	"aimg/internal/worker/openai/openaifake"
)

func TestBackendRendersAJob(t *testing.T) {
	fake := newFake(t, openaifake.Options{Key: key})
	c := newClient(t, fake, nil)
	job := worker.RenderJob{Job: &aimg.Job{ID: "j1", ItemIDs: []string{"i1", "i2"}}}
	n := 2
	b := openai.Backend{Client: c, Resolve: func(context.Context, worker.RenderJob) (openai.GenerateRequest, error) {
		return openai.GenerateRequest{Model: "dall-e-2", Prompt: "p", N: n, Size: "256x256", ResponseFormat: "b64_json"}, nil
	}}
	var last float64
	outs, err := b.Render(context.Background(), job, func(f float64) { last = f })
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].ItemID != "i1" || outs[1].Validate() != nil || last != 1 {
		t.Fatalf("outputs %+v, progress %v", outs, last)
	}
	n = 1
	if _, err := b.Render(context.Background(), job, func(float64) {}); aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Errorf("1 image for 2 items: %v", err)
	}
}
