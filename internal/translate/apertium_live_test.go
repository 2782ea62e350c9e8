package translate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/translate"
)

// TestApertiumLive translates real text through APy with the Debian
// pairs (scripts/apertium-server.sh starts it; CI requires it).
func TestApertiumLive(t *testing.T) {
	p, err := translate.Open("apertium+"+testsupport.ApertiumURL(t), translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	pairs, err := p.Pairs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[translate.Pair]bool{}
	for _, pr := range pairs {
		have[pr] = true
	}
	en, es, ca := translate.Language{"en", "English"}, translate.Language{"es", "Spanish"}, translate.Language{"ca", "Catalan"}
	for _, want := range []translate.Pair{{en, es}, {es, en}, {en, ca}, {ca, en}} {
		if !have[want] {
			t.Errorf("pairs %+v lack %+v", pairs, want)
		}
	}

	for _, c := range []struct {
		from, to, text string
		want           []string // words the translation must hold
	}{
		{"en", "es", "Hello world.", []string{"Hola", "Mundo"}},
		{"en", "es", "I have a blue house.", []string{"casa", "azul"}},
		{"en", "ca", "I have a blue house.", []string{"casa", "blava"}},
		{"en", "ca", "Good morning, my friend.", []string{"Bon dia", "amic"}},
		{"es", "en", "Tengo una casa azul.", []string{"house", "blue"}},
		{"ca", "en", "Tinc una casa blava.", []string{"have", "blue"}},
	} {
		got, err := p.Translate(ctx, c.text, c.from, c.to)
		if err != nil {
			t.Errorf("Translate(%q, %s, %s): %v", c.text, c.from, c.to, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Translate(%q, %s, %s) = %q; want it to contain %q", c.text, c.from, c.to, got, w)
			}
		}
	}

	// Words the dictionaries lack come back without APy's "*" mark, and
	// plain text keeps its line breaks and its markup-like characters.
	text := "The zorblax is blue.\nA < B & C."
	got, err := p.Translate(ctx, text, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "*") || !strings.Contains(got, "zorblax") || !strings.Contains(got, "\n") || !strings.Contains(got, "<") || !strings.Contains(got, "&") {
		t.Errorf("Translate(%q) = %q; want zorblax unmarked, the line break, < and & kept", text, got)
	}

	_, err = p.Translate(ctx, "Hello", "en", "fr")
	if ae := (*aimg.Error)(nil); !errors.As(err, &ae) || ae.Code != aimg.CodeInvalid || ae.Message != translate.MsgUnableToTranslate {
		t.Fatalf("en to fr: %v; want invalid %q", err, translate.MsgUnableToTranslate)
	}

	// Debian's APy has no CLD2: /identifyLang answers {} and the built-in
	// detector decides among the server's source languages.
	for text, want := range map[string]string{
		"The weather is nice today and we are going to the beach.": "en",
		"Hello world": "en",
		"Hoy hace buen tiempo y vamos a la playa con mis amigos.": "es",
	} {
		if got, err := p.Detect(ctx, text); got != want || err != nil {
			t.Errorf("Detect(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
}
