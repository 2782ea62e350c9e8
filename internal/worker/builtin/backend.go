package builtin

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // input images may be GIFs (first frame)
	_ "image/jpeg"
	_ "image/png"
	"io"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/media"
	"aimg/internal/worker"
)

// Registration is the built-in renderer as a worker backend: its name, the
// description every Model it serves carries, its limits on Model settings
// and its in-process Backend.
func Registration() worker.Registration {
	return worker.Registration{
		Name:        aimg.BackendBuiltin,
		Description: Description,
		CheckModel:  CheckModel,
		New:         func() worker.Backend { return Backend{} },
	}
}

// CheckModel reports the Model settings beyond the renderer's limits, each
// error starting with the field name.
func CheckModel(m aimg.Model) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if m.MaxSteps > MaxSteps {
		bad("maxSteps", "must be <= %d", MaxSteps)
	}
	for _, list := range []struct {
		name  string
		sizes []int
	}{{"allowedWidths", m.AllowedWidths}, {"allowedHeights", m.AllowedHeights}} {
		for j, v := range list.sizes {
			if v < MinSize || v > MaxSize {
				bad(fmt.Sprintf("%s[%d]", list.name, j), "must be between %d and %d, got %d", MinSize, MaxSize, v)
			}
		}
	}
	if m.Kind == aimg.MTypeVideo {
		if m.Frames > MaxFrames {
			bad("frames", "must be between 1 and %d, got %d", MaxFrames, m.Frames)
		}
		if m.FPS > MaxFPS {
			bad("fps", "must be between 1 and %d, got %d", MaxFPS, m.FPS)
		}
		if len(m.DefaultResolution) == 2 {
			w, h := m.DefaultResolution[0], m.DefaultResolution[1]
			if int64(w)*int64(h)*int64(m.Frames) > MaxVideoPixels {
				bad("frames", "width*height*frames must be at most %d", MaxVideoPixels)
			}
		}
	}
	return errs
}

// Backend is the in-process Backend of the built-in procedural renderer.
type Backend struct {
	// Delay, for tests only (aimg worker's AIMG_WORKER_BUILTIN_DELAY), is
	// slept before each Job renders: a stand-in for a GPU's render time,
	// so that a test can kill a worker while it holds leases. Zero (the
	// default) renders at once.
	Delay time.Duration
}

// Render renders each Item of the Job in turn; the Items of a batch get
// consecutive seeds.
func (b Backend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	if b.Delay > 0 {
		t := time.NewTimer(b.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	pl := job.Payload
	if pl.Backend != "" && pl.Backend != aimg.BackendBuiltin {
		return nil, aimg.Invalid("backend", "this worker renders %q jobs, not %q", aimg.BackendBuiltin, pl.Backend)
	}
	gp := pl.Params
	params := Params{
		Prompt: pl.Prompt, NegPrompt: pl.NegPrompt, Subseed: gp.Subseed, SubseedStrength: gp.SubseedStrength,
		Steps: gp.Steps, CFGScale: gp.CFGScale, Sampler: gp.Sampler, Width: gp.Width, Height: gp.Height,
		RestoreFaces: gp.RestoreFaces, Video: pl.Kind == aimg.MTypeVideo, Frames: gp.Frames, FPS: pl.FPS,
	}
	if pl.Workflow != nil {
		// An API2 workflow Job: its values were checked against its
		// template, whose ranges may exceed the renderer's (an operator's
		// template); the preview is drawn within the renderer's limits.
		params.Width, params.Height = min(max(params.Width, MinSize), MaxSize), min(max(params.Height, MinSize), MaxSize)
		params.Steps = min(max(params.Steps, 1), MaxSteps)
		params.CFGScale = min(max(params.CFGScale, 0), MaxCFGScale)
		params.SubseedStrength = min(max(params.SubseedStrength, 0), 1)
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
		out, err := Render(ctx, params, func(done, total int) {
			progress((float64(i) + float64(done)/float64(total)) / float64(n))
			if job.Preview != nil && wantPreview(done, total) {
				// A video's steps run once per frame: its preview is the
				// still scene with the steps done in the current frame.
				if data, err := Preview(ctx, params, (done-1)%params.Steps+1); err == nil {
					job.ShowPreview(i, data)
				}
			}
		})
		if err != nil {
			return nil, err
		}
		io := aimg.ItemOutput{ItemID: itemID}
		for _, f := range out.Files {
			role := aimg.OutputImage
			switch f.Role {
			case RoleFrame:
				role = aimg.OutputFrame
			case RoleAnimation:
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

// Budget of an input image (image-to-video): the bytes read, and the memory
// its decode may take, estimated from its header before decoding (a 16-bit
// RGBA image at the renderer's largest side). Inputs are the user's own
// completed Items today, but a Job's input must not be able to exhaust a
// worker either.
const (
	maxInputBytes        = 64 << 20
	maxInputDecodedBytes = int64(MaxSize) * MaxSize * 8
)

func readInput(ctx context.Context, job worker.RenderJob) (image.Image, error) {
	if job.OpenInput == nil {
		return nil, fmt.Errorf("job %s has an input but no way to read it", job.Job.ID)
	}
	rc, err := job.OpenInput(ctx)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	if len(data) > maxInputBytes {
		return nil, aimg.Invalid("input", "the input image is larger than %d bytes", maxInputBytes)
	}
	info, err := media.Inspect(data)
	if err != nil {
		return nil, aimg.Invalid("input", "the input image cannot be decoded: %v", err)
	}
	if info.DecodedBytes > maxInputDecodedBytes {
		return nil, aimg.Invalid("input", "the input image (%dx%d %s) would take %d bytes to decode, more than %d",
			info.Width, info.Height, info.Format, info.DecodedBytes, maxInputDecodedBytes)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, aimg.Invalid("input", "the input image cannot be decoded: %v", err)
	}
	return img, nil
}
