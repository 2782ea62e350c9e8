package builtin

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"slices"
)

// animation collects frames for a looping GIF with one palette for the whole
// animation, chosen by median cut over the colours of every frame.
//
// Frames are stored as ordered-dithered 15-bit colours (5 bits a channel):
// an ordered (Bayer) pattern stays put from frame to frame, so the GIF does
// not shimmer the way error diffusion would.
type animation struct {
	w, h   int
	delay  int // hundredths of a second
	frames [][]uint16
	hist   []uint32 // population of each 15-bit colour
}

var bayer4 = [16]int64{0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5}

func newAnimation(w, h, frames, fps int) *animation {
	return &animation{
		w: w, h: h,
		delay:  max((100+fps/2)/fps, 2), // browsers treat delays under 2 as 10
		frames: make([][]uint16, 0, frames),
		hist:   make([]uint32, 1<<15),
	}
}

func (a *animation) add(img *image.NRGBA) {
	bins := make([]uint16, a.w*a.h)
	for y := range a.h {
		row := img.Pix[y*img.Stride:]
		for x := range a.w {
			d := bayer4[(y&3)*4+(x&3)] - 7
			r := clamp(int64(row[x*4])+d, 0, 255) >> 3
			g := clamp(int64(row[x*4+1])+d, 0, 255) >> 3
			b := clamp(int64(row[x*4+2])+d, 0, 255) >> 3
			bin := uint16(r<<10 | g<<5 | b)
			bins[y*a.w+x] = bin
			a.hist[bin]++
		}
	}
	a.frames = append(a.frames, bins)
}

func (a *animation) encode() ([]byte, error) {
	pal := medianCut(a.hist, 256)
	// Each 15-bit colour maps to its nearest palette entry, found once.
	index := make([]int16, 1<<15)
	for bin, n := range a.hist {
		if n != 0 {
			index[bin] = int16(nearest(pal, bin))
		}
	}
	out := &gif.GIF{LoopCount: 0, Config: image.Config{ColorModel: pal, Width: a.w, Height: a.h}}
	for _, bins := range a.frames {
		frame := image.NewPaletted(image.Rect(0, 0, a.w, a.h), pal)
		for i, bin := range bins {
			frame.Pix[i] = uint8(index[bin])
		}
		out.Image = append(out.Image, frame)
		out.Delay = append(out.Delay, a.delay)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, out); err != nil {
		return nil, fmt.Errorf("builtin: encode gif: %w", err)
	}
	return buf.Bytes(), nil
}

// colorBox is a box of 15-bit colours during median cut.
type colorBox struct {
	bins  []uint16
	count uint64
}

func channel(bin uint16, c int) int { return int(bin>>(10-5*c)) & 31 }

// longestAxis returns the channel with the widest range in the box and that range.
func (b colorBox) longestAxis() (axis, span int) {
	for c := range 3 {
		lo, hi := 31, 0
		for _, bin := range b.bins {
			v := channel(bin, c)
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo > span {
			axis, span = c, hi-lo
		}
	}
	return axis, span
}

// medianCut splits the populated colours into at most n boxes, each time
// splitting the box with the largest population times extent at its
// median, and returns the population-weighted mean of each box.
func medianCut(hist []uint32, n int) color.Palette {
	var all colorBox
	for bin, c := range hist {
		if c != 0 {
			all.bins = append(all.bins, uint16(bin))
			all.count += uint64(c)
		}
	}
	boxes := []colorBox{all}
	for len(boxes) < n {
		best, bestScore, bestAxis := -1, uint64(0), 0
		for i, b := range boxes {
			axis, span := b.longestAxis()
			if score := b.count * uint64(span); span > 0 && score > bestScore {
				best, bestScore, bestAxis = i, score, axis
			}
		}
		if best < 0 {
			break
		}
		b := boxes[best]
		// A total order (ties broken by the bin) makes the split independent
		// of the sorting algorithm.
		slices.SortFunc(b.bins, func(p, q uint16) int {
			if c := cmp.Compare(channel(p, bestAxis), channel(q, bestAxis)); c != 0 {
				return c
			}
			return cmp.Compare(p, q)
		})
		var acc uint64
		cut := 1
		for i, bin := range b.bins[:len(b.bins)-1] {
			acc += uint64(hist[bin])
			cut = i + 1
			if acc*2 >= b.count {
				break
			}
		}
		left := colorBox{bins: b.bins[:cut]}
		right := colorBox{bins: b.bins[cut:]}
		for _, bin := range left.bins {
			left.count += uint64(hist[bin])
		}
		right.count = b.count - left.count
		boxes[best] = left
		boxes = append(boxes, right)
	}
	pal := make(color.Palette, 0, len(boxes))
	for _, b := range boxes {
		var sum [3]uint64
		for _, bin := range b.bins {
			for c := range 3 {
				sum[c] += uint64(hist[bin]) * uint64(channel(bin, c)*8+4)
			}
		}
		pal = append(pal, color.RGBA{
			R: uint8(sum[0] / b.count), G: uint8(sum[1] / b.count), B: uint8(sum[2] / b.count), A: 255,
		})
	}
	return pal
}

// nearest returns the index of the palette colour closest to a 15-bit colour.
func nearest(pal color.Palette, bin int) int {
	r, g, b := (bin>>10&31)*8+4, (bin>>5&31)*8+4, (bin&31)*8+4
	best, bestDist := 0, 1<<30
	for i, c := range pal {
		rgba := c.(color.RGBA)
		dr, dg, db := int(rgba.R)-r, int(rgba.G)-g, int(rgba.B)-b
		if d := dr*dr*3 + dg*dg*4 + db*db*2; d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}
