package generation_test

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/HugoSmits86/nativewebp"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// The preview budgets: PNG, JPEG and WebP within the size and pixel
// bounds pass with their sniffed type; anything else is an invalid error
// that says which budget it broke.
func TestCheckPreview(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pngData := enc(func(b *bytes.Buffer) error { return png.Encode(b, img) })
	for ct, data := range map[string][]byte{
		"image/png":  pngData,
		"image/jpeg": enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) }),
		"image/webp": enc(func(b *bytes.Buffer) error { return nativewebp.Encode(b, img, nil) }),
	} {
		if got, err := generation.CheckPreview(data); err != nil || got != ct {
			t.Errorf("%s: %q %v", ct, got, err)
		}
	}
	wide := enc(func(b *bytes.Buffer) error { return png.Encode(b, image.NewGray(image.Rect(0, 0, 4096, 257))) })
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":       {nil, "is empty"},
		"too big":     {append(pngData, make([]byte, generation.MaxPreviewBytes)...), "more than the 262144 allowed"},
		"a GIF":       {enc(func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) }), "image/gif, not a PNG, JPEG or WebP"},
		"HTML":        {[]byte("<html><script>alert(1)</script>"), "not a PNG, JPEG or WebP"},
		"a cut PNG":   {pngData[:20], "not a readable image/png"},
		"many pixels": {wide, "4096×257 pixels, more than the 1048576 allowed"},
	} {
		_, err := generation.CheckPreview(c.data)
		if aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid error saying %q", name, err, c.want)
		}
	}
}
