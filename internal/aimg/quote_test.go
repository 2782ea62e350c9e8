package aimg

import (
	"strings"
	"testing"
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
