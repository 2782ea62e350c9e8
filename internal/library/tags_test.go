package library

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// validTag is the spec's expression spelled out byte by byte, apart from
// the regexp: a-z, 0-9, the range '$'..'_' and . + ! * ' ( ).
func validTag(t string) bool {
	if len(t) < 1 || len(t) > MaxTagLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= '$' && c <= '_':
		case strings.IndexByte(".+!*'()", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func TestNormalizeTags(t *testing.T) {
	got, err := NormalizeTags("tags", []string{"Fox", "fox", "A_B", "$", "%", "@", "[", "^", "_"})
	if err != nil || strings.Join(got, " ") != "fox a_b $ % @ [ ^ _" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"", "#", "`", "{", "~", " ", "é", strings.Repeat("a", 33)} {
		if _, err := NormalizeTags("tags", []string{bad}); err == nil || !strings.HasPrefix(err.Error(), "tags: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzNormalizeTags(f *testing.F) {
	for _, s := range []string{"fox", "FOX", "$-_", "a b", "#", "\u212a", strings.Repeat("z", 33), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeTags("tags", []string{s})
		want := validTag(strings.ToLower(s))
		if (err == nil) != want {
			t.Fatalf("%q: err %v, oracle says valid=%v", s, err, want)
		}
		if err == nil && (len(got) != 1 || !utf8.ValidString(got[0]) || got[0] != strings.ToLower(s)) {
			t.Fatalf("%q -> %q", s, got)
		}
		if err != nil && len(err.Error()) > 1024 {
			t.Fatalf("message of %d bytes", len(err.Error()))
		}
	})
}
