package builtin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"strings"
	"testing"

	"aimg/internal/aimg"
)

func baseParams() Params {
	return Params{
		Prompt:    "a red sun over the blue ocean, sunset",
		NegPrompt: "blurry",
		Seed:      42,
		Steps:     6,
		CFGScale:  7,
		Sampler:   "DPM++ 2M Karras",
		Width:     96,
		Height:    64,
	}
}

func render(t *testing.T, p Params) Output {
	t.Helper()
	out, err := Render(context.Background(), p, nil)
	if err != nil {
		t.Fatalf("Render(%+v): %v", p, err)
	}
	return out
}

func imageData(t *testing.T, p Params) []byte {
	t.Helper()
	out := render(t, p)
	if len(out.Files) != 1 {
		t.Fatalf("image render gave %d files, want 1", len(out.Files))
	}
	return out.Files[0].Data
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	return img
}

func TestRenderIsDeterministic(t *testing.T) {
	p := baseParams()
	if a, b := imageData(t, p), imageData(t, p); !bytes.Equal(a, b) {
		t.Fatal("same params rendered different bytes")
	}
	video := p
	video.Video, video.Frames = true, 3
	video.Input = checkerboard(50, 30) // image-to-video
	a, b := render(t, video), render(t, video)
	for i := range a.Files {
		if !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
			t.Fatalf("video file %s differs between two renders", a.Files[i].Name)
		}
	}
}

// Every parameter that should show in the picture changes the bytes.
func TestParametersChangeTheImage(t *testing.T) {
	base := imageData(t, baseParams())
	changes := map[string]func(*Params){
		"seed":             func(p *Params) { p.Seed++ },
		"prompt":           func(p *Params) { p.Prompt = "a green forest with a river" },
		"negative prompt":  func(p *Params) { p.NegPrompt = "red" },
		"subseed":          func(p *Params) { p.Subseed, p.SubseedStrength = 7, 0.3 },
		"steps":            func(p *Params) { p.Steps = 12 },
		"cfg scale":        func(p *Params) { p.CFGScale = 11 },
		"sampler":          func(p *Params) { p.Sampler = "Euler a" },
		"restore faces":    func(p *Params) { p.RestoreFaces = true },
		"input image":      func(p *Params) { p.Input = checkerboard(40, 40) },
		"size (same seed)": func(p *Params) { p.Width = 64 },
	}
	for name, change := range changes {
		p := baseParams()
		change(&p)
		if bytes.Equal(imageData(t, p), base) {
			t.Errorf("changing the %s did not change the image", name)
		}
	}
}

func TestSubseedStrengthZeroIgnoresSubseed(t *testing.T) {
	p := baseParams()
	want := imageData(t, p)
	p.Subseed = 987654321
	p.SubseedStrength = 0
	if !bytes.Equal(imageData(t, p), want) {
		t.Fatal("a subseed with strength 0 changed the image")
	}
	// Different subseeds at a non-zero strength give different images.
	p.SubseedStrength = 0.5
	a := imageData(t, p)
	p.Subseed++
	if bytes.Equal(a, imageData(t, p)) {
		t.Fatal("two subseeds at strength 0.5 gave the same image")
	}
}

func TestNegativePromptRemovesColour(t *testing.T) {
	p := baseParams()
	p.Prompt = "red"
	p.Width, p.Height = 64, 64
	redShare := func(p Params) int {
		img := toNRGBA(decodePNG(t, imageData(t, p)))
		n := 0
		for i := 0; i < len(img.Pix); i += 4 {
			r, g, b := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
			if r > 120 && r > 2*g && r > 2*b {
				n++
			}
		}
		return n
	}
	with := redShare(p)
	p.NegPrompt = "red"
	without := redShare(p)
	if with == 0 || without*4 > with {
		t.Fatalf("red pixels: %d with prompt \"red\", %d with negative prompt \"red\" too; want far fewer", with, without)
	}
}

func TestImageOutput(t *testing.T) {
	p := baseParams()
	p.Width, p.Height = 72, 40 // not a multiple of 8, not square
	out := render(t, p)
	f := out.Files[0]
	if f.Name != "image.png" || f.ContentType != "image/png" || f.Role != RoleImage || f.Width != 72 || f.Height != 40 {
		t.Fatalf("file = %+v (without data)", File{Name: f.Name, ContentType: f.ContentType, Role: f.Role, Width: f.Width, Height: f.Height})
	}
	if b := decodePNG(t, f.Data).Bounds(); b.Dx() != 72 || b.Dy() != 40 {
		t.Fatalf("decoded size %v, want 72x40", b.Size())
	}
}

func TestVideoOutput(t *testing.T) {
	p := baseParams()
	p.Video, p.Frames, p.FPS = true, 5, 10
	out := render(t, p)
	if len(out.Files) != 6 {
		t.Fatalf("got %d files, want 5 frames and an animation", len(out.Files))
	}
	frames := map[string]bool{}
	for i, f := range out.Files[:5] {
		if f.Role != RoleFrame || f.FrameNumber != i || f.ContentType != "image/png" {
			t.Fatalf("file %d: role %q frame %d type %q", i, f.Role, f.FrameNumber, f.ContentType)
		}
		if b := decodePNG(t, f.Data).Bounds(); b.Dx() != p.Width || b.Dy() != p.Height {
			t.Fatalf("frame %d is %v", i, b.Size())
		}
		frames[string(f.Data)] = true
	}
	if len(frames) != 5 {
		t.Fatalf("only %d of 5 frames differ: the video does not move", len(frames))
	}
	anim := out.Files[5]
	if anim.Role != RoleAnimation || anim.ContentType != "image/gif" || anim.Name != "animation.gif" {
		t.Fatalf("animation file: %q %q %q", anim.Name, anim.Role, anim.ContentType)
	}
	g, err := gif.DecodeAll(bytes.NewReader(anim.Data))
	if err != nil {
		t.Fatalf("decode gif: %v", err)
	}
	if len(g.Image) != 5 || g.Config.Width != p.Width || g.Config.Height != p.Height {
		t.Fatalf("gif has %d frames of %dx%d, want 5 of %dx%d", len(g.Image), g.Config.Width, g.Config.Height, p.Width, p.Height)
	}
	if g.LoopCount != 0 || g.Delay[0] != 10 {
		t.Fatalf("gif loop count %d delay %d, want 0 (forever) and 10", g.LoopCount, g.Delay[0])
	}

	// Frame 0 of a video is the still image of the same parameters.
	still := p
	still.Video = false
	if !bytes.Equal(out.Files[0].Data, imageData(t, still)) {
		t.Fatal("frame 0 differs from the still image")
	}
}

func TestVideoDefaults(t *testing.T) {
	p := baseParams()
	p.Width, p.Height, p.Steps, p.Video = 32, 32, 1, true
	out := render(t, p)
	if len(out.Files) != DefaultFrames+1 {
		t.Fatalf("got %d files, want %d frames and an animation", len(out.Files), DefaultFrames)
	}
	g, err := gif.DecodeAll(bytes.NewReader(out.Files[DefaultFrames].Data))
	if err != nil {
		t.Fatal(err)
	}
	if want := (100 + DefaultFPS/2) / DefaultFPS; g.Delay[0] != want {
		t.Fatalf("delay %d, want %d", g.Delay[0], want)
	}
}

func TestProgress(t *testing.T) {
	for _, video := range []bool{false, true} {
		p := baseParams()
		p.Steps, p.Video, p.Frames = 7, video, 3
		var calls [][2]int
		if _, err := Render(context.Background(), p, func(done, total int) {
			calls = append(calls, [2]int{done, total})
		}); err != nil {
			t.Fatal(err)
		}
		total := 7
		if video {
			total = 21
		}
		if len(calls) != total {
			t.Fatalf("video=%v: %d progress calls, want %d", video, len(calls), total)
		}
		for i, c := range calls {
			if c != [2]int{i + 1, total} {
				t.Fatalf("video=%v: call %d was %v, want [%d %d]", video, i, c, i+1, total)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := baseParams()
	p.Width, p.Height, p.Steps = 256, 256, MaxSteps
	steps := 0
	_, err := Render(ctx, p, func(done, total int) {
		steps = done
		if done == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if steps != 2 {
		t.Fatalf("rendered %d steps after cancellation at step 2", steps)
	}

	// Already cancelled: nothing is rendered.
	called := false
	if _, err := Render(ctx, p, func(int, int) { called = true }); !errors.Is(err, context.Canceled) || called {
		t.Fatalf("cancelled context: err = %v, progress called = %v", err, called)
	}
}

func TestInvalidParams(t *testing.T) {
	cases := map[string]func(*Params){
		"width":            func(p *Params) { p.Width = MinSize - 1 },
		"height":           func(p *Params) { p.Height = MaxSize + 1 },
		"steps":            func(p *Params) { p.Steps = 0 },
		"cfgscale":         func(p *Params) { p.CFGScale = -1 },
		"subseed_strength": func(p *Params) { p.SubseedStrength = 1.5 },
		"frames":           func(p *Params) { p.Video, p.Frames = true, MaxFrames+1 },
		"fps":              func(p *Params) { p.Video, p.FPS = true, -1 },
	}
	for field, change := range cases {
		p := baseParams()
		change(&p)
		_, err := Render(context.Background(), p, nil)
		var e *aimg.Error
		if !errors.As(err, &e) || e.Code != aimg.CodeInvalid || e.Field != field || !strings.Contains(e.Message, field) {
			t.Errorf("%s: err = %v, want an invalid error naming %q", field, err, field)
		}
	}
	big := baseParams()
	big.Video, big.Width, big.Height, big.Frames = true, 2048, 2048, 120
	if _, err := Render(context.Background(), big, nil); aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Errorf("a 2048x2048x120 video: err = %v, want invalid", err)
	}
}

// TestGolden pins the pixels of one small render. If it fails, the renderer's
// output changed: make sure that was deliberate (users get different
// pictures for the same seed), then update the hash and preferably
// renderVersion. It hashes decoded pixels, not PNG bytes, so a change in Go's
// PNG compressor does not fail it.
func TestGolden(t *testing.T) {
	p := Params{
		Prompt: "golden ring portal, lavender sky", NegPrompt: "pink", Seed: 1234, Subseed: 99,
		SubseedStrength: 0.25, Steps: 8, CFGScale: 6.5, Sampler: "Euler a", Width: 48, Height: 32,
		RestoreFaces: true,
	}
	img := toNRGBA(decodePNG(t, imageData(t, p)))
	sum := sha256.Sum256(img.Pix)
	const want = "6995d8b80fbe1fe5f9c2fbe31d031f2596086a5b6c65e582dbd5c7d47f51ac7e"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("pixels sha256 = %s, want %s", got, want)
	}
}

func toNRGBA(img image.Image) *image.NRGBA {
	out := image.NewNRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

func checkerboard(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x/8+y/8)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 230})
			}
		}
	}
	return img
}

func TestInputIsBlendedIn(t *testing.T) {
	p := baseParams()
	p.Width, p.Height = 64, 64
	p.Input = checkerboard(128, 128) // shrunk 2:1, so 4x4 pixel squares
	img := toNRGBA(decodePNG(t, imageData(t, p)))
	// Light squares of the checkerboard are lighter on average than dark ones.
	var light, dark int
	for y := range 64 {
		for x := range 64 {
			o := img.PixOffset(x, y)
			lum := int(img.Pix[o]) + int(img.Pix[o+1]) + int(img.Pix[o+2])
			if (x/4+y/4)%2 == 0 {
				light += lum
			} else {
				dark += lum
			}
		}
	}
	if light < dark*3/2 {
		t.Fatalf("light squares sum %d, dark %d: the input does not show", light, dark)
	}
}

func FuzzRenderParams(f *testing.F) {
	f.Add("a red sun", "blue", int64(1), int64(2), 0.5, 3, 7.0, "Euler a", 16, 16)
	f.Add("", "", int64(-1), int64(0), 0.0, 1, 0.0, "", 17, 23)
	f.Fuzz(func(t *testing.T, prompt, neg string, seed, subseed int64, strength float64, steps int, cfg float64, sampler string, w, h int) {
		p := Params{Prompt: prompt, NegPrompt: neg, Seed: seed, Subseed: subseed, SubseedStrength: strength,
			Steps: steps, CFGScale: cfg, Sampler: sampler, Width: w, Height: h}
		if w > 64 || h > 64 || steps > 4 {
			return // keep the fuzzer fast; the sizes are checked elsewhere
		}
		out, err := Render(context.Background(), p, nil)
		if err != nil {
			if aimg.ErrorCode(err) != aimg.CodeInvalid {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if b := decodePNG(t, out.Files[0].Data).Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("size %v, want %dx%d", b.Size(), w, h)
		}
	})
}

func BenchmarkRender512(b *testing.B) {
	p := baseParams()
	p.Width, p.Height, p.Steps = 512, 512, 20
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(context.Background(), p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderVideo(b *testing.B) {
	p := baseParams()
	p.Width, p.Height, p.Steps, p.Video, p.Frames = 256, 256, 20, true, 16
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(context.Background(), p, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// An input whose bounds do not start at the origin is read from its bounds.
func TestInputBoundsOffset(t *testing.T) {
	p := baseParams()
	p.Input = checkerboard(40, 40)
	want := imageData(t, p)
	big := image.NewGray(image.Rect(0, 0, 60, 60))
	draw.Draw(big, image.Rect(10, 10, 50, 50), p.Input, image.Point{}, draw.Src)
	p.Input = big.SubImage(image.Rect(10, 10, 50, 50))
	if !bytes.Equal(imageData(t, p), want) {
		t.Fatal("the same input at another origin gave a different image")
	}
}
