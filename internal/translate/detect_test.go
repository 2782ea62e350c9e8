package translate

import (
	"testing"

	"aimg/internal/aimg"
)

func TestDetectBuiltin(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"The quick brown fox jumps over the lazy dog.", "en"},
		{"I have a blue house in the mountains and I like it.", "en"},
		{"Tengo una casa azul en la montaña.", "es"},
		{"Guten Morgen, wie geht es dir?", "de"},
		{"Je suis content de te voir aujourd'hui.", "fr"},
		{"Привет, как дела?", "ru"},
		{"你好，世界", "zh"},
		{"こんにちは", "ja"},
	} {
		got, err := DetectBuiltin(c.text)
		if err != nil || got != c.want {
			t.Errorf("DetectBuiltin(%q) = %q, %v; want %q", c.text, got, err, c.want)
		}
	}
	for _, text := range []string{"", "   ", "12345 !!!", "Hello world", "ok"} {
		got, err := DetectBuiltin(text)
		if err == nil {
			t.Errorf("DetectBuiltin(%q) = %q; want Could not detect language", text, got)
			continue
		}
		wantError(t, err, aimg.CodeInvalid, MsgCouldNotDetect)
	}
}

func TestDetectAmongCandidates(t *testing.T) {
	for _, c := range []struct {
		text       string
		candidates []string
		want       string
	}{
		// Too short to tell among 84 languages, clear among a provider's few.
		{"Hello world", []string{"en", "es", "ca"}, "en"},
		{"Hola, ¿cómo estás?", []string{"en", "es"}, "es"},
		{"Hello world", []string{"en-US", "es_ES"}, "en"},
		// A confident guess outside the candidates stays what it is.
		{"Guten Morgen, wie geht es dir?", []string{"en", "es"}, "de"},
	} {
		got, err := detectAmong(c.text, c.candidates)
		if err != nil || got != c.want {
			t.Errorf("detectAmong(%q, %v) = %q, %v; want %q", c.text, c.candidates, got, err, c.want)
		}
	}
	// One candidate is no choice: whatlanggo would call everything Latin English.
	if got, err := detectAmong("Bon dia", []string{"en"}); err == nil {
		t.Errorf("detectAmong(Bon dia, [en]) = %q; want an error", got)
	}
}

func TestLanguageCodes(t *testing.T) {
	for three, want := range map[string]string{"eng": "en", "spa": "es", "cat": "ca", "ENG": "en", "pes": "fa", "cmn": "zh", "ast": "ast"} {
		if got := fromISO3(three); got != want {
			t.Errorf("fromISO3(%q) = %q, want %q", three, got, want)
		}
	}
	for code, want := range map[string]Language{
		"en": {"en", "English"}, "ca": {"ca", "Catalan"}, "es": {"es", "Spanish"},
		"ast": {"ast", "Asturian"}, "xx": {"xx", "xx"},
	} {
		if got := languageOf(code); got != want {
			t.Errorf("languageOf(%q) = %+v, want %+v", code, got, want)
		}
	}
	seen1, seen3 := map[string]bool{}, map[string]bool{}
	for _, l := range isoLanguages {
		if len(l.one) != 2 || len(l.three) != 3 || l.label == "" || seen1[l.one] || seen3[l.three] {
			t.Errorf("bad or repeated row %+v", l)
		}
		seen1[l.one], seen3[l.three] = true, true
	}
}
