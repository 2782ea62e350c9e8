package builtin

import (
	"image"
	"image/draw"
)

// hsv converts hue (0..1535, six sextants of 256), saturation and value
// (0..255) to RGB.
func hsv(h, s, v int64) rgb {
	h = ((h % 1536) + 1536) % 1536
	sextant, f := h>>8, h&255
	p := v * (255 - s) / 255
	q := v * (255 - s*f/255) / 255
	t := v * (255 - s*(255-f)/255) / 255
	switch sextant {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	default:
		return rgb{v, p, q}
	}
}

// mix moves a towards b by t/256.
func mix(a, b rgb, t int64) rgb {
	return rgb{a.r + (b.r-a.r)*t>>8, a.g + (b.g-a.g)*t>>8, a.b + (b.b-a.b)*t>>8}
}

// saturate scales the distance from grey by s/256.
func saturate(c rgb, s int64) rgb {
	l := (c.r*77 + c.g*150 + c.b*29) >> 8
	return rgb{
		clamp(l+(c.r-l)*s>>8, 0, 255),
		clamp(l+(c.g-l)*s>>8, 0, 255),
		clamp(l+(c.b-l)*s>>8, 0, 255),
	}
}

// similarColor tells whether a negative-prompt colour rules c out: a hue
// within about 30 degrees for vivid colours, a similar brightness for greys.
func similarColor(c, banned rgb) bool {
	ch, cs, cv := toHSV(c)
	bh, bs, bv := toHSV(banned)
	if bs < 60 {
		return cs < 80 && abs64(cv-bv) < 70
	}
	if cs < 60 {
		return false
	}
	d := abs64(ch - bh)
	return min(d, 1536-d) < 128
}

func toHSV(c rgb) (h, s, v int64) {
	mx := max(c.r, c.g, c.b)
	mn := min(c.r, c.g, c.b)
	v = mx
	if mx == 0 {
		return 0, 0, 0
	}
	s = (mx - mn) * 255 / mx
	d := mx - mn
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case c.r:
		h = (c.g - c.b) * 256 / d
	case c.g:
		h = 512 + (c.b-c.r)*256/d
	default:
		h = 1024 + (c.r-c.g)*256/d
	}
	return (h + 1536) % 1536, s, v
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// resampleRGB draws src into a w x h RGB buffer (over black), averaging the
// source pixels under each target pixel when shrinking. It converts one
// source row at a time, so a large input costs no large buffer.
func resampleRGB(src image.Image, w, h int) []uint8 {
	b := src.Bounds()
	out := make([]uint8, w*h*3)
	if b.Empty() {
		return out
	}
	sw, sh := b.Dx(), b.Dy()
	row := image.NewRGBA(image.Rect(0, 0, sw, 1))
	sums := make([]int64, w*4) // r, g, b, count for each target pixel of a row
	for y := range h {
		y0 := y * sh / h
		y1 := max((y+1)*sh/h, y0+1)
		clear(sums)
		for yy := y0; yy < y1; yy++ {
			draw.Draw(row, row.Bounds(), src, image.Pt(b.Min.X, b.Min.Y+yy), draw.Src)
			for x := range w {
				x0 := x * sw / w
				x1 := max((x+1)*sw/w, x0+1)
				s := sums[x*4 : x*4+4]
				for xx := x0; xx < x1; xx++ {
					s[0] += int64(row.Pix[xx*4])
					s[1] += int64(row.Pix[xx*4+1])
					s[2] += int64(row.Pix[xx*4+2])
					s[3]++
				}
			}
		}
		for x := range w {
			s := sums[x*4 : x*4+4]
			o := (y*w + x) * 3
			out[o], out[o+1], out[o+2] = uint8(s[0]/s[3]), uint8(s[1]/s[3]), uint8(s[2]/s[3])
		}
	}
	return out
}
