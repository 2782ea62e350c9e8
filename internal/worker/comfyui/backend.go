package comfyui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// Request is what one Job asks ComfyUI to run.
type Request struct {
	Workflow json.RawMessage
	Inputs   []Input
}

// Backend runs Jobs on a ComfyUI server as a worker.Backend. Where a Job
// carries its workflow is the Job payload's business, not this package's:
// Resolve reads it (NewBackend's reads payload.request, the workflow the
// server substituted at enqueue). The Job's Items get the run's output images in order, one each.
type Backend struct {
	Client  *Client
	Resolve func(ctx context.Context, job worker.RenderJob) (Request, error)
}

// Render implements worker.Backend.
func (b Backend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	if b.Resolve == nil {
		return nil, aimg.Errorf(aimg.CodeInvalid, "this worker cannot read ComfyUI workflows from its jobs")
	}
	req, err := b.Resolve(ctx, job)
	if err != nil {
		return nil, err
	}
	outs, err := b.Client.Run(ctx, req.Workflow, req.Inputs, func(p Progress) {
		progress(p.Fraction)
		if p.Preview != nil {
			job.ShowPreview(0, p.Preview) // ComfyUI previews the batch's first image
		}
	})
	if err != nil {
		return nil, err
	}
	items := job.Job.ItemIDs
	if len(outs) != len(items) {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow produced %d images for %d items", len(outs), len(items))
	}
	result := make([]aimg.ItemOutput, len(items))
	for i, id := range items {
		o := outs[i]
		result[i] = aimg.ItemOutput{ItemID: id, Files: []aimg.OutputFile{{
			Name: o.Filename, ContentType: o.ContentType, Role: aimg.OutputImage, Data: o.Data,
		}}}
	}
	return result, nil
}

// InputFromJob reads the Job's input image (RenderJob.OpenInput) as an
// Input for nodeID, bounded by the client's MaxInputBytes.
func (b Backend) InputFromJob(ctx context.Context, job worker.RenderJob, nodeID string) (Input, error) {
	if job.OpenInput == nil {
		return Input{}, fmt.Errorf("job %s has an input but no way to read it", job.Job.ID)
	}
	rc, err := job.OpenInput(ctx)
	if err != nil {
		return Input{}, fmt.Errorf("open input: %w", err)
	}
	defer rc.Close()
	limit := b.Client.cfg.MaxInputBytes
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return Input{}, fmt.Errorf("read input: %w", err)
	}
	if int64(len(data)) > limit {
		return Input{}, aimg.Invalid("input", "the input image is larger than %d bytes", limit)
	}
	return Input{NodeID: nodeID, FileName: "input.png", Data: data}, nil
}
