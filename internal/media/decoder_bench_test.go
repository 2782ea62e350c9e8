package media_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"sync"
	"testing"
	"time"

	"aimg/internal/media"
)

// flatPNG writes a real w x h PNG of one colour (all zero bytes) at the
// given bit depth and colour type, streaming the rows through zlib: a
// 16-bit RGBA 6300x6300 one is the 308 KB file that decodes to 317 MB.
func flatPNG(tb testing.TB, w, h int, depth, colourType byte) []byte {
	tb.Helper()
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[colourType]
	rowBytes := 1 + w*channels*int(depth)/8
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		out.WriteString(kind)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(append([]byte(kind), data...)))
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colourType
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	row := make([]byte, rowBytes) // filter 0, all pixels zero
	for range h {
		if _, err := zw.Write(row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

var (
	deepOnce, flatOnce sync.Once
	deep6300, flat6300 []byte
)

// BenchmarkDeepPNG measures the profile picture, a 16-bit RGBA
// 6300x6300 PNG of 308 KB (39.7 MP, under the 40 MP limit), decoded the old
// way (pixel limit only) and through the Decoder (refused from its header),
// once and six at a time; and an 8-bit 6300x6300 PNG (159 MB decoded, within
// the budget) six at a time, where the in-flight budget lets three run.
// Run each case alone under /usr/bin/time -v to see its peak RSS:
//
//	go test ./internal/media -run '^$' -bench 'DeepPNG/old/1' -benchtime 3x
func BenchmarkDeepPNG(b *testing.B) {
	deepOnce.Do(func() { deep6300 = flatPNG(b, 6300, 6300, 16, 6) })
	flatOnce.Do(func() { flat6300 = flatPNG(b, 6300, 6300, 8, 6) })
	decoder, err := media.NewDecoder(media.DecoderConfig{ // the defaults of default.yaml
		MaxDecodedBytes: 256 << 20, MaxInFlightBytes: 512 << 20, MaxConcurrent: 4, MaxWait: 5 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	old := func(data []byte) error {
		_, _, err := media.Decode(data, media.ProfilePictureLimits())
		return err
	}
	budgeted := func(data []byte) error {
		return decoder.Decode(context.Background(), data, media.ProfilePictureLimits(), func(image.Image, string) error { return nil })
	}
	run := func(name string, data []byte, parallel int, decode func([]byte) error, wantRefused bool) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make([]error, parallel)
				for i := range parallel {
					wg.Go(func() { errs[i] = decode(data) })
				}
				wg.Wait()
				for _, err := range errs {
					if refused := errors.Is(err, media.ErrTooLarge); refused != wantRefused || (err != nil && !refused) {
						b.Fatalf("decode: %v (want refused: %v)", err, wantRefused)
					}
				}
			}
		})
	}
	run("old/1", deep6300, 1, old, false)
	run("old/6", deep6300, 6, old, false)
	run("budget/1", deep6300, 1, budgeted, true)
	run("budget/6", deep6300, 6, budgeted, true)
	run("8bit-old/6", flat6300, 6, old, false)
	run("8bit-budget/6", flat6300, 6, budgeted, false)
}
