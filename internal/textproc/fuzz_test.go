package textproc

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// FuzzBuiltin: on any input the builtin does not panic, answers within its
// budgets with valid UTF-8, fails only as invalid (never retryable: the
// same input would fail again), and a summary is made of the input's own
// sentences.
func FuzzBuiltin(f *testing.F) {
	for _, name := range []string{"reef_en.txt", "library_en.txt", "elektroautos_de.txt", "short_en.txt"} {
		f.Add(readText(f, name))
	}
	for _, s := range []string{"", ".", "a", "A. B. C.", "# \n#  x\n- \n1) ", "e.g. i.e. Dr. Mr.", "\xff\xfe word word.",
		"今日は晴れです。明日は雨です。", "---,,,;;;", strings.Repeat("x", 600), "Ünïcödé ÄÖÜ straße. STRASSE!",
		"don't won't ’s 's s' -- - -word word- .5 5. 3.14.15"} {
		f.Add(s)
	}
	const maxIn, maxOut = 4096, 200
	b, err := NewBuiltin(Options{MaxInputBytes: maxIn, MaxOutputBytes: maxOut})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input string) {
		for _, ty := range b.Types() {
			out, err := b.Process(context.Background(), ty, input)
			if err != nil {
				if aimg.ErrorCode(err) != aimg.CodeInvalid {
					t.Fatalf("%s: %v: want only invalid errors", ty, err)
				}
				continue
			}
			if out == "" || len(out) > maxOut || !utf8.ValidString(out) {
				t.Fatalf("%s: %q (%d bytes): want 1-%d bytes of UTF-8", ty, out, len(out), maxOut)
			}
			if ty == Summary && !isSubsequence(noSpace(strings.TrimSuffix(out, "…")), noSpace(strings.ToValidUTF8(input, " "))) {
				t.Fatalf("summary %q is not made of the input's text in its order", out)
			}
		}
	})
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }

// isSubsequence: the bytes of sub appear in s in order (sentences kept in
// the input's order, with text between them left out).
func isSubsequence(sub, s string) bool {
	i := 0
	for j := 0; i < len(sub) && j < len(s); j++ {
		if sub[i] == s[j] {
			i++
		}
	}
	return i == len(sub)
}
