package media_test

import (
	"bytes"
	"errors"
	"testing"

	"aimg/internal/media"
)

func FuzzParseDataURI(f *testing.F) {
	for _, seed := range []string{
		"",
		"data:image/png;base64,aGVsbG8=",
		"data:;base64,aGVsbG8",
		"DATA:image/jpeg;name=x;BASE64,+/-_\n==",
		"data:image/png,plain",
		"data:image/png;base64,",
		"data:a/b;c=\"d;base64,e\";base64,AAAA",
		"data:image/gif;base64, aG Vs\r\nbG8 =",
	} {
		f.Add(seed)
	}
	const maxBytes = 1 << 12
	f.Fuzz(func(t *testing.T, s string) {
		mt, data, err := media.ParseDataURI(s, maxBytes)
		if err != nil {
			if !errors.Is(err, media.ErrInvalidDataURI) && !errors.Is(err, media.ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if len(data) == 0 || len(data) > maxBytes {
			t.Fatalf("accepted %d bytes (limit %d)", len(data), maxBytes)
		}
		// What was accepted formats back to a URI that parses to the same thing.
		mt2, data2, err := media.ParseDataURI(media.DataURI(mt, data), maxBytes)
		if err != nil || mt2 != mt || !bytes.Equal(data2, data) {
			t.Fatalf("round trip of (%q, %x) = (%q, %x, %v)", mt, data, mt2, data2, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	small := bands(12, 8, true)
	for _, format := range formats {
		data := encodeAs(f, small, format)
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte("GIF89a"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff"))
	lim := media.Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := media.Decode(data, lim)
		if err != nil {
			if !errors.Is(err, media.ErrUnsupported) && !errors.Is(err, media.ErrTooLarge) && !errors.Is(err, media.ErrCorrupt) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if format != media.Sniff(data) {
			t.Fatalf("format %q, but the bytes look like %q", format, media.Sniff(data))
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels {
			t.Fatalf("decoded %v, outside the limits", b)
		}
	})
}

// FuzzInspect: the header reader never panics, refuses with a sentinel, and
// never estimates less than one byte a pixel.
func FuzzInspect(f *testing.F) {
	for _, format := range formats {
		data := encodeAs(f, bands(12, 8, true), format)
		f.Add(data)
		f.Add(data[:len(data)/3])
	}
	f.Add([]byte("\xff\xd8\xff\xc2\x00\x11\x08\x00\x10\x00\x10\x03"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := media.Inspect(data)
		if err != nil {
			if !errors.Is(err, media.ErrUnsupported) && !errors.Is(err, media.ErrCorrupt) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || info.DecodedBytes < info.Pixels() {
			t.Fatalf("Inspect = %+v", info)
		}
	})
}
