package builtin

import (
	"context"
	"image"
	"math"
	"runtime"
	"sync"
)

// renderer holds the buffers of one Render call; frames reuse them.
type renderer struct {
	sc             *scene
	coordX, coordY []int32 // warped noise coordinates of each pixel, Q16 cells
	field          []int32 // the noise field the steps accumulate
	level          []int32 // the field mapped to palette positions 0..1023
	scratch        []uint8 // smoothing pass
	img            *image.NRGBA
	vigX, vigY     []int64
	statsSet       bool
	mean, spread   int64 // field statistics of the first frame, reused so videos do not flicker
}

func newRenderer(sc *scene) *renderer {
	n := sc.w * sc.h
	r := &renderer{
		sc:     sc,
		coordX: make([]int32, n),
		coordY: make([]int32, n),
		field:  make([]int32, n),
		level:  make([]int32, n),
		img:    image.NewNRGBA(image.Rect(0, 0, sc.w, sc.h)),
		vigX:   make([]int64, sc.w),
		vigY:   make([]int64, sc.h),
	}
	if sc.p.RestoreFaces {
		r.scratch = make([]uint8, n*3)
	}
	// Vignette terms: squared distance from the centre, 65536 at a corner.
	diag := int64(sc.w)*int64(sc.w) + int64(sc.h)*int64(sc.h)
	for x := range sc.w {
		d := int64(2*x + 1 - sc.w)
		r.vigX[x] = d * d * 65536 / diag
	}
	for y := range sc.h {
		d := int64(2*y + 1 - sc.h)
		r.vigY[y] = d * d * 65536 / diag
	}
	return r
}

// parallelRows runs fn over bands of rows on every core and waits for all.
// Pixels are independent, so the split does not change the result.
func parallelRows(h int, fn func(y0, y1 int)) {
	n := min(runtime.GOMAXPROCS(0), h)
	if n <= 1 {
		fn(0, h)
		return
	}
	var wg sync.WaitGroup
	for k := range n {
		y0, y1 := h*k/n, h*(k+1)/n
		wg.Go(func() { fn(y0, y1) })
	}
	wg.Wait()
}

// frame renders one picture at the given animation phase (turn units;
// phase 0 is the still image) and calls stepDone(1..Steps) after each step.
// The returned image is reused by the next call.
func (r *renderer) frame(ctx context.Context, phase int64, video bool, stepDone func(step int)) (*image.NRGBA, error) {
	sc := r.sc
	r.coordinates(phase)
	clear(r.field)
	for s, o := range sc.octaves {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.addOctave(o)
		stepDone(s + 1)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !r.statsSet {
		r.mean, r.spread = fieldStats(r.field)
		r.statsSet = true
	}
	shift := int64(0)
	if video {
		shift = sinTurn(phase) * 56 >> 16 // the palette drifts and comes back
	}
	r.levels(phase, video, shift)
	r.colorize()
	for _, e := range sc.elements {
		r.drawElement(e, phase)
	}
	if sc.input != nil {
		r.blendInput(phase, video)
	}
	if sc.p.RestoreFaces {
		r.smooth()
	}
	return r.img, nil
}

// coordinates places every pixel in noise space: centred, scaled so the
// composition does not depend on the resolution, moved by the camera (a
// small orbit for video) and pushed around by the domain warp.
func (r *renderer) coordinates(phase int64) {
	sc := r.sc
	// Camera: phase 0 is the still image; the orbit returns to it.
	camX := (cosTurn(phase) - 65536) * 24000 >> 16
	camY := sinTurn(phase) * 24000 >> 16
	zoom := 65536 + (65536-cosTurn(phase))*1300>>16 // up to 4% closer halfway
	scale := sc.baseCells * zoom >> 16
	denom := int64(2 * sc.minD)
	parallelRows(sc.h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			by := int64(2*y+1-sc.h)*scale/denom + camY
			for x := range sc.w {
				bx := int64(2*x+1-sc.w)*scale/denom + camX
				wx, wy := int64(0), int64(0)
				for _, l := range sc.warpX {
					wx += sc.noise.at(bx*l.freq>>16+l.offX, by*l.freq>>16+l.offY, l.seed, l.subseed) * l.amp >> 16
				}
				for _, l := range sc.warpY {
					wy += sc.noise.at(bx*l.freq>>16+l.offX, by*l.freq>>16+l.offY, l.seed, l.subseed) * l.amp >> 16
				}
				i := y*sc.w + x
				r.coordX[i] = int32(bx + wx)
				r.coordY[i] = int32(by + wy)
			}
		}
	})
}

// addOctave is one step: one layer of noise over the whole frame.
func (r *renderer) addOctave(o octave) {
	sc := r.sc
	ridged := sc.style == styleRidges
	parallelRows(sc.h, func(y0, y1 int) {
		for i := y0 * sc.w; i < y1*sc.w; i++ {
			x := int64(r.coordX[i])*o.freq>>16 + o.offX
			y := int64(r.coordY[i])*o.freq>>16 + o.offY
			n := sc.noise.at(x, y, o.seed, o.subseed)
			if ridged {
				n = 2 * (16000 - abs64(n))
			}
			r.field[i] += int32(n * o.amp >> 16)
		}
	})
}

// fieldStats returns the mean and the mean absolute deviation (at least 1).
func fieldStats(field []int32) (mean, spread int64) {
	var sum int64
	for _, v := range field {
		sum += int64(v)
	}
	mean = sum / int64(len(field))
	var dev int64
	for _, v := range field {
		dev += abs64(int64(v) - mean)
	}
	return mean, max(dev/int64(len(field)), 1)
}

// levels maps the field to palette positions through the style's curve.
func (r *renderer) levels(phase int64, video bool, shift int64) {
	sc := r.sc
	parallelRows(sc.h, func(y0, y1 int) {
		for i := y0 * sc.w; i < y1*sc.w; i++ {
			t := (int64(r.field[i]) - r.mean) * sc.contrast / r.spread
			var v int64
			switch sc.style {
			case styleSilk:
				u := ((t*2+512)%2048 + 2048) % 2048 // fold into a triangle wave
				if u >= 1024 {
					u = 2047 - u
				}
				v = u
			case styleTerraces:
				u := clamp(512+t, 0, 1023)
				band := u * 6 >> 10
				v = band*1023/5*3/4 + u/4
			default:
				v = 512 + t
			}
			if sc.input != nil {
				o := i * 3
				lum := (int64(sc.input[o])*77 + int64(sc.input[o+1])*150 + int64(sc.input[o+2])*29) >> 8
				v += (lum - 128) * 3 / 2
			}
			r.level[i] = int32(clamp(v+shift, 0, 1023))
		}
	})
}

// colorize paints the palette colour of every pixel, lit as if the field
// were a relief, with a vignette.
func (r *renderer) colorize() {
	sc := r.sc
	w, h := sc.w, sc.h
	relief := int64(sc.minD) * 256 / 160
	pix := r.img.Pix
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			up, down := max(y-1, 0)*w, min(y+1, h-1)*w
			row := y * w
			for x := range w {
				left, right := max(x-1, 0), min(x+1, w-1)
				grad := int64(r.level[row+left]-r.level[row+right]) + int64(r.level[up+x]-r.level[down+x])
				shade := clamp(256+grad*relief>>10, 150, 360)
				vig := 256 - (r.vigX[x]+r.vigY[y])*72>>16
				f := shade * vig // Q16
				c := sc.lut[r.level[row+x]]
				o := (row + x) * 4
				pix[o] = uint8(min(c.r*f>>16, 255))
				pix[o+1] = uint8(min(c.g*f>>16, 255))
				pix[o+2] = uint8(min(c.b*f>>16, 255))
				pix[o+3] = 255
			}
		}
	})
}

// drawElement draws one word's shape: an anti-aliased body lit from the top
// left, with a soft glow around it. Distances are in Q4 pixels.
func (r *renderer) drawElement(e element, phase int64) {
	sc := r.sc
	w, h := int64(sc.w), int64(sc.h)
	ex, ey := e.x, e.y
	if phase != 0 {
		ex += (sinTurn(phase+e.bobPhase) - sinTurn(e.bobPhase)) * 1600 >> 16
		ey += (cosTurn(phase+e.bobPhase) - cosTurn(e.bobPhase)) * 1600 >> 16
	}
	cx := ex * w * 16 >> 16
	cy := ey * h * 16 >> 16
	rad := max(e.radius*int64(sc.minD)*16>>16, 24)
	glow := rad / 2
	reach := (rad + glow + 32) / 16
	x0, x1 := max(cx/16-reach, 0), min(cx/16+reach+1, w)
	y0, y1 := max(cy/16-reach, 0), min(cy/16+reach+1, h)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	lit := mix(e.color, rgb{255, 255, 255}, 90)
	pix := r.img.Pix
	stride := int64(r.img.Stride)
	parallelRows(int(y1-y0), func(r0, r1 int) {
		for y := y0 + int64(r0); y < y0+int64(r1); y++ {
			dy := y*16 + 8 - cy
			for x := x0; x < x1; x++ {
				dx := x*16 + 8 - cx
				d := shapeDistance(e.kind, dx, dy, rad)
				o := y*stride + x*4
				if d < 8 {
					// Body: 1 pixel anti-aliasing band, highlight towards the top left.
					cover := clamp(8-d, 0, 16) * 16 * e.alpha >> 8
					light := clamp(256-(dx+dy)*70/rad, 170, 330)
					dr := clamp(e.color.r*light>>8, 0, 255)
					dg := clamp(e.color.g*light>>8, 0, 255)
					db := clamp(e.color.b*light>>8, 0, 255)
					blendPixel(pix[o:o+3], dr, dg, db, cover)
				}
				if d > 0 && d < glow {
					g := glow - d
					blendPixel(pix[o:o+3], lit.r, lit.g, lit.b, g*g*80/(glow*glow))
				}
			}
		}
	})
}

// shapeDistance is the signed distance (Q4 pixels) from a point to a shape of
// radius rad centred at the origin; negative inside.
func shapeDistance(kind shapeKind, dx, dy, rad int64) int64 {
	switch kind {
	case shapeRing:
		return abs64(length(dx, dy)-rad) - rad/7
	case shapeSquare:
		return max(abs64(dx), abs64(dy)) - rad*7/8
	case shapeDiamond:
		return (abs64(dx)+abs64(dy))*46341>>16 - rad*3/4
	case shapeBar:
		along := max(abs64(dx)-rad, 0)
		return length(along, dy) - rad/4
	default:
		return length(dx, dy) - rad
	}
}

// blendPixel moves an RGB pixel towards (cr, cg, cb) by a/256.
func blendPixel(p []uint8, cr, cg, cb, a int64) {
	if a <= 0 {
		return
	}
	p[0] = uint8(int64(p[0]) + (cr-int64(p[0]))*a>>8)
	p[1] = uint8(int64(p[1]) + (cg-int64(p[1]))*a>>8)
	p[2] = uint8(int64(p[2]) + (cb-int64(p[2]))*a>>8)
}

// blendInput lays the input image over the art (img2img). In a video the
// input slowly zooms in and back out.
func (r *renderer) blendInput(phase int64, video bool) {
	sc := r.sc
	w, h := int64(sc.w), int64(sc.h)
	zoom := int64(65536)
	if video {
		zoom = 65536 + (65536-cosTurn(phase))*2600>>16 // up to 8% closer halfway
	}
	pix := r.img.Pix
	parallelRows(sc.h, func(y0, y1 int) {
		for y := int64(y0); y < int64(y1); y++ {
			// Source position in Q8 pixels, scaled about the centre.
			sy := clamp(((y*256+128-h*128)<<16/zoom)+h*128-128, 0, (h-1)*256)
			iy, fy := sy>>8, sy&255
			iy1 := min(iy+1, h-1)
			for x := range w {
				sx := clamp(((x*256+128-w*128)<<16/zoom)+w*128-128, 0, (w-1)*256)
				ix, fx := sx>>8, sx&255
				ix1 := min(ix+1, w-1)
				o := (y*w + x) * 4
				for c := range int64(3) {
					a := int64(sc.input[(iy*w+ix)*3+c])
					b := int64(sc.input[(iy*w+ix1)*3+c])
					top := a + (b-a)*fx>>8
					a = int64(sc.input[(iy1*w+ix)*3+c])
					b = int64(sc.input[(iy1*w+ix1)*3+c])
					bottom := a + (b-a)*fx>>8
					in := top + (bottom-top)*fy>>8
					pix[o+c] = uint8((in*150 + int64(pix[o+c])*106) >> 8)
				}
			}
		}
	})
}

// smooth is the RestoreFaces pass: a separable 1-4-6-4-1 blur.
func (r *renderer) smooth() {
	sc := r.sc
	w, h := sc.w, sc.h
	pix, tmp := r.img.Pix, r.scratch
	weights := [5]int{1, 4, 6, 4, 1}
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := range w {
				for c := range 3 {
					sum := 0
					for k, wt := range weights {
						xx := min(max(x+k-2, 0), w-1)
						sum += wt * int(pix[(y*w+xx)*4+c])
					}
					tmp[(y*w+x)*3+c] = uint8((sum + 8) >> 4)
				}
			}
		}
	})
	parallelRows(h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			for x := range w {
				for c := range 3 {
					sum := 0
					for k, wt := range weights {
						yy := min(max(y+k-2, 0), h-1)
						sum += wt * int(tmp[(yy*w+x)*3+c])
					}
					pix[(y*w+x)*4+c] = uint8((sum + 8) >> 4)
				}
			}
		}
	})
}

// length is the Euclidean length of (dx, dy), rounded down. The square root
// of an exactly representable integer is exact under IEEE 754, so this is
// deterministic on every platform.
func length(dx, dy int64) int64 {
	return int64(math.Sqrt(float64(dx*dx + dy*dy)))
}
