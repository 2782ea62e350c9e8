// Package builtin is AIMG's backend that works on a laptop with nothing
// installed: a deterministic procedural renderer that draws abstract art from
// the prompt and seed on the CPU. It is not a diffusion model and needs no
// model weights.
//
// Determinism: the same Params give the same bytes on every platform. All
// randomness comes from a SHA-256 of the prompt and seed feeding a PCG
// generator, and pixel arithmetic is integer (fixed point) apart from square
// roots of integers, which IEEE 754 makes exact; so neither fused
// multiply-add nor platform-specific math routines can change a pixel.
// The only floating-point values (CFGScale, SubseedStrength) are rounded to
// fixed point once, up front.
//
// How the parameters show in the picture:
//   - Prompt: every word becomes a palette colour (colour words such as "red"
//     or "ocean" use their real colour, other words hash to a hue) and a shape
//     (sun/moon-like words draw discs, buildings squares, rivers bars, ...).
//   - NegPrompt: its words remove matching prompt words, and colour words
//     remove palette colours of a similar hue.
//   - Seed: the composition; Subseed with SubseedStrength blends a second
//     composition in (strength 0 ignores the subseed entirely).
//   - Steps: each step adds one octave of detail to the noise field, coarse to
//     fine, so more steps give a more detailed picture (and more real work).
//   - CFGScale: contrast and saturation. Sampler: the style family
//     (marble, ridges, terraces, silk). RestoreFaces: a smoothing pass.
//   - Input: blended in (img2img / image-to-video); its light and dark areas
//     also steer the palette.
//   - Video: a seamless loop of a slow camera orbit, palette drift and
//     bobbing shapes.
package builtin

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"

	"aimg/internal/aimg"
)

// Description is shown to operators and users choosing a backend.
const Description = "Procedural preview renderer: draws deterministic abstract art from the prompt and seed on the CPU. It is not a diffusion model."

// Limits of Params; Render rejects values outside them.
const (
	MinSize        = 16
	MaxSize        = 2048
	MaxSteps       = 150
	MaxFrames      = 120
	DefaultFrames  = 16
	MaxFPS         = 60
	DefaultFPS     = 8
	MaxCFGScale    = 30
	MaxVideoPixels = 32 << 20 // Width*Height*Frames: bounds the memory a video holds at once
)

// Params describe one render.
type Params struct {
	Prompt, NegPrompt string
	Seed, Subseed     int64
	SubseedStrength   float64 // 0..1: blends the subseed's variation in
	Steps             int     // 1..MaxSteps; progress is reported once per step
	CFGScale          float64 // 0..MaxCFGScale; contrast and saturation (7 is neutral-ish)
	Sampler           string  // selects the style family deterministically
	Width, Height     int     // MinSize..MaxSize each
	RestoreFaces      bool    // a smoothing pass
	Video             bool    // render an animation
	Frames            int     // video only; 0 => DefaultFrames; max MaxFrames
	FPS               int     // video only; 0 => DefaultFPS; max MaxFPS
	Input             image.Image
}

// File is one output of a render.
type File struct {
	Name          string // "image.png", "frame-0003.png", "animation.gif"
	ContentType   string // image/png or image/gif
	Data          []byte
	Width, Height int
	Role          string // RoleImage, RoleFrame or RoleAnimation
	FrameNumber   int    // frames only, 0-based
}

// Roles of output files.
const (
	RoleImage     = "image"     // the single output of an image job
	RoleFrame     = "frame"     // one PNG frame of a video job
	RoleAnimation = "animation" // the looping GIF of all frames of a video job
)

// Output holds the files of a render, in a stable order: the image, or the
// frames in order followed by the animation.
type Output struct{ Files []File }

// Render renders p.
//
// An image job yields one PNG File with Role "image". A video job yields
// p.Frames PNG frames (Role "frame") followed by one looping animated GIF of
// all of them (Role "animation").
//
// progress, when not nil, is called after every step with done counting up
// from 1 to total: total is p.Steps for an image and p.Steps*frames for a
// video (each frame renders all steps).
//
// Render returns ctx.Err() soon after ctx is cancelled (it checks between
// steps), and an *aimg.Error with code invalid naming the field when p is out
// of range.
func Render(ctx context.Context, p Params, progress func(done, total int)) (Output, error) {
	p, err := withDefaults(p)
	if err != nil {
		return Output{}, err
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	sc := newScene(p)
	r := newRenderer(sc)
	if !p.Video {
		img, err := r.frame(ctx, 0, false, func(step int) { progress(step, p.Steps) })
		if err != nil {
			return Output{}, err
		}
		data, err := encodePNG(img)
		if err != nil {
			return Output{}, err
		}
		return Output{Files: []File{{
			Name: "image.png", ContentType: "image/png", Data: data,
			Width: p.Width, Height: p.Height, Role: RoleImage,
		}}}, nil
	}

	total := p.Steps * p.Frames
	files := make([]File, 0, p.Frames+1)
	anim := newAnimation(p.Width, p.Height, p.Frames, p.FPS)
	for f := range p.Frames {
		phase := int64(f) * 65536 / int64(p.Frames)
		img, err := r.frame(ctx, phase, true, func(step int) { progress(f*p.Steps+step, total) })
		if err != nil {
			return Output{}, err
		}
		data, err := encodePNG(img)
		if err != nil {
			return Output{}, err
		}
		files = append(files, File{
			Name: fmt.Sprintf("frame-%04d.png", f), ContentType: "image/png", Data: data,
			Width: p.Width, Height: p.Height, Role: RoleFrame, FrameNumber: f,
		})
		anim.add(img)
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	gifData, err := anim.encode()
	if err != nil {
		return Output{}, err
	}
	files = append(files, File{
		Name: "animation.gif", ContentType: "image/gif", Data: gifData,
		Width: p.Width, Height: p.Height, Role: RoleAnimation,
	})
	return Output{Files: files}, nil
}

// withDefaults fills video defaults and validates p; errors name the field
// as the API spells it.
func withDefaults(p Params) (Params, error) {
	if p.Width < MinSize || p.Width > MaxSize {
		return p, aimg.Invalid("width", "must be between %d and %d, got %d", MinSize, MaxSize, p.Width)
	}
	if p.Height < MinSize || p.Height > MaxSize {
		return p, aimg.Invalid("height", "must be between %d and %d, got %d", MinSize, MaxSize, p.Height)
	}
	if p.Steps < 1 || p.Steps > MaxSteps {
		return p, aimg.Invalid("steps", "must be between 1 and %d, got %d", MaxSteps, p.Steps)
	}
	if math.IsNaN(p.CFGScale) || p.CFGScale < 0 || p.CFGScale > MaxCFGScale {
		return p, aimg.Invalid("cfgscale", "must be between 0 and %d, got %v", MaxCFGScale, p.CFGScale)
	}
	if math.IsNaN(p.SubseedStrength) || p.SubseedStrength < 0 || p.SubseedStrength > 1 {
		return p, aimg.Invalid("subseed_strength", "must be between 0 and 1, got %v", p.SubseedStrength)
	}
	if !p.Video {
		return p, nil
	}
	if p.Frames == 0 {
		p.Frames = DefaultFrames
	}
	if p.Frames < 1 || p.Frames > MaxFrames {
		return p, aimg.Invalid("frames", "must be between 1 and %d, got %d", MaxFrames, p.Frames)
	}
	if p.FPS == 0 {
		p.FPS = DefaultFPS
	}
	if p.FPS < 1 || p.FPS > MaxFPS {
		return p, aimg.Invalid("fps", "must be between 1 and %d, got %d", MaxFPS, p.FPS)
	}
	if int64(p.Width)*int64(p.Height)*int64(p.Frames) > MaxVideoPixels {
		return p, aimg.Invalid("frames", "width*height*frames must be at most %d, got %dx%dx%d", MaxVideoPixels, p.Width, p.Height, p.Frames)
	}
	return p, nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("builtin: encode png: %w", err)
	}
	return buf.Bytes(), nil
}
