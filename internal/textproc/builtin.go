package textproc

import (
	"context"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// Budgets of the builtin's outputs (beside Options.MaxOutputBytes).
const (
	maxSummarySentences = 10
	maxHeadlineWords    = 10
	maxHeadlineBytes    = 160
	maxTopics           = 5
	// redundantOverlap: a candidate sharing this share of its content
	// words with a chosen sentence says nothing new.
	redundantOverlap = 0.6
)

// Builtin is the extractive text provider: summary, headline and topics
// from word frequencies, on the CPU, in time linear in the input. It has
// no free prompt (that needs a language model).
type Builtin struct {
	opts Options
}

// NewBuiltin returns the builtin provider; o's budgets apply.
func NewBuiltin(o Options) (*Builtin, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Builtin{opts: o}, nil
}

func (b *Builtin) Name() string { return "builtin" }

func (b *Builtin) Types() []string { return []string{Summary, Headline, Topics} }

// Process runs one task. Input without words is invalid (there is
// nothing to extract); a cancelled context is returned as is.
func (b *Builtin) Process(ctx context.Context, taskType, input string) (string, error) {
	switch taskType {
	case Summary, Headline, Topics:
	default:
		return "", unknownType(b.Name(), taskType)
	}
	if err := checkInput(input, b.opts.MaxInputBytes); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d := analyse(strings.ToValidUTF8(input, " "))
	if d.maxTF == 0 {
		return "", aimg.Invalid("input", "has no words to work on")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var out string
	switch taskType {
	case Summary:
		out = d.summary(b.opts.MaxOutputBytes)
	case Headline:
		out = d.headline()
	case Topics:
		out = strings.Join(d.topics(maxTopics), ", ")
	}
	return clip(out, b.opts.MaxOutputBytes), nil
}

// score ranks a sentence for the summary: the weights of its distinct
// content words over the square root of its length (long sentences hold
// more words but should not win on length alone), with a little lead
// bias (openings tend to state the subject) and a penalty for fragments.
func (d *document) score(i int) float64 {
	s := d.sentences[i]
	seen := map[string]bool{}
	sum, n := 0.0, 0
	for _, t := range s.tokens {
		if t.stop {
			continue
		}
		n++
		if !seen[t.key] {
			seen[t.key] = true
			sum += d.weight(t.key)
		}
	}
	if n == 0 {
		return 0
	}
	v := sum / math.Sqrt(float64(n))
	switch {
	case i == 0:
		v *= 1.15
	case s.firstInPara:
		v *= 1.05
	}
	if n < 3 {
		v *= 0.5
	}
	return v
}

func contentKeys(s sentence) map[string]bool {
	m := map[string]bool{}
	for _, t := range s.tokens {
		if !t.stop {
			m[t.key] = true
		}
	}
	return m
}

func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for k := range a {
		if b[k] {
			shared++
		}
	}
	return float64(shared) / float64(min(len(a), len(b)))
}

// summary keeps about a third of the body sentences (at least one, at
// most maxSummarySentences), the best scored that are not repeats of one
// already kept, in their original order, within maxBytes.
func (d *document) summary(maxBytes int) string {
	var candidates []int
	for i, s := range d.sentences {
		if !s.heading {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 { // only short lines: treat them as the body
		for i := range d.sentences {
			candidates = append(candidates, i)
		}
	}
	want := min(max(int(math.Round(float64(len(candidates))/3)), 1), maxSummarySentences)
	scores := make([]float64, len(d.sentences))
	for _, i := range candidates {
		scores[i] = d.score(i)
	}
	slices.SortStableFunc(candidates, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return a - b
	})
	var chosen []int
	var chosenKeys []map[string]bool
	size := 0
	for _, i := range candidates {
		if len(chosen) == want {
			break
		}
		keys := contentKeys(d.sentences[i])
		if slices.ContainsFunc(chosenKeys, func(k map[string]bool) bool { return overlap(keys, k) >= redundantOverlap }) {
			continue
		}
		n := len(d.sentences[i].text) + 1
		if len(chosen) > 0 && size+n > maxBytes {
			continue // a shorter one may still fit
		}
		chosen, chosenKeys, size = append(chosen, i), append(chosenKeys, keys), size+n
	}
	slices.Sort(chosen)
	parts := make([]string, len(chosen))
	for k, i := range chosen {
		parts[k] = d.sentences[i].text
	}
	return strings.Join(parts, " ")
}

// headline: the document's own title when it opens with one; else the
// best sentence when it is short; else the stretch of at most
// maxHeadlineWords words of that sentence that carries the most weight,
// from a content word to a content word, not across a stronger stop than
// a comma ("Coral reefs ... bleaching across the Great Barrier Reef").
func (d *document) headline() string {
	if h := d.headlineText(); strings.ContainsFunc(h, isWordRune) {
		return h
	}
	// Punctuation around a few words: the most frequent word will do.
	return capitalise(d.topics(1)[0])
}

func (d *document) headlineText() string {
	if len(d.sentences) > 1 && d.sentences[0].heading && d.bodyCount() > 0 && len(d.sentences[0].tokens) > 0 {
		return clipWords(strings.TrimRight(d.sentences[0].text, ":"), maxHeadlineBytes)
	}
	best, bestScore := -1, -1.0
	hasBody := d.bodyCount() > 0
	for i, s := range d.sentences {
		if s.heading && hasBody {
			continue
		}
		if v := d.score(i); v > bestScore {
			best, bestScore = i, v
		}
	}
	s := d.sentences[best]
	if len(s.tokens) <= maxHeadlineWords+2 {
		return clipWords(capitalise(trimEndPunct(s.text)), maxHeadlineBytes)
	}
	type window struct {
		from, to int // token indexes, inclusive
		weight   float64
	}
	top := window{from: -1}
	for from := range s.tokens {
		if s.tokens[from].stop && from != 0 {
			continue
		}
		seen := map[string]bool{}
		sum := 0.0
		for to := from; to < len(s.tokens) && to-from < maxHeadlineWords; to++ {
			t := s.tokens[to]
			if to > from && t.breakBefore > 1 {
				break
			}
			if t.stop {
				continue
			}
			if !seen[t.key] {
				seen[t.key] = true
				sum += d.weight(t.key)
			}
			// Ties keep the earlier, shorter stretch: it reads more like
			// the sentence's subject.
			if sum > top.weight+1e-9 {
				top = window{from, to, sum}
			}
		}
	}
	if top.from < 0 {
		return clipWords(capitalise(trimEndPunct(s.text)), maxHeadlineBytes)
	}
	text := s.text[s.tokens[top.from].start:s.tokens[top.to].end]
	return clipWords(capitalise(trimEndPunct(text)), maxHeadlineBytes)
}

// topics: the most frequent content words (ties: the earlier one), each
// replaced by a two- or three-word phrase it mostly occurs in ("climate
// change" rather than "climate"). Beyond the first three, a word must
// occur twice to count as a topic.
func (d *document) topics(limit int) []string {
	type gram struct {
		keys    []string
		count   int
		first   int
		surface map[string]int
	}
	grams := map[string]*gram{}
	byWord := map[string][]*gram{}
	seq := 0
	for _, s := range d.sentences {
		for i := range s.tokens {
			seq++
			for n := 2; n <= 3 && i+n <= len(s.tokens); n++ {
				run := s.tokens[i : i+n]
				ok := true
				for k, t := range run {
					if t.stop || (k > 0 && t.breakBefore > 0) || !topicWord(t, d.forms[t.key]) {
						ok = false
						break
					}
				}
				if !ok {
					break // a longer run holds the same gap
				}
				keys := make([]string, n)
				for k, t := range run {
					keys[k] = t.key
				}
				id := strings.Join(keys, " ")
				g := grams[id]
				if g == nil {
					g = &gram{keys: keys, first: seq, surface: map[string]int{}}
					grams[id] = g
					for _, k := range keys {
						byWord[k] = append(byWord[k], g)
					}
				}
				g.count++
				g.surface[strings.ToLower(s.text[run[0].start:run[n-1].end])]++
			}
		}
	}
	words := make([]string, 0, len(d.tf))
	for k := range d.tf {
		words = append(words, k)
	}
	slices.SortFunc(words, func(a, b string) int {
		if d.tf[a] != d.tf[b] {
			return d.tf[b] - d.tf[a]
		}
		return d.forms[a].first - d.forms[b].first
	})
	covered := map[string]bool{}
	var out []string
	for _, w := range words {
		if len(out) == limit {
			break
		}
		f := d.forms[w]
		if covered[w] || !topicWordForms(w, f) {
			continue
		}
		if len(out) >= 3 && d.tf[w] < 2 {
			break // sorted by frequency: no later word occurs twice either
		}
		var best *gram
		for _, g := range byWord[w] {
			if g.count < 2 || 3*g.count < d.tf[w] || slices.ContainsFunc(g.keys, func(k string) bool { return covered[k] }) {
				continue
			}
			if best == nil || g.count > best.count || g.count == best.count && len(g.keys) > len(best.keys) ||
				g.count == best.count && len(g.keys) == len(best.keys) && g.first < best.first {
				best = g
			}
		}
		if best == nil {
			covered[w] = true
			out = append(out, f.display())
			continue
		}
		for _, k := range best.keys {
			covered[k] = true
		}
		out = append(out, d.phraseDisplay(best.keys, best.surface))
	}
	if len(out) == 0 { // only numbers and lone letters: offer those
		for _, w := range words[:min(limit, len(words))] {
			out = append(out, d.forms[w].display())
		}
	}
	return out
}

// topicWord: a word worth offering as a topic: not a number, at least
// three letters unless an acronym ("AI", "EU").
func topicWord(t token, f *wordForms) bool { return f != nil && topicWordForms(t.key, f) }

func topicWordForms(key string, f *wordForms) bool {
	if !hasLetter(key) {
		return false
	}
	return utf8.RuneCountInString(key) >= 3 || f.allCaps > 0
}

// phraseDisplay writes a phrase in its commonest spelling, each word in
// lower case unless the word is mostly written as a name or an acronym.
func (d *document) phraseDisplay(keys []string, surfaces map[string]int) string {
	best, n := "", -1
	for s, c := range surfaces {
		if c > n || c == n && s < best {
			best, n = s, c
		}
	}
	words := tokenize(best)
	if len(words) != len(keys) {
		return best
	}
	var b strings.Builder
	prev := 0
	for i, t := range words {
		b.WriteString(best[prev:t.start])
		w := t.surface
		if f := d.forms[keys[i]]; f != nil {
			total := 0
			for _, c := range f.surfaces {
				total += c
			}
			switch {
			case f.allCaps == total:
				w = strings.ToUpper(w)
			case f.proper():
				w = capitalise(w)
			}
		}
		b.WriteString(w)
		prev = t.end
	}
	return b.String()
}

func trimEndPunct(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return isTerminator(r) || r == ',' || r == ';' || r == ':' || r == ' '
	})
}

// clipWords shortens s to at most maxBytes at a word boundary.
func clipWords(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	cut := strings.LastIndexByte(s[:maxBytes+1], ' ')
	if cut <= 0 {
		return clip(s, maxBytes)
	}
	return trimEndPunct(s[:cut])
}

// clip shortens s to at most maxBytes, on a rune boundary, marking the cut
// with an ellipsis when there is room for one.
func clip(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	const ellipsis = "…"
	room := maxBytes
	if maxBytes > len(ellipsis)*4 {
		room -= len(ellipsis)
	}
	cut := room
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if room < maxBytes {
		return s[:cut] + ellipsis
	}
	return s[:cut]
}
