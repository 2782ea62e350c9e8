package files

import (
	"slices"
	"testing"

	"aimg/internal/media"
)

// Every request snaps to a size of the set (or to the original, 0x0), never
// below what was asked (up to the largest size), keeping zero sides zero and
// the box's shape to within rounding.
func TestSnapProperties(t *testing.T) {
	sizes := []int{64, 128, 256, 512, 1024}
	largest := sizes[len(sizes)-1]
	sides := []int{0, 1, 2, 63, 64, 65, 100, 127, 128, 129, 300, 511, 512, 513, 1000, 1023, 1024, 1025, 2048, 4095, 4096}
	for w := 0; w <= media.MaxResizeSide; w += 37 {
		sides = append(sides, w)
	}
	for _, mode := range []string{media.ModeFit, media.ModeFill} {
		for _, w := range sides {
			for _, h := range sides {
				if w == 0 && h == 0 {
					continue
				}
				sw, sh, sm := snap(sizes, w, h, mode)
				long := max(w, h)
				if sw == 0 && sh == 0 {
					if sm != media.ModeFit || long <= largest {
						t.Fatalf("%dx%d %s -> original, want a size", w, h, mode)
					}
					continue
				}
				if (w == 0) != (sw == 0) || (h == 0) != (sh == 0) {
					t.Fatalf("%dx%d %s -> %dx%d: a zero side changed", w, h, mode, sw, sh)
				}
				if !slices.Contains(sizes, max(sw, sh)) {
					t.Fatalf("%dx%d %s -> %dx%d: long side not in %v", w, h, mode, sw, sh, sizes)
				}
				if long <= largest && (sw < w || sh < h) {
					t.Fatalf("%dx%d %s -> %dx%d: smaller than asked", w, h, mode, sw, sh)
				}
				if w > 0 && h > 0 {
					// Same shape: sw/sh within half a pixel of w/h, scaled.
					if d := float64(sw)*float64(h) - float64(sh)*float64(w); d > float64(long) || -d > float64(long) {
						t.Fatalf("%dx%d %s -> %dx%d: shape changed", w, h, mode, sw, sh)
					}
				}
				if mode == media.ModeFill && (w == 0 || h == 0) && sm != media.ModeFit {
					t.Fatalf("%dx%d fill with a zero side -> %s, want fit", w, h, sm)
				}
			}
		}
	}
}
