package media

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
)

// decoderOverhead covers what a decoder allocates whatever the image's size:
// readers, zlib and LZW state, Huffman tables, colour caches.
const decoderOverhead = 256 << 10

// Info is what an image's header says, read without decoding its pixels.
type Info struct {
	Format string // "png", "jpeg", "gif" or "webp"
	Width  int
	Height int
	// DecodedBytes is an upper bound on the memory that decoding the image
	// allocates: its pixels at the bytes per pixel of the decoded form (16-bit
	// channels and alpha counted), plus what the decoder keeps beside them
	// (progressive JPEG coefficients, interlaced PNG passes, a GIF's canvas).
	DecodedBytes int64
}

// Pixels is Width x Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Inspect reads the image's header: format, size and the memory decoding it
// would take. It allocates almost nothing, whatever the header claims, and
// works on a prefix of the file that holds the header (the estimate is then
// never lower). Errors wrap ErrUnsupported or ErrCorrupt.
func Inspect(data []byte) (info Info, err error) {
	info.Format = Sniff(data)
	if info.Format == "" {
		return Info{}, fmt.Errorf("%w: expected PNG, JPEG, GIF or WebP", ErrUnsupported)
	}
	defer func() {
		if r := recover(); r != nil {
			info, err = Info{}, fmt.Errorf("%w: %s decoder failed: %v", ErrCorrupt, info.Format, r)
		}
	}()
	cfg, err := codecs[info.Format].decodeConfig(data)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, fmt.Errorf("%w: %s image is %dx%d", ErrCorrupt, info.Format, cfg.Width, cfg.Height)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	info.DecodedBytes = decoderOverhead + int64(float64(info.Pixels())*bytesPerPixel(info.Format, data, cfg))
	return info, nil
}

// bytesPerPixel is what the standard decoders allocate per pixel of the
// image (see image/png, image/jpeg, image/gif and x/image/webp).
func bytesPerPixel(format string, data []byte, cfg image.Config) float64 {
	switch format {
	case FormatPNG:
		bpp := modelBytes(cfg.ColorModel)
		if (cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model) && pngHasTransparency(data) {
			// Grey with a transparent colour decodes to NRGBA (NRGBA64 when 16-bit).
			bpp *= 4
		}
		if len(data) > 28 && data[28] == 1 {
			// Adam7: each of the seven passes is decoded into its own image,
			// then merged into the result: twice the pixels in memory.
			bpp *= 2
		}
		return bpp
	case FormatJPEG:
		comps, progressive := jpegFrame(data)
		bpp := modelBytes(cfg.ColorModel) // Gray 1, YCbCr 3 (4:4:4 at most), CMYK 4
		if comps == 4 {
			// Four components are decoded as YCbCr plus a black plane, then
			// converted: both copies exist at once.
			bpp = 3 + 1 + 4
		}
		if progressive {
			// Every 8x8 block of every component keeps 64 int32
			// coefficients between scans: 4 bytes per sample.
			bpp += 4 * float64(max(comps, 1))
		}
		return bpp
	case FormatGIF:
		// The first frame is paletted (1 byte a pixel); a frame smaller than
		// the screen is drawn on an NRGBA canvas (4 more).
		return 1 + 4
	case FormatWebP:
		switch cfg.ColorModel {
		case color.YCbCrModel: // lossy VP8: 4:2:0, rounded up to macroblocks
			return 2
		case color.NYCbCrAModel: // lossy with an alpha plane, which may itself be VP8L-coded (4 bytes a pixel)
			return 2 + 1 + 4
		default: // lossless VP8L: NRGBA out, and the ARGB pixels it transforms
			return 4 + 4
		}
	}
	return 8
}

// modelBytes is the size of one pixel of the colour model's image type.
func modelBytes(m color.Model) float64 {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // unknown: the widest standard pixel
}

// pngHasTransparency reports whether a tRNS chunk comes before the image
// data. When data ends first (a prefix of the file) it may: true.
func pngHasTransparency(data []byte) bool {
	for i := 8; i+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[i:]))
		switch string(data[i+4 : i+8]) {
		case "tRNS":
			return true
		case "IDAT", "IEND":
			return false
		}
		if n > int64(len(data)) {
			return true
		}
		i += 12 + int(n)
	}
	return true
}

// jpegFrame finds the frame header (SOFn) and returns its component count and
// whether the image is progressive. Unknown or missing: (0, false).
func jpegFrame(data []byte) (components int, progressive bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 0, false
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8) { // standalone markers
			i += 2
			continue
		}
		length := int(binary.BigEndian.Uint16(data[i+2:]))
		if marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc {
			if i+9 < len(data) {
				components = int(data[i+9])
			}
			return components, marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce
		}
		if marker == 0xda { // start of scan before any frame: malformed
			return 0, false
		}
		i += 2 + length
	}
	return 0, false
}
