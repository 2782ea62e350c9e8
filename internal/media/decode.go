package media

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Image formats as returned by Decode and accepted by Encode.
const (
	FormatPNG  = "png"
	FormatJPEG = "jpeg"
	FormatGIF  = "gif"
	FormatWebP = "webp"
)

// codec pairs the two decoder entry points of one format.
type codec struct {
	decodeConfig func([]byte) (image.Config, error)
	decode       func([]byte) (image.Image, error)
}

var codecs = map[string]codec{
	FormatPNG: {
		decodeConfig: func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) },
		decode:       func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) },
	},
	FormatJPEG: {
		decodeConfig: func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) },
		decode:       func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) },
	},
	FormatGIF: {
		decodeConfig: func(b []byte) (image.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) },
		decode:       decodeGIFFirstFrame,
	},
	FormatWebP: {
		decodeConfig: func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) },
		decode:       func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) },
	},
}

// Sniff names the image format from the first bytes of data ("png", "jpeg",
// "gif", "webp"), or returns "" when it is none of them. The declared media
// type of an upload is never trusted.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return FormatJPEG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// Decode decodes a PNG, JPEG, GIF (first frame) or WebP image, recognised from
// its bytes. The header is read first (Inspect) and checked against lim, so a
// small file claiming a huge or deep image is refused without allocating it.
// Untrusted images go through a Decoder, which adds the server-wide budget.
func Decode(data []byte, lim Limits) (img image.Image, format string, err error) {
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(data), lim.MaxBytes)
	}
	info, err := Inspect(data)
	if err != nil {
		return nil, "", err
	}
	if err := lim.check(info); err != nil {
		return nil, "", err
	}
	return decodeInspected(data, info)
}

// check compares what the header says with the limits.
func (lim Limits) check(info Info) error {
	if lim.MaxPixels > 0 && info.Pixels() > lim.MaxPixels {
		return fmt.Errorf("%w: %dx%d is %d pixels, at most %d allowed",
			ErrTooLarge, info.Width, info.Height, info.Pixels(), lim.MaxPixels)
	}
	if lim.MaxDecodedBytes > 0 && info.DecodedBytes > lim.MaxDecodedBytes {
		return fmt.Errorf("%w: decoding this %dx%d %s would take %d MiB (%d bytes of memory), at most %d MiB allowed; "+
			"16-bit colour and alpha channels count", ErrTooLarge, info.Width, info.Height, info.Format,
			info.DecodedBytes>>20, info.DecodedBytes, lim.MaxDecodedBytes>>20)
	}
	return nil
}

// decodeInspected decodes data, whose header info has been checked.
func decodeInspected(data []byte, info Info) (img image.Image, format string, err error) {
	format = info.Format
	// The decoders are fuzzed upstream, but this runs on hostile input in
	// long-lived processes: a decoder panic must end as a refused image.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s decoder failed: %v", ErrCorrupt, format, r)
			img, format = nil, ""
		}
	}()
	img, err = codecs[format].decode(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrCorrupt, err) // decoder errors name their format
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		// Never hand on more (or fewer) pixels than were checked.
		return nil, "", fmt.Errorf("%w: %s header says %dx%d, image is %dx%d",
			ErrCorrupt, format, info.Width, info.Height, b.Dx(), b.Dy())
	}
	return img, format, nil
}

// decodeGIFFirstFrame returns the first frame drawn on the GIF's logical
// screen: a frame may cover only part of it, and the picture people see is the
// whole screen with the uncovered part transparent.
func decodeGIFFirstFrame(b []byte) (image.Image, error) {
	screen, err := gif.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	// gif.Decode stops after the first frame, so a file with thousands of
	// frames costs no more than one.
	frame, err := gif.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	screenRect := image.Rect(0, 0, screen.Width, screen.Height)
	if frame.Bounds() == screenRect {
		return frame, nil
	}
	canvas := image.NewNRGBA(screenRect)
	draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Src)
	return canvas, nil
}
