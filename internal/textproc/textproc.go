// Package textproc runs the text tasks of Nextcloud's TextProcessing and
// TaskProcessing APIs (free prompt, summary, headline, topics) on a
// Provider: Builtin, an extractive implementation on the CPU, or OpenAI, a
// client of an OpenAI-compatible chat-completions server (Ollama, vLLM,
// llama.cpp server, LocalAI, OpenAI itself). Open picks one from the
// operator's AIMG_TEXT_URL.
package textproc

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// Task types, as Nextcloud TaskProcessing ids.
const (
	FreePrompt = "core:text2text"
	Summary    = "core:text2text:summary"
	Headline   = "core:text2text:headline"
	Topics     = "core:text2text:topics"
)

// Provider runs text tasks. Process gets the task's input text and returns
// the output text. Errors: *aimg.Error code invalid = the task can never
// succeed (fail without retry); anything else (unavailable, time-out) is retried.
type Provider interface {
	Name() string
	Types() []string // the types it serves, in the order above
	Process(ctx context.Context, taskType, input string) (string, error)
}

// Defaults of Options.
const (
	DefaultTimeout          = 5 * time.Minute
	DefaultMaxInputBytes    = 256 << 10
	DefaultMaxOutputBytes   = 64 << 10
	DefaultMaxResponseBytes = 4 << 20
)

// Options are the budgets and transport of a Provider. Zero fields take
// their defaults; negative ones are refused by Open.
type Options struct {
	// Timeout bounds one Process or Chat call (the whole HTTP exchange for
	// OpenAI; the builtin stops at its next check of the context).
	Timeout time.Duration
	// MaxInputBytes bounds the task's input text; longer input is invalid.
	MaxInputBytes int
	// MaxOutputBytes bounds the output text: the builtin never writes more,
	// an OpenAI answer with more is an error.
	MaxOutputBytes int
	// MaxResponseBytes bounds the JSON answer of an OpenAI server, which
	// can carry a thinking model's reasoning beside the output. It is at
	// least MaxOutputBytes.
	MaxResponseBytes int
	// HTTPClient makes OpenAI requests; nil: a client without a global
	// time-out (Timeout bounds each call).
	HTTPClient *http.Client
}

func (o Options) withDefaults() (Options, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{{"Timeout", int64(o.Timeout)}, {"MaxInputBytes", int64(o.MaxInputBytes)},
		{"MaxOutputBytes", int64(o.MaxOutputBytes)}, {"MaxResponseBytes", int64(o.MaxResponseBytes)}} {
		if f.v < 0 {
			return o, fmt.Errorf("textproc: Options.%s: must not be negative, got %d", f.name, f.v)
		}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxInputBytes == 0 {
		o.MaxInputBytes = DefaultMaxInputBytes
	}
	if o.MaxOutputBytes == 0 {
		o.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.MaxResponseBytes < o.MaxOutputBytes {
		o.MaxResponseBytes = o.MaxOutputBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	return o, nil
}

// Open builds the provider an AIMG_TEXT_URL names: "" (or "builtin") =
// builtin only; "openai+http://127.0.0.1:11434/v1?model=llama3&key=KEY"
// (also openai+https) = the OpenAI-compatible provider (all four types).
// Errors name what is wrong and never repeat the key.
func Open(rawURL string, o Options) (Provider, error) {
	switch strings.TrimSpace(rawURL) {
	case "", "builtin":
		return NewBuiltin(o)
	}
	scheme, _, _ := strings.Cut(rawURL, "://")
	if strings.HasPrefix(scheme, "openai+") {
		return OpenAIFromURL(rawURL, o)
	}
	return nil, fmt.Errorf("AIMG_TEXT_URL: unknown provider %q: want empty (builtin) or openai+http(s)://host:port/v1?model=NAME[&key=KEY]", aimg.Truncate(scheme, 40))
}

// OpenAIFromURL builds the OpenAI provider from
// openai+http(s)://host[:port]/path?model=NAME[&key=KEY]; the base URL is
// the part without "openai+" and the query (…/v1 for every known server).
// Translation reads its AIMG_TRANSLATION_URL with it too.
func OpenAIFromURL(rawURL string, o Options) (*OpenAI, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error repeats the URL, key included.
		return nil, fmt.Errorf("openai URL: not a URL (want openai+http(s)://host:port/v1?model=NAME[&key=KEY])")
	}
	shown := redactURL(u)
	inner, ok := strings.CutPrefix(u.Scheme, "openai+")
	if !ok || (inner != "http" && inner != "https") {
		return nil, fmt.Errorf("openai URL %s: scheme must be openai+http or openai+https", shown)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("openai URL %s: no host", shown)
	}
	if u.User != nil {
		return nil, fmt.Errorf("openai URL %s: give the API key as key=..., not as user:password@", shown)
	}
	q := u.Query()
	cfg := OpenAIConfig{Model: q.Get("model"), APIKey: q.Get("key")}
	for name, vs := range q {
		switch {
		case name != "model" && name != "key":
			return nil, fmt.Errorf("openai URL %s: unknown parameter %q (known: model, key)", shown, aimg.Truncate(name, 40))
		case len(vs) > 1:
			return nil, fmt.Errorf("openai URL %s: %s given %d times", shown, name, len(vs))
		}
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("openai URL %s: model=NAME is required (the server's model, e.g. llama3)", shown)
	}
	base := *u
	base.Scheme, base.RawQuery, base.Fragment = inner, "", ""
	cfg.BaseURL = base.String()
	return NewOpenAI(cfg, o)
}

// redactURL shows a provider URL in messages without its key.
func redactURL(u *url.URL) string {
	v := *u
	v.User = nil
	q := v.Query()
	if q.Has("key") {
		q.Set("key", "REDACTED")
	}
	v.RawQuery = q.Encode()
	return aimg.Truncate(v.String(), 200)
}

// checkInput applies the input budget shared by the providers.
func checkInput(input string, max int) error {
	if len(input) > max {
		return aimg.Invalid("input", "%d bytes, more than the %d-byte budget", len(input), max)
	}
	if strings.TrimSpace(input) == "" {
		return aimg.Invalid("input", "must not be empty")
	}
	return nil
}

func unknownType(provider, taskType string) error {
	return aimg.Invalid("type", "the %s text provider does not serve task type %q", provider, aimg.Truncate(taskType, 80))
}
