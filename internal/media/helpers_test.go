package media_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
	"time"

	"github.com/HugoSmits86/nativewebp"

	"aimg/internal/media"
)

var (
	red   = color.NRGBA{R: 255, A: 255}
	green = color.NRGBA{G: 255, A: 255}
	blue  = color.NRGBA{B: 255, A: 255}
)

// bands returns a w x h image cut in three equal bands, red, green and blue:
// left to right when horizontal, top to bottom otherwise.
func bands(w, h int, horizontal bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			pos, length := y, h
			if horizontal {
				pos, length = x, w
			}
			c := []color.NRGBA{red, green, blue}[pos*3/length]
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// encodeAs encodes img with the standard encoders, or nativewebp for "webp".
func encodeAs(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&buf, img, nil)
	case "webp":
		err = nativewebp.Encode(&buf, img, nil)
	default:
		t.Fatalf("encodeAs: unknown format %q", format)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return buf.Bytes()
}

// allocatedBytes returns how many bytes of heap f allocates.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// near reports whether two colours differ by at most tol in every channel.
func near(a, b color.Color, tol int) bool {
	n1 := color.NRGBAModel.Convert(a).(color.NRGBA)
	n2 := color.NRGBAModel.Convert(b).(color.NRGBA)
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(n1.R, n2.R) && d(n1.G, n2.G) && d(n1.B, n2.B) && d(n1.A, n2.A)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// assertAll checks that every pixel of img inside r is within tol of want.
func assertAll(t *testing.T, img image.Image, r image.Rectangle, want color.Color, tol int) {
	t.Helper()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if got := img.At(x, y); !near(got, want, tol) {
				t.Fatalf("pixel (%d,%d) = %v, want %v (tolerance %d)", x, y, color.NRGBAModel.Convert(got), want, tol)
			}
		}
	}
}

// testDecoder is a Decoder with a generous budget, for tests that are not
// about the budget.
var testDecoder = func() *media.Decoder {
	d, err := media.NewDecoder(media.DecoderConfig{
		MaxDecodedBytes: 1 << 30, MaxInFlightBytes: 1 << 30, MaxConcurrent: 8, MaxWait: time.Minute,
	})
	if err != nil {
		panic(err)
	}
	return d
}()

// profilePicture is the profile picture path with testDecoder and the
// spec's limits.
func profilePicture(uri string) (string, error) {
	return testDecoder.ProfilePicture(context.Background(), uri, media.ProfilePictureLimits())
}
