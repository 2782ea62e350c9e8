package aimg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("é", 1<<20)
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"f222", `"f222"`},
		{"a\"b\n", `"a\"b\n"`},
		{"\xff", `"\xff"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 64) + `…"`},
		{long, `"` + strings.Repeat("é", 64) + `…"`},
		{strings.Repeat("\x00", 1000), `"` + strings.Repeat(`\x00`, 64) + `…"`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%.20q) = %.100s, want %.100s", c.in, got, c.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"0123456789abc", 10, "0123456789..."},
		{"ééééé", 5, "éé..."}, // 2 bytes each: never half a rune
		{"ok\xffbad", 10, "ok?bad"},
	} {
		if got := Truncate(tc.in, tc.max); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
