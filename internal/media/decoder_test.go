package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"strings"
	"testing"
	"time"

	"aimg/internal/media"
)

// patchPNGSize makes a PNG's header claim w x h (its data stays small).
func patchPNGSize(data []byte, w, h int) []byte {
	data = bytes.Clone(data)
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// deepPNG is a real 16-bit RGBA PNG with alpha (8 bytes a pixel decoded).
func deepPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); b[24] != 16 || b[25] != 6 {
		t.Fatalf("encoder wrote depth %d, colour type %d, want 16-bit RGBA", b[24], b[25])
	}
	return buf.Bytes()
}

func newDecoder(t testing.TB, cfg media.DecoderConfig) *media.Decoder {
	t.Helper()
	d, err := media.NewDecoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The picture: 16-bit 6300x6300 is 39.7 megapixels, under the
// 40 MP limit, but 317 MB decoded. It is refused from its header, without
// allocating the pixels; an 8-bit picture of the same size (159 MB) is not.
func TestDecoderCountsBytesPerPixel(t *testing.T) {
	d := newDecoder(t, media.DecoderConfig{MaxDecodedBytes: 256 << 20, MaxInFlightBytes: 512 << 20, MaxConcurrent: 2, MaxWait: time.Second})
	deep := patchPNGSize(deepPNG(t, 16, 16), 6300, 6300)
	info, err := media.Inspect(deep)
	if err != nil || info.DecodedBytes < 6300*6300*8 {
		t.Fatalf("Inspect = %+v, %v; want at least 8 bytes a pixel", info, err)
	}
	var decodeErr error
	allocated := allocatedBytes(func() {
		decodeErr = d.Decode(context.Background(), deep, media.ProfilePictureLimits(), func(image.Image, string) error {
			t.Fatal("the deep image was decoded")
			return nil
		})
	})
	if !errors.Is(decodeErr, media.ErrTooLarge) || !strings.Contains(decodeErr.Error(), "16-bit") {
		t.Fatalf("Decode = %v, want ErrTooLarge that mentions 16-bit channels", decodeErr)
	}
	if allocated > 1<<20 {
		t.Fatalf("refusing the deep header allocated %d bytes", allocated)
	}
	// The same through the profile picture path.
	if _, err := d.ProfilePicture(context.Background(), media.DataURI("image/png", deep), media.ProfilePictureLimits()); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("ProfilePicture = %v, want ErrTooLarge", err)
	}
	shallow := patchPNGSize(encodeAs(t, bands(16, 16, true), "png"), 6300, 6300)
	if err := d.Decode(context.Background(), shallow, media.ProfilePictureLimits(), func(image.Image, string) error { return nil }); !errors.Is(err, media.ErrCorrupt) {
		t.Fatalf("8-bit 6300x6300 = %v, want ErrCorrupt (within the budget, its pixel data is missing)", err)
	}
}

// DecodedBytes is an upper bound on what the decoders really allocate, for
// each kind of image the estimate distinguishes.
func TestDecodedBytesBoundsWhatDecodersAllocate(t *testing.T) {
	const w, h = 800, 600
	src := photo(w, h)
	gray := image.NewGray(src.Bounds())
	gray16 := image.NewGray16(src.Bounds())
	rgba64 := image.NewRGBA64(src.Bounds()) // opaque 16-bit: colour type 2
	for y := range h {
		for x := range w {
			c := src.At(x, y)
			gray.Set(x, y, c)
			gray16.Set(x, y, c)
			rgba64.Set(x, y, c)
		}
	}
	alpha := image.NewNRGBA(src.Bounds())
	copy(alpha.Pix, src.Pix)
	for i := 3; i < len(alpha.Pix); i += 4 {
		alpha.Pix[i] = uint8(i)
	}
	pngOf := func(img image.Image) []byte { return encodeAs(t, img, "png") }
	pal := image.NewPaletted(image.Rect(0, 0, w/2, h/2), color.Palette{color.Transparent, red, green})
	var gifFrame bytes.Buffer
	if err := gif.EncodeAll(&gifFrame, &gif.GIF{Image: []*image.Paletted{pal}, Delay: []int{0},
		Config: image.Config{ColorModel: pal.Palette, Width: w, Height: h}}); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"png/rgb8":      pngOf(src),
		"png/rgba8":     pngOf(alpha),
		"png/gray8":     pngOf(gray),
		"png/gray16":    pngOf(gray16),
		"png/rgb16":     pngOf(rgba64),
		"png/rgba16":    deepPNG(t, w, h),
		"png/paletted":  pngOf(pal),
		"jpeg/ycbcr":    encodeAs(t, src, "jpeg"),
		"jpeg/gray":     encodeAs(t, gray, "jpeg"),
		"gif/screen":    encodeAs(t, src, "gif"),
		"gif/subframe":  gifFrame.Bytes(),
		"webp/lossless": encodeAs(t, alpha, "webp"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			info, err := media.Inspect(data)
			if err != nil {
				t.Fatal(err)
			}
			var decodeErr error
			allocated := allocatedBytes(func() { _, _, decodeErr = media.Decode(data, media.Limits{}) })
			if decodeErr != nil {
				t.Fatal(decodeErr)
			}
			if int64(allocated) > info.DecodedBytes {
				t.Fatalf("decoding allocated %d bytes, the estimate is %d", allocated, info.DecodedBytes)
			}
			t.Logf("%s: allocated %d, estimated %d (%.1f bytes a pixel)", name, allocated, info.DecodedBytes,
				float64(allocated)/float64(info.Pixels()))
		})
	}
}

// hold starts a decode that keeps its turn until the returned func is called.
func hold(t *testing.T, d *media.Decoder, data []byte) (release func()) {
	t.Helper()
	held, done, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- d.Decode(context.Background(), data, media.Limits{}, func(image.Image, string) error {
			close(held)
			<-done
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-result:
		t.Fatalf("holding decode ended: %v", err)
	}
	return func() {
		close(done)
		if err := <-result; err != nil {
			t.Errorf("holding decode: %v", err)
		}
	}
}

// Decodes beyond the concurrency budget wait, at most MaxWait, then get
// ErrBusy; a turn that frees up while one waits goes to it.
func TestDecoderBoundsConcurrentDecodes(t *testing.T) {
	data := encodeAs(t, bands(30, 30, true), "png")
	d := newDecoder(t, media.DecoderConfig{MaxDecodedBytes: 1 << 20, MaxInFlightBytes: 1 << 30, MaxConcurrent: 2, MaxWait: 20 * time.Millisecond})
	releaseA, releaseB := hold(t, d, data), hold(t, d, data)
	err := d.Decode(context.Background(), data, media.Limits{}, func(image.Image, string) error {
		t.Fatal("a third decode ran beside two")
		return nil
	})
	if !errors.Is(err, media.ErrBusy) {
		t.Fatalf("third decode = %v, want ErrBusy", err)
	}
	if d.RetryAfter() < time.Second {
		t.Fatalf("RetryAfter = %s, want at least a second", d.RetryAfter())
	}
	// A caller that goes away is not told the server is busy.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Decode(ctx, data, media.Limits{}, nil); !errors.Is(err, context.Canceled) || errors.Is(err, media.ErrBusy) {
		t.Fatalf("cancelled decode = %v, want context.Canceled", err)
	}
	releaseA()
	ran := false
	if err := d.Decode(context.Background(), data, media.Limits{}, func(image.Image, string) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("decode after a release = %v, ran %v", err, ran)
	}
	releaseB()

	// A waiting decode takes the turn that frees up.
	patient := newDecoder(t, media.DecoderConfig{MaxDecodedBytes: 1 << 20, MaxInFlightBytes: 1 << 30, MaxConcurrent: 1, MaxWait: time.Hour})
	release := hold(t, patient, data)
	done := make(chan error, 1)
	go func() {
		done <- patient.Decode(context.Background(), data, media.Limits{}, func(image.Image, string) error { return nil })
	}()
	release()
	if err := <-done; err != nil {
		t.Fatalf("waiting decode = %v", err)
	}
}

// The bytes in flight are bounded too: two decodes that together exceed
// MaxInFlightBytes do not run at once, whatever MaxConcurrent allows.
func TestDecoderBoundsBytesInFlight(t *testing.T) {
	data := encodeAs(t, bands(300, 300, true), "png")
	info, err := media.Inspect(data)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(t, media.DecoderConfig{MaxDecodedBytes: info.DecodedBytes, MaxInFlightBytes: info.DecodedBytes*2 - 1,
		MaxConcurrent: 10, MaxWait: 20 * time.Millisecond})
	release := hold(t, d, data)
	if err := d.Decode(context.Background(), data, media.Limits{}, nil); !errors.Is(err, media.ErrBusy) {
		t.Fatalf("second decode = %v, want ErrBusy", err)
	}
	release()
	small := encodeAs(t, bands(30, 30, true), "png")
	release = hold(t, d, data)
	defer release()
	if err := d.Decode(context.Background(), small, media.Limits{}, func(image.Image, string) error { return nil }); err != nil {
		t.Fatalf("a small decode beside a large one = %v", err)
	}
}

func TestDecoderConfigValidate(t *testing.T) {
	good := media.DecoderConfig{MaxDecodedBytes: 1, MaxInFlightBytes: 1, MaxConcurrent: 1, MaxWait: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for want, edit := range map[string]func(*media.DecoderConfig){
		"maxDecodedBytes":      func(c *media.DecoderConfig) { c.MaxDecodedBytes = 0 },
		"maxInFlightBytes":     func(c *media.DecoderConfig) { c.MaxInFlightBytes = 0 },
		"maxConcurrentDecodes": func(c *media.DecoderConfig) { c.MaxConcurrent = 0 },
		"decodeWait":           func(c *media.DecoderConfig) { c.MaxWait = 0 },
	} {
		c := good
		edit(&c)
		if _, err := media.NewDecoder(c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
