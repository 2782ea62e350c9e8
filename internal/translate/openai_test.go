package translate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"aimg/internal/aimg"
)

// fakeChat answers with answer (or err) and records what it was asked.
type fakeChat struct {
	answer       string
	err          error
	system, user string
	calls        int
}

func (f *fakeChat) Chat(_ context.Context, system, user string) (string, error) {
	f.calls++
	f.system, f.user = system, user
	return f.answer, f.err
}

func TestOpenAITranslate(t *testing.T) {
	chat := &fakeChat{answer: "  Hola mundo\n"}
	p := mustOpen(t, "openai+http://127.0.0.1:11434/v1?model=llama3&key=K", Options{Chat: chat})
	ctx := context.Background()
	got, err := p.Translate(ctx, "Hello world", "en", "es")
	if err != nil || got != "Hola mundo" {
		t.Fatalf("Translate = %q, %v", got, err)
	}
	if chat.user != "Hello world" || !strings.Contains(chat.system, "from English to Spanish") {
		t.Errorf("asked system %q user %q", chat.system, chat.user)
	}

	pairs, err := p.Pairs(ctx)
	if err != nil || len(pairs) != len(openAILanguages)*(len(openAILanguages)-1) {
		t.Errorf("%d pairs, %v", len(pairs), err)
	}

	_, err = p.Translate(ctx, "Hello", "en", "tlh")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
	calls := chat.calls
	if got, _ := p.Translate(ctx, "Hello", "en", "en"); got != "Hello" || chat.calls != calls {
		t.Errorf("same language: %q, %d calls", got, chat.calls-calls)
	}

	chat.err = errors.New("connection refused")
	_, err = p.Translate(ctx, "Hello", "en", "de")
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
	chat.err = aimg.Errorf(aimg.CodeInvalid, "the model refused the prompt")
	_, err = p.Translate(ctx, "Hello", "en", "de")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
	chat.err, chat.answer = nil, " \n"
	_, err = p.Translate(ctx, "Hello", "en", "de")
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)

	if got, err := p.Detect(ctx, "Hoy hace buen tiempo y vamos a la playa con mis amigos."); got != "es" || err != nil {
		t.Errorf("Detect = %q, %v", got, err)
	}
}

func TestCleanChatAnswer(t *testing.T) {
	for _, c := range []struct{ answer, source, want string }{
		{"```\nHola\n```", "Hello", "Hola"},
		{"```text\nHola\nmundo\n```", "Hello\nworld", "Hola\nmundo"},
		{"```go\nx := 1\n```", "```go\nx := 1\n```", "```go\nx := 1\n```"},
		{`"Hola"`, "Hello", "Hola"},
		{`"Hola"`, `"Hello"`, `"Hola"`},
		{`"Sí" y "no"`, `"Yes" and "no"`, `"Sí" y "no"`},
		{"«Bonjour»", "Hello", "Bonjour"},
		{"Hola\n", "Hello", "Hola"},
	} {
		if got := cleanChatAnswer(c.answer, c.source); got != c.want {
			t.Errorf("cleanChatAnswer(%q, %q) = %q, want %q", c.answer, c.source, got, c.want)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, raw := range []string{
		"apertium", "apertium+ftp://host", "apertium+http://", "deepl+http://host", "apertium+http://host?x=1",
		"libretranslate+http://host?api_key=K&x=1", "openai+http://host/v1",
	} {
		if p, err := Open(raw, Options{}); err == nil {
			t.Errorf("Open(%q) = %s, want an error", raw, p.Name())
		}
	}
	if _, err := Open("apertium+http://host", Options{Timeout: -1}); err == nil {
		t.Error("a negative Timeout was accepted")
	}
	_, err := Open("libretranslate+http://host?api_key=SECRET&x=1", Options{})
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v shows the key", err)
	}
	for raw, name := range map[string]string{
		"apertium+http://127.0.0.1:2737":                 "apertium",
		"apertium+https://apy.example/apy/":              "apertium",
		"libretranslate+http://127.0.0.1:5000?api_key=K": "libretranslate",
		"openai+http://host:11434/v1?model=m&key=K":      "openai",
	} {
		p, err := Open(raw, Options{Chat: &fakeChat{}})
		if err != nil || p.Name() != name {
			t.Errorf("Open(%q) = %v, %v; want %s", raw, p, err, name)
		}
	}
}
