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
// appearance).
func (f *PromptFilter) Filter(prompt string) (clean string, removed []string) {
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
		word := strings.Join(strings.Fields(strings.ToLower(prompt[start:end])), " ")
		if !slices.Contains(removed, word) {
			removed = append(removed, word)
		}
		pos, from = end, end
	}
	b.WriteString(prompt[pos:])
	return tidy(b.String()), removed
}

// tidy collapses whitespace and drops the empty list entries a removal
// leaves behind ("a, , b" becomes "a, b").
func tidy(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for strings.Contains(s, ", ,") {
		s = strings.ReplaceAll(s, ", ,", ",")
	}
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, ", ")
	s = strings.TrimSuffix(s, " ,")
	s = strings.TrimSuffix(s, ",")
	if strings.HasPrefix(s, ",") {
		s = strings.TrimSpace(s[1:])
	}
	return s
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
