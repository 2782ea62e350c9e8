package worker

import (
	"context"
	"fmt"
	"image"
	_ "image/gif" // input images may be GIFs (first frame)
	_ "image/jpeg"
	_ "image/png"
	"math"

	"aimg/internal/aimg"
	"aimg/internal/worker/builtin"
)

// Builtin is the Backend of the built-in procedural renderer.
type Builtin struct{}

// Render renders each Item of the Job in turn; the Items of a batch get
// consecutive seeds.
func (Builtin) Render(ctx context.Context, job RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	pl := job.Payload
	if pl.Backend != "" && pl.Backend != aimg.BackendBuiltin {
		return nil, aimg.Invalid("backend", "this worker renders %q jobs, not %q", aimg.BackendBuiltin, pl.Backend)
	}
	gp := pl.Params
	params := builtin.Params{
		Prompt: pl.Prompt, NegPrompt: pl.NegPrompt, Subseed: gp.Subseed, SubseedStrength: gp.SubseedStrength,
		Steps: gp.Steps, CFGScale: gp.CFGScale, Sampler: gp.Sampler, Width: gp.Width, Height: gp.Height,
		RestoreFaces: gp.RestoreFaces, Video: pl.Kind == aimg.MTypeVideo, Frames: gp.Frames, FPS: pl.FPS,
	}
	if pl.InputFileID != "" {
		img, err := readInput(ctx, job)
		if err != nil {
			return nil, err
		}
		params.Input = img
	}
	n := len(job.Job.ItemIDs)
	outputs := make([]aimg.ItemOutput, 0, n)
	for i, itemID := range job.Job.ItemIDs {
		params.Seed = gp.Seed + int64(i)
		out, err := builtin.Render(ctx, params, func(done, total int) {
			progress((float64(i) + float64(done)/float64(total)) / float64(n))
		})
		if err != nil {
			return nil, err
		}
		io := aimg.ItemOutput{ItemID: itemID}
		for _, f := range out.Files {
			role := aimg.OutputImage
			switch f.Role {
			case builtin.RoleFrame:
				role = aimg.OutputFrame
			case builtin.RoleAnimation:
				role = aimg.OutputAnimation
			}
			io.Files = append(io.Files, aimg.OutputFile{
				Name: f.Name, ContentType: f.ContentType, Role: role, FrameNumber: f.FrameNumber, Data: f.Data,
			})
		}
		outputs = append(outputs, io)
	}
	return outputs, nil
}

func readInput(ctx context.Context, job RenderJob) (image.Image, error) {
	if job.OpenInput == nil {
		return nil, fmt.Errorf("job %s has an input but no way to read it", job.Job.ID)
	}
	rc, err := job.OpenInput(ctx)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	defer rc.Close()
	img, _, err := image.Decode(rc)
	if err != nil {
		return nil, aimg.Invalid("input", "the input image cannot be decoded: %v", err)
	}
	return img, nil
}

func floatBits(f float64) uint64 { return math.Float64bits(f) }

func floatFrom(b uint64) float64 { return math.Float64frombits(b) }
