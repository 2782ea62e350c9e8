package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/webp"

	"aimg/internal/media"
)

var formats = []string{"png", "jpeg", "gif", "webp"}

func TestDecodeEveryFormat(t *testing.T) {
	src := bands(90, 30, true)
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			img, got, err := media.Decode(encodeAs(t, src, format), media.ProfilePictureLimits())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != format {
				t.Errorf("format = %q, want %q", got, format)
			}
			if img.Bounds() != src.Bounds() {
				t.Fatalf("bounds = %v, want %v", img.Bounds(), src.Bounds())
			}
			tol := 0
			if format == "jpeg" {
				tol = 24
			}
			// Away from the band edges, where JPEG blurs colours together.
			assertAll(t, img, image.Rect(4, 0, 26, 30), red, tol)
			assertAll(t, img, image.Rect(34, 0, 56, 30), green, tol)
			assertAll(t, img, image.Rect(64, 0, 86, 30), blue, tol)
		})
	}
}

func TestDecodeGIFFirstFrameOnItsScreen(t *testing.T) {
	pal := color.Palette{color.Transparent, red, green}
	first := image.NewPaletted(image.Rect(5, 5, 10, 10), pal)
	second := image.NewPaletted(image.Rect(0, 0, 20, 20), pal)
	for i := range first.Pix {
		first.Pix[i] = 1 // red
	}
	for i := range second.Pix {
		second.Pix[i] = 2 // green
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image:  []*image.Paletted{first, second},
		Delay:  []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 20, Height: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := media.Decode(buf.Bytes(), media.ProfilePictureLimits())
	if err != nil || format != "gif" {
		t.Fatalf("Decode = %q, %v", format, err)
	}
	if img.Bounds() != image.Rect(0, 0, 20, 20) {
		t.Fatalf("bounds = %v, want the 20x20 screen", img.Bounds())
	}
	assertAll(t, img, image.Rect(5, 5, 10, 10), red, 0)
	assertAll(t, img, image.Rect(0, 0, 20, 5), color.Transparent, 0)
	assertAll(t, img, image.Rect(10, 0, 20, 20), color.Transparent, 0)
}

// bigHeader returns an image of format whose header claims a w x h picture
// while the file stays small: a real small image with its dimensions patched.
func bigHeader(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	data := encodeAs(t, bands(16, 16, true), format)
	switch format {
	case "png":
		// IHDR data at 16..24 (width, height), its CRC over type+data at 29..33.
		binary.BigEndian.PutUint32(data[16:], uint32(w))
		binary.BigEndian.PutUint32(data[20:], uint32(h))
		binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	case "gif":
		// Logical screen size right after the 6-byte signature.
		binary.LittleEndian.PutUint16(data[6:], uint16(w))
		binary.LittleEndian.PutUint16(data[8:], uint16(h))
	case "jpeg":
		// Baseline SOF0: FF C0, length(2), precision(1), height(2), width(2).
		i := bytes.Index(data, []byte{0xff, 0xc0})
		if i < 0 {
			t.Fatal("no SOF0 marker")
		}
		binary.BigEndian.PutUint16(data[i+5:], uint16(h))
		binary.BigEndian.PutUint16(data[i+7:], uint16(w))
	case "webp":
		// VP8L: "RIFF" size "WEBP" "VP8L" size, then 0x2f and 14-bit w-1, h-1.
		bits := binary.LittleEndian.Uint32(data[21:])
		bits = bits&^(1<<28-1) | uint32(w-1) | uint32(h-1)<<14
		binary.LittleEndian.PutUint32(data[21:], bits)
	}
	return data
}

func TestDecodeRefusesTooManyPixelsBeforeAllocating(t *testing.T) {
	decodeConfig := map[string]func([]byte) (image.Config, error){
		"png":  func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) },
		"jpeg": func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) },
		"gif":  func(b []byte) (image.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) },
		"webp": func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) },
	}
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			w, h := 10000, 10000
			if format == "webp" {
				w, h = 16384, 16384 // the largest VP8L can say: 268 megapixels
			}
			data := bigHeader(t, format, w, h)
			// The crafted file really does claim the size, so the refusal below
			// comes from the pixel limit.
			cfg, err := decodeConfig[format](data)
			if err != nil || cfg.Width != w || cfg.Height != h {
				t.Fatalf("crafted header reads as %dx%d, %v; want %dx%d", cfg.Width, cfg.Height, err, w, h)
			}
			var decodeErr error
			allocated := allocatedBytes(func() {
				_, _, decodeErr = media.Decode(data, media.ProfilePictureLimits())
			})
			if !errors.Is(decodeErr, media.ErrTooLarge) {
				t.Fatalf("Decode = %v, want ErrTooLarge", decodeErr)
			}
			if allocated > 1<<20 {
				t.Fatalf("refusing a %dx%d header allocated %d bytes", w, h, allocated)
			}
		})
	}
}

func TestDecodeTooManyBytes(t *testing.T) {
	data := encodeAs(t, bands(30, 30, true), "png")
	_, _, err := media.Decode(data, media.Limits{MaxBytes: int64(len(data)) - 1})
	if !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("Decode = %v, want ErrTooLarge", err)
	}
	if _, _, err := media.Decode(data, media.Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("Decode at exactly MaxBytes = %v", err)
	}
}

func TestDecodePixelLimitBoundary(t *testing.T) {
	data := encodeAs(t, bands(30, 20, true), "png")
	if _, _, err := media.Decode(data, media.Limits{MaxPixels: 600}); err != nil {
		t.Fatalf("600 pixels with MaxPixels 600: %v", err)
	}
	if _, _, err := media.Decode(data, media.Limits{MaxPixels: 599}); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("600 pixels with MaxPixels 599: %v, want ErrTooLarge", err)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, format := range formats {
		data := encodeAs(t, bands(64, 64, true), format)
		cases := map[string][]byte{
			"truncated":         data[:len(data)*2/3],
			"header only":       data[:min(len(data), 40)],
			"garbage after tag": append(append([]byte{}, data[:12]...), bytes.Repeat([]byte{0x55}, 200)...),
		}
		for name, bad := range cases {
			t.Run(format+"/"+name, func(t *testing.T) {
				if _, _, err := media.Decode(bad, media.ProfilePictureLimits()); !errors.Is(err, media.ErrCorrupt) {
					t.Fatalf("Decode = %v, want ErrCorrupt", err)
				}
			})
		}
	}
}

func TestDecodeUnsupported(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":             nil,
		"text":              []byte("hello, I am not an image"),
		"bmp":               append([]byte("BM"), make([]byte, 60)...),
		"riff but not webp": []byte("RIFF\x10\x00\x00\x00WAVEfmt "),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := media.Decode(data, media.ProfilePictureLimits()); !errors.Is(err, media.ErrUnsupported) {
				t.Fatalf("Decode = %v, want ErrUnsupported", err)
			}
		})
	}
}
