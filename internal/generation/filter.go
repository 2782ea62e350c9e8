package generation

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PromptFilter removes banned words and phrases from prompts. Matching is
// case-insensitive and on word boundaries: "teen" is removed from "a teen
// girl" but not from "canteen". Whitespace inside a phrase matches any run
// of whitespace.
type PromptFilter struct {
	re *regexp.Regexp // nil when nothing is banned
}

// NewPromptFilter compiles the banned words and phrases.
func NewPromptFilter(banned []string) *PromptFilter {
	var alts []string
	for _, b := range banned {
		fields := strings.Fields(strings.ToLower(b))
		if len(fields) == 0 {
			continue
		}
		for i, f := range fields {
			fields[i] = regexp.QuoteMeta(f)
		}
		alts = append(alts, strings.Join(fields, `\s+`))
	}
	if len(alts) == 0 {
		return &PromptFilter{}
	}
	// Longest first, so a phrase wins over a word it starts with.
	slices.SortStableFunc(alts, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return &PromptFilter{re: regexp.MustCompile(`(?i)(?:` + strings.Join(alts, "|") + `)`)}
}

// Filter returns prompt without the banned words and phrases, whitespace
// tidied, and the removed words (lower case, each once, in order of first
// appearance). It repeats until nothing banned is left, since a removal can
// join the parts of a phrase ("bad bad word word").
func (f *PromptFilter) Filter(prompt string) (clean string, removed []string) {
	clean = prompt
	for {
		// Each pass that removes something removes non-space characters and
		// adds none, so this ends.
		next, more := f.filterOnce(clean)
		clean = next
		if more == nil {
			return clean, removed
		}
		for _, w := range more {
			if !slices.Contains(removed, w) {
				removed = append(removed, w)
			}
		}
	}
}

func (f *PromptFilter) filterOnce(prompt string) (clean string, removed []string) {
	if f.re == nil || prompt == "" {
		return strings.Join(strings.Fields(prompt), " "), nil
	}
	var b strings.Builder
	pos := 0 // prompt[:pos] is decided
	for from := 0; from <= len(prompt); {
		loc := f.re.FindStringIndex(prompt[from:])
		if loc == nil {
			break
		}
		start, end := from+loc[0], from+loc[1]
		if end == start { // cannot happen with non-empty phrases; guard the loop anyway
			from = end + 1
			continue
		}
		if !boundaryBefore(prompt, start) || !boundaryAfter(prompt, end) {
			// Inside a longer word: try again one character further on.
			_, size := utf8.DecodeRuneInString(prompt[start:])
			from = start + size
			continue
		}
		b.WriteString(prompt[pos:start])
		b.WriteByte(' ')
		removed = append(removed, strings.Join(strings.Fields(strings.ToLower(prompt[start:end])), " "))
		pos, from = end, end
	}
	b.WriteString(prompt[pos:])
	if removed == nil {
		return strings.Join(strings.Fields(prompt), " "), nil
	}
	return tidy(b.String()), removed
}

// tidy collapses whitespace and, since a removal may leave an empty list
// entry behind ("a, teen, b"), drops empty comma-separated entries.
func tidy(s string) string {
	parts := strings.Split(s, ",")
	kept := parts[:0]
	for _, p := range parts {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ", ")
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	first, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(before) || !isWordRune(first)
}

func boundaryAfter(s string, i int) bool {
	if i == len(s) {
		return true
	}
	after, _ := utf8.DecodeRuneInString(s[i:])
	last, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(after) || !isWordRune(last)
}
