package media_test

import (
	"errors"
	"image"
	"image/color"
	"testing"

	"aimg/internal/media"
)

func TestSquareCropKeepsCentre(t *testing.T) {
	t.Run("wide", func(t *testing.T) {
		out := media.SquareCrop(bands(600, 200, true), 64)
		if out.Bounds() != image.Rect(0, 0, 64, 64) {
			t.Fatalf("bounds = %v", out.Bounds())
		}
		assertAll(t, out, out.Bounds(), green, 0)
	})
	t.Run("tall", func(t *testing.T) {
		out := media.SquareCrop(bands(200, 600, false), 64)
		assertAll(t, out, out.Bounds(), green, 0)
	})
	t.Run("offset bounds", func(t *testing.T) {
		// A sub-image does not start at (0,0): the centre is relative to its bounds.
		big := bands(900, 300, true)
		sub := big.SubImage(image.Rect(300, 0, 900, 200)) // green then blue, 300 each
		out := media.SquareCrop(sub, 20)
		// The 200-wide centre square is x 500..700: green up to 600, blue after.
		assertAll(t, out, image.Rect(0, 0, 9, 20), green, 0)
		assertAll(t, out, image.Rect(11, 0, 20, 20), blue, 0)
	})
	t.Run("upscale", func(t *testing.T) {
		out := media.SquareCrop(bands(3, 1, true), 128)
		if out.Bounds().Dx() != 128 || out.Bounds().Dy() != 128 {
			t.Fatalf("bounds = %v", out.Bounds())
		}
		assertAll(t, out, out.Bounds(), green, 0)
	})
}

func TestResize(t *testing.T) {
	wide := bands(400, 200, true)  // 2:1
	tall := bands(10, 1000, false) // 1:100
	tests := []struct {
		name          string
		img           image.Image
		width, height int
		mode          string
		wantW, wantH  int
	}{
		{"fit width-bound", wide, 100, 100, "fit", 100, 50},
		{"fit height-bound", wide, 300, 50, "fit", 100, 50},
		{"fit is the default", wide, 100, 100, "", 100, 50},
		{"fit zero height", wide, 100, 0, "fit", 100, 50},
		{"fit zero width", wide, 0, 50, "fit", 100, 50},
		{"fill", wide, 100, 100, "fill", 100, 100},
		{"fill taller than source", wide, 50, 200, "fill", 50, 200},
		{"fill zero height keeps aspect", wide, 100, 0, "fill", 100, 50},
		{"fill zero width keeps aspect", wide, 0, 100, "fill", 200, 100},
		{"upscale", wide, 800, 800, "fit", 800, 400},
		{"derived side capped at 4096", tall, 100, 0, "fit", 41, 4096},
		{"max side", wide, 4096, 2, "fill", 4096, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := media.Resize(tt.img, tt.width, tt.height, tt.mode)
			if err != nil {
				t.Fatalf("Resize: %v", err)
			}
			if got := out.Bounds(); got.Dx() != tt.wantW || got.Dy() != tt.wantH {
				t.Fatalf("size = %dx%d, want %dx%d", got.Dx(), got.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
}

func TestResizeFillCropsCentre(t *testing.T) {
	out, err := media.Resize(bands(300, 100, true), 50, 50, "fill")
	if err != nil {
		t.Fatal(err)
	}
	assertAll(t, out, out.Bounds(), green, 0)

	out, err = media.Resize(bands(100, 300, false), 40, 20, "fill")
	if err != nil {
		t.Fatal(err)
	}
	// 100x300 filled to 2:1 keeps rows 125..175, all in the green middle band.
	assertAll(t, out, out.Bounds(), green, 0)
}

func TestResizeFitKeepsEverything(t *testing.T) {
	out, err := media.Resize(bands(300, 100, true), 30, 30, "fit")
	if err != nil {
		t.Fatal(err)
	}
	// 30x10: all three bands survive.
	assertAll(t, out, image.Rect(0, 0, 9, 10), red, 0)
	assertAll(t, out, image.Rect(11, 0, 19, 10), green, 0)
	assertAll(t, out, image.Rect(21, 0, 30, 10), blue, 0)
}

func TestResizeSameSizeReturnsImage(t *testing.T) {
	src := bands(40, 20, true)
	for _, mode := range []string{"fit", "fill"} {
		out, err := media.Resize(src, 40, 20, mode)
		if err != nil {
			t.Fatal(err)
		}
		if out != image.Image(src) {
			t.Errorf("%s to the same size made a copy", mode)
		}
	}
}

func TestResizeInvalid(t *testing.T) {
	src := bands(40, 20, true)
	tests := []struct {
		name          string
		width, height int
		mode          string
	}{
		{"both zero", 0, 0, "fit"},
		{"negative width", -1, 10, "fit"},
		{"negative height", 10, -5, "fill"},
		{"too wide", 4097, 10, "fit"},
		{"too high", 10, 5000, "fill"},
		{"unknown mode", 10, 10, "stretch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := media.Resize(src, tt.width, tt.height, tt.mode); !errors.Is(err, media.ErrInvalidSize) {
				t.Fatalf("Resize(%d, %d, %q) = %v, want ErrInvalidSize", tt.width, tt.height, tt.mode, err)
			}
		})
	}
	if _, err := media.Resize(image.NewNRGBA(image.Rect(0, 0, 0, 0)), 10, 10, "fit"); !errors.Is(err, media.ErrInvalidSize) {
		t.Fatalf("Resize of an empty image = %v, want ErrInvalidSize", err)
	}
}

// gradient returns a w x h image whose grey level rises from 0 at the left
// edge to 255 at the right.
func gradient(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*img.Stride+x] = uint8(x * 255 / (w - 1))
		}
	}
	return img
}

func TestSquareCropLargeShrinkIsFaithful(t *testing.T) {
	// 2048 -> 64 goes through the box pre-shrink, 200 -> 64 does not; both
	// must give each output column the mean grey of the columns it covers.
	for _, side := range []int{2048, 200} {
		out := media.SquareCrop(gradient(side, side), 64)
		for x := 2; x < 62; x++ { // the outermost columns see the clamped edge
			want := (float64(x) + 0.5) / 64 * 255
			for y := 0; y < 64; y++ {
				if got := float64(out.NRGBAAt(x, y).R); got < want-2 || got > want+2 {
					t.Fatalf("%d -> 64: pixel (%d,%d) = %v, want %.1f", side, x, y, got, want)
				}
			}
		}
	}
}

func TestSquareCropLargeShrinkKeepsCentre(t *testing.T) {
	// 3001 wide: the pre-shrink's leftover column must not shift the crop.
	out := media.SquareCrop(bands(3001, 1000, true), 64)
	assertAll(t, out, out.Bounds(), green, 0)
	out = media.SquareCrop(bands(1000, 3001, false), 64)
	assertAll(t, out, out.Bounds(), green, 0)
}

func TestSquareCropLargeShrinkKeepsTransparency(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 1000, 1000)) // transparent
	for y := 250; y < 750; y++ {
		for x := 250; x < 750; x++ {
			src.SetNRGBA(x, y, red)
		}
	}
	out := media.SquareCrop(src, 64)
	assertAll(t, out, image.Rect(0, 0, 64, 14), color.Transparent, 0)
	assertAll(t, out, image.Rect(18, 18, 46, 46), red, 0)
}

func TestResizeSweep(t *testing.T) {
	// Many shapes, with and without the box pre-shrink, on the image types
	// decoders return: every result has the promised size and stays in bounds.
	sources := []func(w, h int) image.Image{
		func(w, h int) image.Image { return image.NewNRGBA(image.Rect(0, 0, w, h)) },
		func(w, h int) image.Image { return image.NewRGBA(image.Rect(3, 5, 3+w, 5+h)) },
		func(w, h int) image.Image {
			return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		},
		func(w, h int) image.Image { return image.NewGray(image.Rect(0, 0, w, h)) },
	}
	sides := []int{1, 2, 3, 7, 63, 257} // 257 to 64 takes the pre-shrink
	for i, newImage := range sources {
		for _, sw := range sides {
			for _, sh := range sides {
				img := newImage(sw, sh)
				for _, tw := range []int{0, 1, 5, 64} {
					for _, th := range []int{0, 1, 9, 64} {
						if tw == 0 && th == 0 {
							continue
						}
						for _, mode := range []string{"fit", "fill"} {
							out, err := media.Resize(img, tw, th, mode)
							if err != nil {
								t.Fatalf("source %d %dx%d to %dx%d %s: %v", i, sw, sh, tw, th, mode, err)
							}
							b := out.Bounds()
							if b.Dx() < 1 || b.Dy() < 1 || (tw > 0 && b.Dx() > tw) || (th > 0 && b.Dy() > th) ||
								(mode == "fill" && tw > 0 && th > 0 && (b.Dx() != tw || b.Dy() != th)) {
								t.Fatalf("source %d %dx%d to %dx%d %s: got %v", i, sw, sh, tw, th, mode, b)
							}
						}
					}
				}
				sq := media.SquareCrop(img, 32)
				if sq.Bounds() != image.Rect(0, 0, 32, 32) {
					t.Fatalf("SquareCrop %dx%d: %v", sw, sh, sq.Bounds())
				}
			}
		}
	}
}
