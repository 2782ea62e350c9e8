package builtin

import (
	"hash/fnv"
	"strings"
	"unicode"
)

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
