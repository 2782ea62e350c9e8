package generation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPromptFilter(t *testing.T) {
	f := NewPromptFilter([]string{"teen", "bad word", "Child", "  "})
	for _, c := range []struct {
		in, out, removed string
	}{
		{"a red sun", "a red sun", ""},
		{"a TEEN in a canteen", "a in a canteen", "teen"},
		{"teen", "", "teen"},
		{"Child, teen, sunset", "sunset", "child,teen"},
		{"a bad   word here, bad words stay", "a here, bad words stay", "bad word"},
		{"teenage teen's room", "teenage 's room", "teen"},
		{"child_star childhood (child)", "child_star childhood ( )", "child"},
		{"éteen teené teen", "éteen teené", "teen"},
		{"", "", ""},
		{"bad bad word word", "", "bad word"},
	} {
		out, removed := f.Filter(c.in)
		if out != c.out || strings.Join(removed, ",") != c.removed {
			t.Errorf("Filter(%q) = %q, %v; want %q, %q", c.in, out, removed, c.out, c.removed)
		}
	}
	if out, removed := NewPromptFilter(nil).Filter("  teen  sun "); out != "teen sun" || removed != nil {
		t.Errorf("empty filter: %q %v", out, removed)
	}
}

func FuzzPromptFilter(f *testing.F) {
	filter := NewPromptFilter([]string{"teen", "bad word", "x"})
	for _, s := range []string{"a teen", "bad  word", "teen,teen", "xx x", "\xff teen"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, removed := filter.Filter(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Filter(%q) made invalid UTF-8 %q", in, out)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("Filter(%q) = %q is not trimmed", in, out)
		}
		again, removedAgain := filter.Filter(out)
		if again != out || removedAgain != nil {
			t.Fatalf("Filter(%q) = %q (removed %v) leaves %v to remove", in, out, removed, removedAgain)
		}
	})
}
