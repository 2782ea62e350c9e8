package translate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzBestScore: /identifyLang's answer is untrusted.
func FuzzBestScore(f *testing.F) {
	for _, s := range []string{`{}`, `{"spa": 97, "eng": 2}`, `{"eng-spa": 0.8, "spa": -1}`, `{"_": 1}`, `{"-x": 1}`, `[1]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code := bestScore(body)
		if strings.ContainsAny(code, "-_") && !strings.HasPrefix(code, "-") && !strings.HasPrefix(code, "_") {
			t.Fatalf("bestScore(%q) = %q keeps a pair or variant suffix", body, code)
		}
	})
}

// FuzzCleanChatAnswer: a model's answer is untrusted.
func FuzzCleanChatAnswer(f *testing.F) {
	for _, s := range [][2]string{{"```\nHola\n```", "Hello"}, {`"Hola"`, "Hello"}, {"«»", ""}, {"```", ""}, {"``````", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, answer, source string) {
		got := cleanChatAnswer(answer, source)
		if len(got) > len(answer) || (utf8.ValidString(answer) && !utf8.ValidString(got)) {
			t.Fatalf("cleanChatAnswer(%q, %q) = %q", answer, source, got)
		}
	})
}
