package media

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/HugoSmits86/nativewebp"
)

// JPEGQuality is the quality Encode uses for JPEG.
const JPEGQuality = 90

// maxWebPSide is the largest side the WebP lossless bitstream can describe
// (14 bits for width - 1 and height - 1).
const maxWebPSide = 1 << 14

// EncodeWebP encodes img as lossless WebP (VP8L).
func EncodeWebP(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeWebP(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeWebP(w io.Writer, img image.Image) error {
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > maxWebPSide || b.Dy() > maxWebPSide {
		return fmt.Errorf("encode webp: %dx%d is outside 1..%d per side", b.Dx(), b.Dy(), maxWebPSide)
	}
	// nativewebp ignores errors from w, so encode into memory and copy.
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, img, nil); err != nil {
		return fmt.Errorf("encode webp: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("encode webp: %w", err)
	}
	return nil
}

// Encode writes img in format: "png", "jpeg" (or "jpg"; quality JPEGQuality),
// "gif" (a single frame, quantised to 256 colours) or "webp" (lossless).
// Another format is ErrUnsupported.
func Encode(w io.Writer, img image.Image, format string) error {
	var err error
	switch format {
	case FormatPNG:
		err = png.Encode(w, img)
	case FormatJPEG, "jpg":
		err = jpeg.Encode(w, img, &jpeg.Options{Quality: JPEGQuality})
	case FormatGIF:
		err = gif.Encode(w, img, &gif.Options{NumColors: 256})
	case FormatWebP:
		return encodeWebP(w, img)
	default:
		return fmt.Errorf("%w: cannot encode %q", ErrUnsupported, format)
	}
	if err != nil {
		return fmt.Errorf("encode %s: %w", format, err)
	}
	return nil
}
