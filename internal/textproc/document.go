package textproc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A document is the input text cut into sentences and words, the one
// pass that the builtin's summary, headline and topics share. Every step
// is linear in the input (a few map look-ups per word).
type document struct {
	sentences []sentence
	lang      string                // the stop-word list used ("" = English as a fallback)
	tf        map[string]int        // content-word key -> occurrences
	forms     map[string]*wordForms // content-word key -> how it is written
	maxTF     int
}

type sentence struct {
	text        string // as written, runs of white space made one space
	tokens      []token
	paragraph   int
	firstInPara bool
	heading     bool // a title or a short line of its own, not body text
}

type token struct {
	surface    string // as written
	key        string // lower case, lightly stemmed: what frequencies count
	start, end int    // byte offsets in sentence.text
	stop       bool   // a stop word, a number or a lone letter
	// breakBefore: 0 only white space since the previous word, 1 a comma
	// or a dash, 2 anything stronger (; : brackets quotes).
	breakBefore int
	initial     bool // first word of its sentence
}

// wordForms counts the spellings of one key, to show topics as people
// write them: "Paris" stays capitalised, "Reef" at a sentence start does not.
type wordForms struct {
	surfaces    map[string]int // lower-cased surface -> count
	capitalised int            // non-initial occurrences starting upper case
	lower       int            // non-initial occurrences starting lower case
	allCaps     int            // occurrences written in capitals (acronyms)
	first       int            // index of the first occurrence, for stable order
	// nounCase: the language capitalises every noun (German), so a word
	// seen only at sentence starts or in headings keeps its capital.
	nounCase     bool
	firstCapital bool
}

func (f *wordForms) proper() bool {
	if f.capitalised == 0 && f.lower == 0 {
		return f.nounCase && f.firstCapital
	}
	return f.capitalised > f.lower
}

// display is the most frequent spelling, capitalised when the word mostly
// is (a name), kept in capitals when it always is (an acronym).
func (f *wordForms) display() string {
	best, n := "", -1
	for s, c := range f.surfaces {
		if c > n || c == n && s < best {
			best, n = s, c
		}
	}
	total := 0
	for _, c := range f.surfaces {
		total += c
	}
	switch {
	case f.allCaps == total && utf8.RuneCountInString(best) > 1:
		return strings.ToUpper(best)
	case f.proper():
		return capitalise(best)
	}
	return best
}

// maxLangSample bounds the words read to choose a stop-word list.
const maxLangSample = 2000

func analyse(text string) *document {
	d := &document{tf: map[string]int{}, forms: map[string]*wordForms{}}
	d.sentences = splitSentences(text)
	d.lang = detectLanguage(d.sentences)
	stops := stopWords[d.lang]
	if stops == nil {
		stops = stopWords["en"]
	}
	seq := 0
	for i := range d.sentences {
		s := &d.sentences[i]
		s.tokens = tokenize(s.text)
		for j := range s.tokens {
			t := &s.tokens[j]
			lower := strings.ToLower(t.surface)
			t.stop = stops[lower] || stops[trimPossessive(lower)] || !hasLetter(t.surface) || utf8.RuneCountInString(t.surface) == 1
			t.key = stem(d.lang, trimPossessive(lower))
			if t.stop {
				continue
			}
			d.tf[t.key]++
			if d.tf[t.key] > d.maxTF {
				d.maxTF = d.tf[t.key]
			}
			f := d.forms[t.key]
			if f == nil {
				f = &wordForms{surfaces: map[string]int{}, first: seq, nounCase: d.lang == "de"}
				r, _ := utf8.DecodeRuneInString(t.surface)
				f.firstCapital = unicode.IsUpper(r)
				d.forms[t.key] = f
			}
			seq++
			f.surfaces[trimPossessive(lower)]++
			r, _ := utf8.DecodeRuneInString(t.surface)
			if isAllCaps(t.surface) {
				f.allCaps++
			}
			if !t.initial && !s.heading {
				if unicode.IsUpper(r) {
					f.capitalised++
				} else if unicode.IsLower(r) {
					f.lower++
				}
			}
		}
	}
	return d
}

// weight is a word's frequency relative to the document's most frequent
// content word, in (0, 1]; stop words weigh nothing.
func (d *document) weight(key string) float64 {
	if d.maxTF == 0 {
		return 0
	}
	return float64(d.tf[key]) / float64(d.maxTF)
}

// bodyCount is the number of sentences that are not headings.
func (d *document) bodyCount() int {
	n := 0
	for _, s := range d.sentences {
		if !s.heading {
			n++
		}
	}
	return n
}

// splitSentences cuts text into paragraphs (blank lines), blocks (a
// heading, a list item, or wrapped lines of prose) and sentences.
func splitSentences(text string) []sentence {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out []sentence
	paragraph := 0
	var block []string
	blockHeading := false
	first := true
	flush := func() {
		if len(block) == 0 {
			return
		}
		joined := collapseSpace(strings.Join(block, " "))
		block = block[:0]
		if joined == "" {
			return
		}
		if blockHeading {
			out = append(out, sentence{text: joined, paragraph: paragraph, firstInPara: first, heading: true})
			first = false
			return
		}
		for _, s := range cutSentences(joined) {
			out = append(out, sentence{text: s, paragraph: paragraph, firstInPara: first})
			first = false
		}
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			flush()
			if !first {
				paragraph++
				first = true
			}
			continue
		}
		if rest, ok := cutHeadingMark(trimmed); ok {
			flush()
			block, blockHeading = append(block, rest), true
			flush()
			continue
		}
		if rest, ok := cutListMark(trimmed); ok {
			flush()
			blockHeading = false
			block = append(block, rest)
			continue
		}
		next := ""
		if i+1 < len(lines) {
			next = strings.TrimSpace(lines[i+1])
		}
		if isHeadingLine(trimmed, next) {
			flush()
			block, blockHeading = append(block, trimmed), true
			flush()
			continue
		}
		blockHeading = false
		block = append(block, trimmed)
	}
	flush()
	return out
}

// cutHeadingMark strips a Markdown heading's "#"s.
func cutHeadingMark(line string) (string, bool) {
	if !strings.HasPrefix(line, "#") {
		return "", false
	}
	rest := strings.TrimLeft(line, "#")
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// cutListMark strips a list item's bullet or number.
func cutListMark(line string) (string, bool) {
	for _, m := range []string{"- ", "* ", "• ", "– ", "+ "} {
		if rest, ok := strings.CutPrefix(line, m); ok {
			return strings.TrimSpace(rest), true
		}
	}
	i := 0
	for i < len(line) && i < 4 && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && line[i+1] == ' ' {
		return strings.TrimSpace(line[i+2:]), true
	}
	return "", false
}

// maxHeadingWords: a longer line without a full stop is wrapped prose.
const maxHeadingWords = 12

// isHeadingLine: a short line that does not end a sentence and is not
// continued by the next line (which starts a new sentence or is absent).
func isHeadingLine(line, next string) bool {
	last, _ := utf8.DecodeLastRuneInString(line)
	first, _ := utf8.DecodeRuneInString(line)
	if unicode.IsPunct(last) || !(unicode.IsUpper(first) || unicode.IsDigit(first)) {
		return false
	}
	words := strings.Fields(line)
	if len(words) > maxHeadingWords || isStopWordAnywhere(strings.ToLower(words[len(words)-1])) {
		return false // wrapped prose stops mid-phrase: "... studied by"
	}
	if next == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(next)
	return unicode.IsUpper(r) || unicode.IsDigit(r) || strings.HasPrefix(next, "#") || strings.ContainsRune("-*•–+", r)
}

func collapseSpace(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) && !strings.Contains(s, "  ") {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

func isTerminator(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？', '‼', '⁇', '⁈', '⁉', '؟', '।':
		return true
	}
	return false
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', '«', ')', ']', '}', '›':
		return true
	}
	return false
}

// isWide: scripts whose full stops need no space after them.
func isWide(r rune) bool { return r == '。' || r == '！' || r == '？' }

// cutSentences splits one block of prose (single-spaced) at sentence ends:
// a terminator, closing quotes or brackets, then a space and not a lower
// case letter or digit, and not after a known abbreviation or an initial.
func cutSentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isTerminator(r) {
			i += size
			continue
		}
		end := i + size
		wide := isWide(r)
		for end < len(s) {
			r2, n := utf8.DecodeRuneInString(s[end:])
			if !isTerminator(r2) && !isCloser(r2) {
				break
			}
			wide = wide || isWide(r2)
			end += n
		}
		if end < len(s) && s[end] != ' ' && !wide {
			i = end
			continue
		}
		if r == '.' && !endsSentence(s[start:i], s[end:]) {
			i = end
			continue
		}
		if piece := strings.TrimSpace(s[start:end]); piece != "" {
			out = append(out, piece)
		}
		start = end
		i = end
	}
	if piece := strings.TrimSpace(s[start:]); piece != "" {
		out = append(out, piece)
	}
	return out
}

// endsSentence decides whether a full stop after before ends a sentence
// that after continues.
func endsSentence(before, after string) bool {
	after = strings.TrimLeft(after, " ")
	if after == "" {
		return true
	}
	next, _ := utf8.DecodeRuneInString(after)
	if unicode.IsLower(next) || unicode.IsDigit(next) {
		return false
	}
	// Only the last few bytes matter: abbreviations are short, and a long
	// run without spaces must not make each dot rescan it.
	if len(before) > 16 {
		cut := len(before) - 16
		for cut < len(before) && !utf8.RuneStart(before[cut]) {
			cut++
		}
		before = before[cut:]
	}
	word := before
	if k := strings.LastIndexAny(before, " (\"'“‘"); k >= 0 {
		word = before[k+1:]
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsUpper(r) {
			return false // an initial: "J. R. R. Tolkien"
		}
	}
	return !abbreviations[strings.ToLower(word)]
}

// abbreviations end with a full stop that does not end the sentence
// (the last dot is not part of the entry).
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "e.g": true, "i.e": true, "cf": true, "approx": true, "inc": true, "ltd": true,
	"co": true, "corp": true, "no": true, "nos": true, "fig": true, "figs": true, "vol": true, "pp": true, "ca": true,
	"u.s": true, "u.k": true, "a.m": true, "p.m": true, "jan": true, "feb": true, "mar": true, "apr": true,
	"jun": true, "jul": true, "aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"gen": true, "col": true, "lt": true, "sgt": true, "rev": true, "hon": true, "est": true, "dept": true,
	// German
	"z.b": true, "bzw": true, "usw": true, "nr": true, "d.h": true, "u.a": true, "ggf": true, "evtl": true,
	"vgl": true, "s": true, "str": true, "hr": true, "fr": true, "bspw": true,
	// French, Spanish, Italian
	"m": true, "mme": true, "mlle": true, "av": true, "sra": true, "sr.": true, "dra": true, "ud": true,
	"uds": true, "pág": true, "sig": true, "dott": true,
}

// tokenize finds the words of a sentence: letters, digits and marks, with
// inner apostrophes, hyphens and dots ("don't", "state-of-the-art",
// "3.5"), and the strength of the punctuation before each.
func tokenize(s string) []token {
	var out []token
	brk := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			switch {
			case r == ' ':
			case r == ',' || r == '-' || r == '–' || r == '—' || r == '&' || r == '/':
				brk = max(brk, 1)
			default:
				brk = 2
			}
			i += size
			continue
		}
		start := i
		for i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
			if isWordRune(r) {
				i += size
				continue
			}
			if isJoiner(r) && i+size < len(s) {
				if r2, _ := utf8.DecodeRuneInString(s[i+size:]); isWordRune(r2) {
					i += size
					continue
				}
			}
			break
		}
		out = append(out, token{surface: s[start:i], start: start, end: i, breakBefore: brk, initial: len(out) == 0})
		brk = 0
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

func isJoiner(r rune) bool { return r == '\'' || r == '’' || r == '-' || r == '.' || r == '‐' }

func hasLetter(s string) bool { return strings.ContainsFunc(s, unicode.IsLetter) }

func isAllCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters > 1
}

func trimPossessive(s string) string {
	for _, p := range []string{"'s", "’s"} {
		if t, ok := strings.CutSuffix(s, p); ok && t != "" {
			return t
		}
	}
	return s
}

// stem folds plurals so "reef" and "reefs" count as one word. It is
// deliberately light: a wrong fold only merges two rare words.
func stem(lang, w string) string {
	n := len(w)
	switch lang {
	case "en", "":
		switch {
		case n > 4 && strings.HasSuffix(w, "ies"):
			return w[:n-3] + "y"
		case n > 4 && strings.HasSuffix(w, "sses"):
			return w[:n-2]
		case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") &&
			!strings.HasSuffix(w, "is") && !strings.HasSuffix(w, "ous"):
			return w[:n-1]
		}
	case "fr", "es", "pt":
		if n > 4 && (w[n-1] == 's' || w[n-1] == 'x') && w[n-2] != 's' {
			return w[:n-1]
		}
	}
	return w
}

func capitalise(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// detectLanguage picks the stop-word list that matches most of the first
// words; fewer than two matches keeps English.
func detectLanguage(sentences []sentence) string {
	hits := map[string]int{}
	seen := 0
	for _, s := range sentences {
		for _, w := range strings.FieldsFunc(s.text, func(r rune) bool { return !isWordRune(r) && r != '\'' && r != '’' }) {
			lw := strings.ToLower(w)
			for lang, list := range stopWords {
				if list[lw] {
					hits[lang]++
				}
			}
			if seen++; seen >= maxLangSample {
				break
			}
		}
		if seen >= maxLangSample {
			break
		}
	}
	best, n := "en", 1
	for _, lang := range languages {
		if hits[lang] > n {
			best, n = lang, hits[lang]
		}
	}
	return best
}
