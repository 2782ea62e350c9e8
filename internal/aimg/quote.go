package aimg

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// QuoteMaxRunes is how much of a client's input Quote keeps.
const QuoteMaxRunes = 64

// Quote is how client input appears in an error message: Go-quoted (so
// control characters and invalid UTF-8 are escaped) and cut after
// QuoteMaxRunes runes, the cut marked by "…" inside the quotes. An error
// message therefore never carries more than a few hundred bytes of what the
// client sent, however much it sent.
func Quote(s string) string {
	runes := 0
	for i := range s {
		if runes == QuoteMaxRunes {
			q := strconv.Quote(s[:i])
			return q[:len(q)-1] + `…"`
		}
		runes++
	}
	return strconv.Quote(s)
}

// Truncate is s as valid UTF-8 (invalid bytes become "?") and at most
// maxBytes long plus "...", cut on a rune boundary: for text from another
// system that is stored or shown (a worker's failure reason, a server's
// error body).
func Truncate(s string, maxBytes int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
