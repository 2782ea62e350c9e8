package openai

import (
	"context"
	"fmt"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// Backend runs Jobs on an OpenAI-compatible server as a worker.Backend.
// Resolve reads the Job's images request (NewBackend's reads
// payload.request, resolved by the server at enqueue); the Job's Items get the answer's images in order, one each.
// The API reports no progress: 0 until the answer, then 1.
type Backend struct {
	Client  *Client
	Resolve func(ctx context.Context, job worker.RenderJob) (GenerateRequest, error)
}

// Render implements worker.Backend.
func (b Backend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	if b.Resolve == nil {
		return nil, aimg.Errorf(aimg.CodeInvalid, "this worker cannot read OpenAI image requests from its jobs")
	}
	req, err := b.Resolve(ctx, job)
	if err != nil {
		return nil, err
	}
	res, err := b.Client.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	items := job.Job.ItemIDs
	if len(res.Images) < len(items) {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the server returned %d images for %d items (n=%d)", len(res.Images), len(items), req.N)
	}
	progress(1)
	out := make([]aimg.ItemOutput, len(items))
	for i, id := range items {
		img := res.Images[i]
		out[i] = aimg.ItemOutput{ItemID: id, Files: []aimg.OutputFile{{
			Name: fmt.Sprintf("image-%d.%s", i, strings.TrimPrefix(img.ContentType, "image/")), ContentType: img.ContentType,
			Role: aimg.OutputImage, Data: img.Data,
		}}}
	}
	return out, nil
}
