package builtin

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

func inputJob(data []byte) worker.RenderJob {
	return worker.RenderJob{
		Job: &aimg.Job{ID: "j1", ItemIDs: []string{"i1"}},
		Payload: aimg.JobPayload{Backend: aimg.BackendBuiltin, Kind: aimg.MTypeImage, InputFileID: "f1",
			Params: aimg.GenerationParams{Steps: 1, Width: 64, Height: 64, CFGScale: 7}},
		OpenInput: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// An input image whose decode would take more memory than the renderer
// could ever need is refused from its header, before it is decoded.
func TestInputImageDecodeBudget(t *testing.T) {
	var deep bytes.Buffer
	// 16-bit RGBA 4096x4096: 128 MiB decoded, a few KB encoded (flat).
	if err := png.Encode(&deep, image.NewNRGBA64(image.Rect(0, 0, 4096, 4096))); err != nil {
		t.Fatal(err)
	}
	_, err := Backend{}.Render(context.Background(), inputJob(deep.Bytes()), func(float64) {})
	if aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), "to decode") {
		t.Fatalf("a deep 4096x4096 input: %v, want an invalid-input error about its decode", err)
	}

	var ok bytes.Buffer
	if err := png.Encode(&ok, image.NewNRGBA(image.Rect(0, 0, 256, 256))); err != nil {
		t.Fatal(err)
	}
	if _, err := (Backend{}).Render(context.Background(), inputJob(ok.Bytes()), func(float64) {}); err != nil {
		t.Fatalf("an ordinary input: %v", err)
	}
}

// The test-only Delay waits before rendering and gives way to the Job's
// end: a worker stopped (or a Job cancelled) during it renders nothing.
func TestDelayEndsWithTheJob(t *testing.T) {
	job := worker.RenderJob{
		Job: &aimg.Job{ID: "j1", ItemIDs: []string{"i1"}},
		Payload: aimg.JobPayload{Backend: aimg.BackendBuiltin, Kind: aimg.MTypeImage,
			Params: aimg.GenerationParams{Steps: 1, Width: 64, Height: 64, CFGScale: 7}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := Backend{Delay: time.Hour}.Render(ctx, job, func(float64) {})
	if !errors.Is(err, context.Canceled) || out != nil {
		t.Fatalf("Render during its delay with the Job ended: %d outputs, %v; want none and context.Canceled", len(out), err)
	}
}
