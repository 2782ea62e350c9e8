package builtin

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
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
