package media_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/image/webp"

	"aimg/internal/media"
)

// decodeProfile checks the shape of a ProfilePicture result and returns its image.
func decodeProfile(t *testing.T, uri string) image.Image {
	t.Helper()
	const prefix = "data:image/webp;base64,"
	if !strings.HasPrefix(uri, prefix) {
		t.Fatalf("result starts %q, want %q", uri[:min(len(uri), 40)], prefix)
	}
	mt, data, err := media.ParseDataURI(uri, 0)
	if err != nil || mt != "image/webp" {
		t.Fatalf("result does not parse: %q, %v", mt, err)
	}
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("result is not WebP: %v", err)
	}
	if img.Bounds() != image.Rect(0, 0, 128, 128) {
		t.Fatalf("result is %v, want 128x128", img.Bounds())
	}
	return img
}

func TestProfilePictureEveryFormat(t *testing.T) {
	for _, format := range formats {
		for _, horizontal := range []bool{true, false} {
			name := format + "/tall"
			src := bands(200, 600, false)
			if horizontal {
				name = format + "/wide"
				src = bands(600, 200, true)
			}
			t.Run(name, func(t *testing.T) {
				uri := media.DataURI("image/"+format, encodeAs(t, src, format))
				out, err := profilePicture(uri)
				if err != nil {
					t.Fatalf("ProfilePicture: %v", err)
				}
				img := decodeProfile(t, out)
				if format == "jpeg" {
					// JPEG bleeds the neighbouring bands into the crop's edges.
					assertAll(t, img, image.Rect(6, 6, 122, 122), green, 24)
				} else {
					assertAll(t, img, img.Bounds(), green, 0)
				}
			})
		}
	}
}

func TestProfilePictureKeepsTransparency(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 50, 50)) // all transparent
	src.SetNRGBA(25, 25, red)
	out, err := profilePicture(media.DataURI("image/png", encodeAs(t, src, "png")))
	if err != nil {
		t.Fatal(err)
	}
	img := decodeProfile(t, out)
	assertAll(t, img, image.Rect(0, 0, 128, 20), color.Transparent, 0)
}

func TestProfilePictureDeclaredTypeIsIgnored(t *testing.T) {
	png := encodeAs(t, bands(30, 30, true), "png")
	if out, err := profilePicture(media.DataURI("image/jpeg", png)); err != nil {
		t.Fatalf("PNG declared as JPEG: %v", err)
	} else {
		decodeProfile(t, out)
	}
	_, err := profilePicture(media.DataURI("image/png", []byte("just some text, not a picture")))
	if !errors.Is(err, media.ErrUnsupported) {
		t.Fatalf("text declared as PNG: %v, want ErrUnsupported", err)
	}
}

func TestProfilePictureRefusals(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want error
	}{
		{"empty", "", media.ErrInvalidDataURI},
		{"no base64", "data:image/png,abc", media.ErrInvalidDataURI},
		{"bad base64", "data:image/png;base64,@@@@", media.ErrInvalidDataURI},
		{"url instead of data", "https://example.com/me.png", media.ErrInvalidDataURI},
		{"over 10 MiB", media.DataURI("image/png", make([]byte, 10<<20+1)), media.ErrTooLarge},
		{"over 40 megapixels", media.DataURI("image/png", bigHeader(t, "png", 8000, 5001)), media.ErrTooLarge},
		{"corrupt", media.DataURI("image/jpeg", encodeAs(t, bands(64, 64, true), "jpeg")[:300]), media.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := profilePicture(tt.uri); !errors.Is(err, tt.want) {
				t.Fatalf("ProfilePicture = %v, want %v", err, tt.want)
			}
		})
	}
	// Exactly 40 megapixels is allowed past the limit check (and then fails on
	// the missing pixel data, not on size).
	_, err := profilePicture(media.DataURI("image/png", bigHeader(t, "png", 8000, 5000)))
	if errors.Is(err, media.ErrTooLarge) || !errors.Is(err, media.ErrCorrupt) {
		t.Fatalf("40 MP header = %v, want ErrCorrupt", err)
	}
}

// photo returns a w x h image with smooth gradients and noise, closer to a
// real photograph than flat bands (which JPEG compresses unrealistically well).
func photo(w, h int) *image.NRGBA {
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(rng.IntN(32))
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x*255/w) + n, G: uint8(y*255/h) + n, B: uint8((x+y)%256) / 2, A: 255})
		}
	}
	return img
}

func BenchmarkProfilePicture(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo(1024, 768), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	uri := media.DataURI("image/jpeg", buf.Bytes())
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := profilePicture(uri); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProfilePictureStages shows where BenchmarkProfilePicture spends its time.
func BenchmarkProfilePictureStages(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo(1024, 768), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	uri := media.DataURI("image/jpeg", buf.Bytes())
	img, _, err := media.Decode(buf.Bytes(), media.ProfilePictureLimits())
	if err != nil {
		b.Fatal(err)
	}
	square := media.SquareCrop(img, 128)
	b.Run("ParseDataURI", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := media.ParseDataURI(uri, media.ProfilePictureMaxBytes); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := media.Decode(buf.Bytes(), media.ProfilePictureLimits()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SquareCrop", func(b *testing.B) {
		for b.Loop() {
			media.SquareCrop(img, 128)
		}
	})
	b.Run("EncodeWebP", func(b *testing.B) {
		for b.Loop() {
			if _, err := media.EncodeWebP(square); err != nil {
				b.Fatal(err)
			}
		}
	})
}
