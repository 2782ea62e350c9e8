package builtin

import (
	"context"
)

// Live previews: while a Job renders, the backend offers now and then a
// small render of the same scene with the steps done so far. The scene's
// composition does not depend on the resolution, so the preview looks like
// the picture to come, only coarser and less detailed.

// PreviewSize is the longer side of a preview, in pixels.
const PreviewSize = 128

// previewsPerItem is about how many previews one Item offers.
const previewsPerItem = 5

// previewEvery is the step cadence of the previews of a render of steps.
func previewEvery(steps int) int { return max(1, steps/previewsPerItem) }

// wantPreview tells whether a preview is due after step done of total
// (never after the last: the image itself comes next).
func wantPreview(done, total int) bool {
	return done < total && done%previewEvery(total) == 0
}

// Preview renders p at PreviewSize with its first steps steps, as a PNG
// (the first frame of a video).
func Preview(ctx context.Context, p Params, steps int) ([]byte, error) {
	long := max(p.Width, p.Height)
	scale := func(v int) int { return max(MinSize, v*PreviewSize/max(long, 1)) }
	if long > PreviewSize {
		p.Width, p.Height = scale(p.Width), scale(p.Height)
	}
	p.Steps = min(max(steps, 1), MaxSteps)
	p.Video = false
	out, err := Render(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	return out.Files[0].Data, nil
}
