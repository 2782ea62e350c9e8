package media

import (
	"errors"
	"fmt"
	"image"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// MaxResizeSide is the largest width or height Resize produces.
const MaxResizeSide = 4096

// ErrInvalidSize reports a resize request that cannot be honoured (negative,
// both sides zero, over MaxResizeSide, unknown mode). It is about the request,
// not the image.
var ErrInvalidSize = errors.New("invalid resize request")

// Resize modes, as in the getFile "mode" parameter.
const (
	ModeFit  = "fit"  // the whole image inside width x height, aspect kept
	ModeFill = "fill" // cover width x height exactly, centre-cropped
)

// SquareCrop centre-crops img to a square and scales it to size x size with
// Catmull-Rom, a sharp high-quality filter suited to thumbnails. size must be
// positive.
func SquareCrop(img image.Image, size int) *image.NRGBA {
	if size <= 0 {
		panic(fmt.Sprintf("media.SquareCrop: size %d is not positive", size))
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	return scale(img, image.Rect(x0, y0, x0+side, y0+side), size, size)
}

// Resize scales img for the file server.
//
// Mode "fit" (the default when mode is "") keeps the aspect ratio and fits the
// image inside width x height; "fill" covers width x height exactly and
// centre-crops what overflows. A zero width or height is derived from the
// other side and the image's aspect ratio (in both modes, so nothing is
// cropped). Sides are never larger than MaxResizeSide: a derived side that
// would be is capped there and the other side shrinks to keep the aspect.
// Smaller images are scaled up to the requested size; callers that want
// "never upscale" compare the bounds first. When the result would have the
// image's own size, img itself is returned.
func Resize(img image.Image, width, height int, mode string) (image.Image, error) {
	switch mode {
	case "":
		mode = ModeFit
	case ModeFit, ModeFill:
	default:
		return nil, fmt.Errorf("%w: mode %q, expected %q or %q", ErrInvalidSize, mode, ModeFit, ModeFill)
	}
	if width < 0 || height < 0 || (width == 0 && height == 0) {
		return nil, fmt.Errorf("%w: %dx%d, need a positive width or height", ErrInvalidSize, width, height)
	}
	if width > MaxResizeSide || height > MaxResizeSide {
		return nil, fmt.Errorf("%w: %dx%d, at most %d per side", ErrInvalidSize, width, height, MaxResizeSide)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%w: the image is empty", ErrInvalidSize)
	}
	if mode == ModeFill && width > 0 && height > 0 {
		cw, ch := FillCrop(b.Dx(), b.Dy(), width, height)
		x0 := b.Min.X + (b.Dx()-cw)/2
		y0 := b.Min.Y + (b.Dy()-ch)/2
		crop := image.Rect(x0, y0, x0+cw, y0+ch)
		if crop == b && width == b.Dx() && height == b.Dy() {
			return img, nil
		}
		return scale(img, crop, width, height), nil
	}
	w, h := FitSize(b.Dx(), b.Dy(), width, height)
	if w == b.Dx() && h == b.Dy() {
		return img, nil
	}
	return scale(img, b, w, h), nil
}

// FitSize is the size Resize gives a srcW x srcH image in mode "fit" (or
// "fill" with a zero side): inside width x height with the aspect kept, a
// zero side bounded only by MaxResizeSide. Sides must be positive, width and
// height not both zero.
func FitSize(srcW, srcH, width, height int) (w, h int) {
	sw, sh := int64(srcW), int64(srcH)
	boxW, boxH := int64(width), int64(height)
	if boxW == 0 {
		boxW = MaxResizeSide
	}
	if boxH == 0 {
		boxH = MaxResizeSide
	}
	var fw, fh int64
	if boxW*sh <= boxH*sw {
		fw, fh = boxW, clamp(divRound(sh*boxW, sw), 1, boxH)
	} else {
		fw, fh = clamp(divRound(sw*boxH, sh), 1, boxW), boxH
	}
	return int(fw), int(fh)
}

// FillCrop is the centred part of a srcW x srcH image that Resize scales to
// width x height in mode "fill": the largest rectangle of that shape. All
// sides must be positive.
func FillCrop(srcW, srcH, width, height int) (cw, ch int) {
	sw, sh, w, h := int64(srcW), int64(srcH), int64(width), int64(height)
	if sw*h > sh*w {
		// Wider than the target: keep the full height, cut the sides.
		return int(clamp(divRound(sh*w, h), 1, sw)), srcH
	}
	return srcW, int(clamp(divRound(sw*h, w), 1, sh))
}

// scale draws the src rectangle of img into a new width x height image.
//
// x/image/draw only has fast paths for an *image.RGBA destination, so it
// scales into premultiplied RGBA and converts to NRGBA, which is exact for
// opaque pixels.
func scale(img image.Image, src image.Rectangle, width, height int) *image.NRGBA {
	// Shrink by an integer factor with a box filter first, while the source
	// is still at least twice the target: the kernel's cost grows with the
	// shrink factor (a 40 MP photo to 128x128 took over a second), a box
	// average of premultiplied pixels is exact, and Catmull-Rom then does the
	// last, fine step.
	factor := min(src.Dx()/(2*width), src.Dy()/(2*height))
	switch img.(type) {
	case *image.RGBA, *image.NRGBA:
		if factor >= 2 {
			img = boxShrink(img, src, factor)
			src = img.Bounds()
		}
	default:
		// The kernel reads each source pixel about four times, and its YCbCr
		// and generic paths convert colour on every read: converting a JPEG's
		// YCbCr (or a palette) once up front is cheaper.
		if factor >= 2 {
			img = boxShrink(img, src, factor)
		} else {
			rgba := image.NewRGBA(src)
			draw.Draw(rgba, src, img, src.Min, draw.Src)
			img = rgba
		}
		src = img.Bounds()
	}
	premul := image.NewRGBA(image.Rect(0, 0, width, height))
	xdraw.CatmullRom.Scale(premul, premul.Bounds(), img, src, xdraw.Src, nil)
	return toNRGBA(premul)
}

// boxShrink averages each factor x factor block of the r part of img, in
// premultiplied RGBA, converting one band of factor rows at a time so that a
// huge source is never copied whole. The few rows and columns left over are
// split evenly between the edges so the result stays centred.
func boxShrink(img image.Image, r image.Rectangle, factor int) *image.RGBA {
	w, h := r.Dx()/factor, r.Dy()/factor
	x0 := r.Min.X + (r.Dx()-w*factor)/2
	y0 := r.Min.Y + (r.Dy()-h*factor)/2
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	band := image.NewRGBA(image.Rect(0, 0, w*factor, factor))
	sums := make([]uint64, 4*w)
	n := uint64(factor * factor)
	for oy := 0; oy < h; oy++ {
		draw.Draw(band, band.Bounds(), img, image.Pt(x0, y0+oy*factor), draw.Src)
		clear(sums)
		for y := 0; y < factor; y++ {
			pix := band.Pix[y*band.Stride:]
			for ox := 0; ox < w; ox++ {
				sum := sums[4*ox : 4*ox+4 : 4*ox+4]
				for p := 4 * ox * factor; p < 4*(ox+1)*factor; p += 4 {
					sum[0] += uint64(pix[p])
					sum[1] += uint64(pix[p+1])
					sum[2] += uint64(pix[p+2])
					sum[3] += uint64(pix[p+3])
				}
			}
		}
		dst := out.Pix[oy*out.Stride : oy*out.Stride+4*w]
		for i, sum := range sums {
			dst[i] = uint8((sum + n/2) / n)
		}
	}
	return out
}

// toNRGBA converts in place: both types use 4 bytes per pixel.
func toNRGBA(m *image.RGBA) *image.NRGBA {
	pix := m.Pix
	for i := 0; i+3 < len(pix); i += 4 {
		switch a := uint32(pix[i+3]); a {
		case 0xff:
		case 0:
			pix[i], pix[i+1], pix[i+2] = 0, 0, 0
		default:
			pix[i] = uint8((uint32(pix[i])*0xff + a/2) / a)
			pix[i+1] = uint8((uint32(pix[i+1])*0xff + a/2) / a)
			pix[i+2] = uint8((uint32(pix[i+2])*0xff + a/2) / a)
		}
	}
	return &image.NRGBA{Pix: pix, Stride: m.Stride, Rect: m.Rect}
}

// divRound returns a/b rounded to the nearest integer, for a >= 0, b > 0.
func divRound(a, b int64) int64 { return (a + b/2) / b }

func clamp(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }
