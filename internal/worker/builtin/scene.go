package builtin

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/fnv"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
)

// renderVersion is hashed into every seed; changing it changes every render.
const renderVersion = "aimg-builtin-1"

type rgb struct{ r, g, b int64 }

type style int

const (
	styleMarble   style = iota // smooth warped bands
	styleRidges                // veins from ridged noise
	styleTerraces              // contour-map plateaus
	styleSilk                  // folded stripes
	styleCount
)

type shapeKind int

const (
	shapeDisc shapeKind = iota
	shapeRing
	shapeSquare
	shapeDiamond
	shapeBar
	shapeKindCount
)

// element is the shape one prompt word adds to the picture.
type element struct {
	kind     shapeKind
	color    rgb
	x, y     int64 // centre, Q16 fraction of width and height
	radius   int64 // Q16 fraction of the smaller dimension
	alpha    int64 // 0..256
	bobPhase int64 // turn units (65536 = full turn), for video
}

// octave is the work of one step: one layer of noise added to the field.
type octave struct {
	freq, amp     int64 // Q16
	offX, offY    int64 // Q16 cells
	seed, subseed uint32
}

// warpLayer is one noise layer of the domain warp.
type warpLayer struct {
	freq, amp     int64 // Q16
	offX, offY    int64
	seed, subseed uint32
}

// scene is everything derived from Params before any pixel is drawn.
type scene struct {
	p          Params
	w, h, minD int
	style      style
	lut        [1024]rgb
	noise      noise
	warpX      []warpLayer
	warpY      []warpLayer
	octaves    []octave
	contrast   int64 // LUT units per mean absolute deviation of the field
	baseCells  int64 // Q16 noise cells across the smaller dimension
	elements   []element
	input      []uint8 // W*H*3, the input resampled; nil without input
}

// rng returns a generator for one purpose of one variation (seed) of the prompt.
func rng(prompt string, seed int64, purpose string) *rand.Rand {
	h := sha256.New()
	h.Write([]byte(renderVersion))
	h.Write([]byte{0})
	h.Write([]byte(prompt))
	h.Write([]byte{0})
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(purpose))
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])))
}

// uniform returns an integer in [0, n) from r; only Uint64 is used so the
// sequence does not depend on math/rand's range algorithms.
func uniform(r *rand.Rand, n int64) int64 { return int64(r.Uint64() % uint64(n)) }

func newScene(p Params) *scene {
	sc := &scene{p: p, w: p.Width, h: p.Height, minD: min(p.Width, p.Height)}
	sc.style = samplerStyle(p.Sampler)
	sc.noise = noise{weight: int64(math.Round(p.SubseedStrength * 1024))}
	cfg := int64(math.Round(p.CFGScale * 256)) // Q8
	sc.contrast = 110 + cfg*16>>8
	saturation := 156 + cfg*14>>8 // Q8; 256 at CFG 7

	neg := wordSet(p.NegPrompt)
	var kept []string
	for _, w := range words(p.Prompt) {
		if !neg[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) > 10 {
		kept = kept[:10]
	}
	sc.buildPalette(kept, neg, saturation)
	sc.buildField()
	sc.buildElements(kept, neg, saturation)
	if p.Input != nil {
		sc.input = resampleRGB(p.Input, sc.w, sc.h)
	}
	return sc
}

func (sc *scene) buildPalette(kept []string, neg map[string]bool, saturation int64) {
	r := rng(sc.p.Prompt, sc.p.Seed, "palette")
	var banned []rgb
	for w := range neg {
		if c, ok := namedColors[w]; ok {
			banned = append(banned, c)
		}
	}
	allowed := func(c rgb) bool {
		for _, b := range banned {
			if similarColor(c, b) {
				return false
			}
		}
		return true
	}
	// Colour words first, in prompt order, then the colours of other words.
	var stops []rgb
	for _, w := range kept {
		if c, ok := namedColors[w]; ok && allowed(c) {
			stops = append(stops, c)
		}
	}
	for _, w := range kept {
		if _, ok := namedColors[w]; !ok && allowed(wordColor(w)) && len(stops) < 6 {
			stops = append(stops, wordColor(w))
		}
	}
	if len(stops) < 3 {
		// Too few colours from the prompt: add seed hues in a harmonious
		// scheme around the prompt's first colour (or a seed hue), turned
		// away from unwanted colours.
		schemes := [][2]int64{{256, 512}, {768, 960}, {128, 896}, {512, 1024}, {1280, 768}}
		scheme := schemes[uniform(r, int64(len(schemes)))]
		var base int64
		if len(stops) > 0 {
			base, _, _ = toHSV(stops[0])
		} else {
			base = uniform(r, 1536)
			stops = append(stops, hsv(base, 150+uniform(r, 90), 150+uniform(r, 100)))
		}
		for i := 0; len(stops) < 3; i++ {
			hue := base + scheme[i%2]
			c := hsv(hue, 130+uniform(r, 110), 130+uniform(r, 120))
			for turn := 0; !allowed(c) && turn < 6; turn++ {
				hue += 256
				c = hsv(hue, 150, 200)
			}
			stops = append(stops, c)
		}
	}
	// The seed picks where the gradient starts.
	rot := int(uniform(r, int64(len(stops))))
	stops = append(stops[rot:], stops[:rot]...)
	dark := mix(stops[0], rgb{8, 10, 24}, 190)
	light := mix(stops[len(stops)-1], rgb{250, 246, 236}, 110)
	all := append([]rgb{dark}, stops...)
	all = append(all, light)
	for i := range all {
		all[i] = saturate(all[i], saturation)
	}
	segments := int64(len(all) - 1)
	for i := range int64(1024) {
		pos := i * segments * 256 / 1023 // Q8 position along the stops
		k := min(pos>>8, segments-1)
		sc.lut[i] = mix(all[k], all[k+1], pos-k*256)
	}
}

func (sc *scene) buildField() {
	r := rng(sc.p.Prompt, sc.p.Seed, "field")
	var sub *rand.Rand
	if sc.noise.weight != 0 {
		sub = rng(sc.p.Prompt, sc.p.Subseed, "field")
	}
	seeds := func() (uint32, uint32) {
		s := uint32(r.Uint64())
		if sub == nil {
			return s, 0
		}
		return s, uint32(sub.Uint64())
	}
	offset := func() int64 { return uniform(r, 4096<<16) }

	sc.baseCells = 5 << 15 // 2.5 cells across the smaller dimension
	warpAmp := map[style]int64{styleMarble: 80000, styleRidges: 40000, styleTerraces: 52000, styleSilk: 100000}[sc.style]
	for i := range 2 {
		layerX := warpLayer{freq: 32768 << i, amp: warpAmp >> i, offX: offset(), offY: offset()}
		layerX.seed, layerX.subseed = seeds()
		layerY := warpLayer{freq: 32768 << i, amp: warpAmp >> i, offX: offset(), offY: offset()}
		layerY.seed, layerY.subseed = seeds()
		sc.warpX = append(sc.warpX, layerX)
		sc.warpY = append(sc.warpY, layerY)
	}

	// Steps climb from the base frequency towards about three pixels per
	// cell (maxExp, in sixteenths of an octave); fullDetailSteps steps get
	// there, fewer leave the picture coarser, more fill the octaves in more
	// densely. Amplitude falls as frequency^-1.5.
	const fullDetailSteps = 20
	maxExp := 0
	for maxExp < 128 && sc.baseCells*pow2(maxExp+1)>>16 <= int64(sc.minD)<<16/3 {
		maxExp++
	}
	steps := sc.p.Steps
	for s := range steps {
		e := s * maxExp / max(steps-1, fullDetailSteps-1)
		o := octave{freq: pow2(e), amp: (1 << 32) / pow2(e*3/2), offX: offset(), offY: offset()}
		o.seed, o.subseed = seeds()
		sc.octaves = append(sc.octaves, o)
	}
}

func (sc *scene) buildElements(kept []string, neg map[string]bool, saturation int64) {
	r := rng(sc.p.Prompt, sc.p.Seed, "shapes")
	var sub *rand.Rand
	if sc.noise.weight != 0 {
		sub = rng(sc.p.Prompt, sc.p.Subseed, "shapes")
	}
	// Shapes go to different cells of a 3x3 grid (in an order the seed
	// shuffles) so they do not pile up; the subseed's layout is blended in.
	layout := func(r *rand.Rand) [9]int64 {
		cells := [9]int64{0, 1, 2, 3, 4, 5, 6, 7, 8}
		for i := int64(8); i > 0; i-- {
			j := uniform(r, i+1)
			cells[i], cells[j] = cells[j], cells[i]
		}
		return cells
	}
	cells := layout(r)
	var subCells [9]int64
	if sub != nil {
		subCells = layout(sub)
	}
	// at returns a coordinate (Q16) near the centre of grid column or row k.
	at := func(r *rand.Rand, k int64) int64 { return (2*k+1)*65536/6 - 7000 + uniform(r, 14000) }
	pos := func(i int, vertical bool) int64 {
		axis := func(cell int64) int64 {
			if vertical {
				return cell / 3
			}
			return cell % 3
		}
		v := at(r, axis(cells[i]))
		if sub != nil {
			v += (at(sub, axis(subCells[i])) - v) * sc.noise.weight >> 10
		}
		return v
	}
	size := func() int64 {
		v := 4000 + uniform(r, 8000)
		if sub != nil {
			v += (4000 + uniform(sub, 8000) - v) * sc.noise.weight >> 10
		}
		return v
	}
	for i, w := range kept {
		if i == 7 {
			break
		}
		kind, ok := namedShapes[w]
		if !ok {
			kind = shapeKind(fnv32(w+"/shape") % uint32(shapeKindCount))
		}
		c, ok := namedColors[w]
		if !ok {
			c = wordColor(w)
		}
		e := element{
			kind:     kind,
			color:    saturate(c, saturation),
			x:        pos(i, false),
			y:        pos(i, true),
			radius:   size(),
			alpha:    190 + uniform(r, 50),
			bobPhase: uniform(r, 65536),
		}
		sc.elements = append(sc.elements, e)
	}
}

// samplerStyles spreads the usual sampler names over the style families;
// other names hash to one.
var samplerStyles = map[string]style{
	"dpm++ 2m karras": styleMarble, "dpm++ 2m": styleMarble, "ddim": styleMarble, "plms": styleMarble, "unipc": styleMarble,
	"euler a": styleRidges, "euler": styleRidges, "dpm++ sde karras": styleRidges, "dpm++ sde": styleRidges,
	"dpm++ 2m sde karras": styleRidges, "dpm++ 2m sde": styleRidges,
	"lms": styleTerraces, "lms karras": styleTerraces, "dpm2": styleTerraces, "dpm2 karras": styleTerraces, "dpm fast": styleTerraces,
	"heun": styleSilk, "dpm2 a": styleSilk, "dpm2 a karras": styleSilk, "dpm++ 2s a": styleSilk,
	"dpm++ 2s a karras": styleSilk, "dpm adaptive": styleSilk, "restart": styleSilk,
}

func samplerStyle(sampler string) style {
	name := strings.ToLower(strings.TrimSpace(sampler))
	if s, ok := samplerStyles[name]; ok {
		return s
	}
	return style(fnv32(name) % uint32(styleCount))
}

var stopWords = wordList("a an the of and or with in on at by for to from is are be as into over under " +
	"very highly best quality detailed high resolution masterpiece 4k 8k hd uhd realistic photo")

func wordList(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// words splits a prompt into lower-case words of two or more letters,
// without stop words or repeats, in order.
func words(prompt string) []string {
	fields := strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		if len([]rune(f)) < 2 || stopWords[f] || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

func wordSet(prompt string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words(prompt) {
		m[w] = true
	}
	return m
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// wordColor gives a word that names no colour a colour of its own, the same
// for every seed.
func wordColor(w string) rgb {
	h := int64(fnv32(w))
	return hsv(h%1536, 140+(h>>11)%100, 150+(h>>19)%100)
}

var namedColors = map[string]rgb{
	"red": {214, 40, 40}, "crimson": {178, 24, 52}, "orange": {240, 130, 30}, "yellow": {246, 214, 50},
	"gold": {218, 170, 48}, "golden": {218, 170, 48}, "green": {56, 160, 72}, "blue": {40, 90, 210},
	"purple": {128, 58, 180}, "violet": {140, 80, 220}, "pink": {240, 120, 170}, "magenta": {210, 40, 160},
	"cyan": {40, 200, 220}, "teal": {30, 140, 140}, "white": {240, 240, 236}, "black": {14, 14, 18},
	"gray": {128, 128, 132}, "grey": {128, 128, 132}, "silver": {190, 194, 204}, "brown": {120, 76, 40},
	"sky": {120, 180, 240}, "ocean": {20, 80, 150}, "sea": {30, 100, 160}, "water": {50, 130, 190},
	"forest": {30, 100, 50}, "grass": {90, 170, 60}, "tree": {50, 120, 50}, "leaf": {80, 160, 60},
	"sunset": {250, 110, 70}, "fire": {230, 80, 20}, "flame": {240, 120, 30}, "lava": {200, 50, 20},
	"night": {16, 22, 60}, "snow": {236, 242, 250}, "ice": {180, 220, 240}, "sand": {220, 190, 130},
	"desert": {210, 160, 100}, "sun": {250, 200, 60}, "moon": {220, 220, 200}, "rose": {220, 60, 90},
	"lavender": {180, 160, 220}, "neon": {60, 250, 200}, "cherry": {200, 30, 60}, "lemon": {250, 240, 90},
	"emerald": {20, 150, 100}, "ruby": {170, 20, 50}, "sapphire": {20, 50, 160}, "amber": {250, 170, 20},
}

var namedShapes = map[string]shapeKind{
	"sun": shapeDisc, "moon": shapeDisc, "planet": shapeDisc, "ball": shapeDisc, "circle": shapeDisc,
	"eye": shapeDisc, "apple": shapeDisc, "bubble": shapeDisc, "face": shapeDisc, "cat": shapeDisc,
	"ring": shapeRing, "halo": shapeRing, "orbit": shapeRing, "donut": shapeRing, "portal": shapeRing,
	"house": shapeSquare, "box": shapeSquare, "building": shapeSquare, "city": shapeSquare,
	"square": shapeSquare, "cube": shapeSquare, "window": shapeSquare, "tower": shapeSquare,
	"diamond": shapeDiamond, "crystal": shapeDiamond, "gem": shapeDiamond, "star": shapeDiamond,
	"mountain": shapeDiamond, "kite": shapeDiamond,
	"road": shapeBar, "river": shapeBar, "line": shapeBar, "bridge": shapeBar, "horizon": shapeBar,
	"car": shapeBar, "train": shapeBar, "boat": shapeBar, "ship": shapeBar,
}

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
