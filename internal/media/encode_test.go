package media_test

import (
	"bytes"
	"errors"
	"image"
	"testing"

	"aimg/internal/media"
)

func TestEncodeRoundTrip(t *testing.T) {
	src := bands(60, 30, true)
	tests := []struct{ format, want string }{
		{"png", "png"}, {"jpeg", "jpeg"}, {"jpg", "jpeg"}, {"gif", "gif"}, {"webp", "webp"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := media.Encode(&buf, src, tt.format); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			img, format, err := media.Decode(buf.Bytes(), media.Limits{})
			if err != nil || format != tt.want {
				t.Fatalf("Decode = %q, %v; want %q", format, err, tt.want)
			}
			if img.Bounds() != src.Bounds() {
				t.Fatalf("bounds = %v", img.Bounds())
			}
			tol := 0
			if tt.want == "jpeg" || tt.want == "gif" { // lossy, or quantised to a palette
				tol = 24
			}
			assertAll(t, img, image.Rect(24, 4, 36, 26), green, tol)
		})
	}
}

func TestEncodeUnsupported(t *testing.T) {
	err := media.Encode(&bytes.Buffer{}, bands(3, 3, true), "bmp")
	if !errors.Is(err, media.ErrUnsupported) {
		t.Fatalf("Encode bmp = %v, want ErrUnsupported", err)
	}
}

func TestEncodeWebPLossless(t *testing.T) {
	src := bands(33, 17, false)
	data, err := media.EncodeWebP(src)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := media.Decode(data, media.Limits{})
	if err != nil || format != "webp" {
		t.Fatalf("Decode = %q, %v", format, err)
	}
	for y := 0; y < 17; y++ {
		for x := 0; x < 33; x++ {
			if !near(img.At(x, y), src.At(x, y), 0) {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, img.At(x, y), src.At(x, y))
			}
		}
	}
}

func TestEncodeWebPEmpty(t *testing.T) {
	if _, err := media.EncodeWebP(image.NewNRGBA(image.Rect(0, 0, 0, 5))); err == nil {
		t.Fatal("EncodeWebP of an empty image succeeded")
	}
}
