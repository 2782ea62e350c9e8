package a1111

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// DefaultMaxInitImageBytes bounds an init image read from the Job's input.
const DefaultMaxInitImageBytes = 32 << 20

// Request is what one Job asks the web UI: exactly one of Txt2Img, Img2Img.
type Request struct {
	Txt2Img *Txt2ImgRequest
	Img2Img *Img2ImgRequest
}

// Backend runs Jobs on an AUTOMATIC1111 server as a worker.Backend. Where a
// Job carries its request body is the Job payload's business: Resolve reads
// it (NewBackend's reads payload.request, the body the server resolved). The
// Job's Items get the answer's images in order, one each; images beyond
// them (an extension's extra outputs) are dropped.
type Backend struct {
	Client  *Client
	Resolve func(ctx context.Context, job worker.RenderJob) (Request, error)
}

// Render implements worker.Backend.
func (b Backend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	if b.Resolve == nil {
		return nil, aimg.Errorf(aimg.CodeInvalid, "this worker cannot read AUTOMATIC1111 requests from its jobs")
	}
	req, err := b.Resolve(ctx, job)
	if err != nil {
		return nil, err
	}
	// One task id per attempt: an abandoned earlier attempt may still be
	// queued on the server under its own.
	taskID := fmt.Sprintf("aimg-%s-%d", job.Job.ID, job.Job.Attempts)
	report := func(p Progress) {
		progress(p.Fraction)
		if p.Preview != nil {
			job.ShowPreview(0, p.Preview) // A1111 previews the batch's current image
		}
	}
	var res Result
	switch {
	case req.Txt2Img != nil && req.Img2Img == nil:
		r := *req.Txt2Img
		if r.ForceTaskID == "" {
			r.ForceTaskID = taskID
		}
		res, err = b.Client.Txt2Img(ctx, r, report)
	case req.Img2Img != nil && req.Txt2Img == nil:
		r := *req.Img2Img
		if r.ForceTaskID == "" {
			r.ForceTaskID = taskID
		}
		res, err = b.Client.Img2Img(ctx, r, report)
	default:
		return nil, aimg.Errorf(aimg.CodeInvalid, "an AUTOMATIC1111 job needs exactly one of txt2img and img2img")
	}
	if err != nil {
		return nil, err
	}
	items := job.Job.ItemIDs
	if len(res.Images) < len(items) {
		// The web UI answers with fewer images when someone interrupted it.
		return nil, fmt.Errorf("a1111: %d images for %d items (was the render interrupted on the server?)", len(res.Images), len(items))
	}
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

// InitImageFromJob reads the Job's input image (RenderJob.OpenInput), at
// most DefaultMaxInitImageBytes, as an init_images entry (base64).
func InitImageFromJob(ctx context.Context, job worker.RenderJob) (string, error) {
	if job.OpenInput == nil {
		return "", fmt.Errorf("job %s has an input but no way to read it", job.Job.ID)
	}
	rc, err := job.OpenInput(ctx)
	if err != nil {
		return "", fmt.Errorf("open input: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, DefaultMaxInitImageBytes+1))
	if err != nil {
		return "", fmt.Errorf("read input: %w", err)
	}
	if len(data) > DefaultMaxInitImageBytes {
		return "", aimg.Invalid("input", "the input image is larger than %d bytes", DefaultMaxInitImageBytes)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}
