// Package translate holds AIMG's translation providers: the Apertium APy
// server, a LibreTranslate server, and an OpenAI-compatible chat model
// prompted to translate. The OCS translation surface calls them through
// Provider; Open builds the one AIMG_TRANSLATION_URL names.
//
// Languages are named as Nextcloud names them: ISO 639-1 codes ("en",
// "es") with English labels. Each provider maps them to its own codes
// (Apertium's ISO 639-3 "eng", "spa"; LibreTranslate's are already 639-1).
package translate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"aimg/internal/aimg"
)

// Language is one language as Nextcloud shows it.
type Language struct {
	Code  string // ISO 639-1 as Nextcloud uses it ("en", "es"); ISO 639-3 when the language has no 639-1 code
	Label string // English name ("English")
}

// Pair is one direction a provider translates.
type Pair struct{ From, To Language }

// Provider translates text. Implementations are safe for concurrent use.
type Provider interface {
	Name() string
	// Pairs lists the directions the provider translates; cached where a
	// server is asked.
	Pairs(ctx context.Context) ([]Pair, error)
	// Detect names the language of text (ISO 639-1); an *aimg.Error with
	// code invalid and message "Could not detect language" when it cannot tell.
	Detect(ctx context.Context, text string) (string, error)
	// Translate from -> to (ISO 639-1). An unsupported pair is an invalid
	// error "Unable to translate"; a server that is down or slow is a
	// retryable error with code unavailable.
	Translate(ctx context.Context, text, from, to string) (string, error)
}

// Chatter is an OpenAI-compatible chat client (textproc.OpenAI implements it).
type Chatter interface {
	Chat(ctx context.Context, system, user string) (string, error)
}

// Messages of the errors providers return; the OCS surface shows them as
// Nextcloud's TranslationApiController does.
const (
	MsgCouldNotDetect    = "Could not detect language"
	MsgUnableToTranslate = "Unable to translate"
	MsgUnavailable       = "Translation service unavailable"
)

// Defaults of Options.
const (
	DefaultTimeout          = 60 * time.Second
	DefaultMaxTextBytes     = 128 << 10
	DefaultMaxResponseBytes = 4 << 20
	DefaultPairsTTL         = 10 * time.Minute
)

// Options configures a provider. Zero fields take their defaults.
type Options struct {
	// Timeout bounds each call to the server (or to Chat), reading the
	// answer included.
	Timeout time.Duration
	// MaxTextBytes bounds the text of Detect and Translate (UTF-8 bytes);
	// longer text is refused with code too_large before any server is asked.
	MaxTextBytes int
	// MaxResponseBytes bounds an answer read from a server (and a chat
	// answer).
	MaxResponseBytes int64
	// HTTPClient makes the requests; nil: a client without a global
	// timeout (Timeout bounds each call).
	HTTPClient *http.Client
	// Chat is the chat client of the openai+ provider, built by the caller
	// from the same URL. Unused by the others.
	Chat Chatter
	// PairsTTL is how long a server's list of pairs is reused.
	PairsTTL time.Duration
	// Now is the clock of the pairs cache; nil: time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Timeout < 0 || o.MaxTextBytes < 0 || o.MaxResponseBytes < 0 || o.PairsTTL < 0 {
		return o, errors.New("translate: Options: Timeout, MaxTextBytes, MaxResponseBytes and PairsTTL must not be negative")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxTextBytes == 0 {
		o.MaxTextBytes = DefaultMaxTextBytes
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.PairsTTL == 0 {
		o.PairsTTL = DefaultPairsTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Open builds the provider rawURL names:
//
//	apertium+http://127.0.0.1:2737
//	libretranslate+http://127.0.0.1:5000?api_key=K
//	openai+http://host:11434/v1?model=m&key=K   (translates through o.Chat)
//
// The part after "+" is the server's base URL (http or https, a path
// prefix allowed); provider parameters in the query are removed from it.
func Open(rawURL string, o Options) (Provider, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	kind, rest, ok := strings.Cut(rawURL, "+")
	if !ok {
		return nil, fmt.Errorf("translate: %q: want apertium+http://..., libretranslate+http://... or openai+http://...", redactURL(rawURL))
	}
	base, err := url.Parse(rest)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("translate: %q: the server's URL after %q must be http(s)://host[:port][/path]", redactURL(rawURL), kind+"+")
	}
	query := base.Query()
	base.RawQuery, base.Fragment = "", ""
	base.Path = strings.TrimRight(base.Path, "/")
	switch kind {
	case "apertium":
		if len(query) > 0 {
			return nil, fmt.Errorf("translate: apertium: the URL takes no parameters")
		}
		return newApertium(base, o), nil
	case "libretranslate":
		key := query.Get("api_key")
		query.Del("api_key")
		if len(query) > 0 {
			return nil, fmt.Errorf("translate: libretranslate: unknown URL parameters (only api_key)")
		}
		return newLibreTranslate(base, key, o), nil
	case "openai":
		if o.Chat == nil {
			return nil, errors.New("translate: openai: Options.Chat is required (the caller builds the chat client from the same URL)")
		}
		return newOpenAI(o), nil
	default:
		return nil, fmt.Errorf("translate: unknown provider %q (want apertium, libretranslate or openai)", kind)
	}
}

// redactURL drops the query (it may carry a key) from a URL for messages.
func redactURL(raw string) string {
	s, _, _ := strings.Cut(raw, "?")
	return s
}

// couldNotDetect is Detect's answer when it cannot tell; cause is logged only.
func couldNotDetect(cause error) *aimg.Error {
	return &aimg.Error{Code: aimg.CodeInvalid, Message: MsgCouldNotDetect, Err: cause}
}

// unableToTranslate is Translate's answer for a pair or text the provider
// refuses; cause is logged only.
func unableToTranslate(cause error) *aimg.Error {
	return &aimg.Error{Code: aimg.CodeInvalid, Message: MsgUnableToTranslate, Err: cause}
}

// unavailable is a retryable failure of the server behind a provider.
func unavailable(cause error) *aimg.Error {
	return &aimg.Error{Code: aimg.CodeUnavailable, Message: MsgUnavailable, Err: cause}
}

// checkText applies the text budget.
func checkText(text string, o Options) error {
	if len(text) > o.MaxTextBytes {
		return &aimg.Error{Code: aimg.CodeTooLarge, Field: "text",
			Message: fmt.Sprintf("text: longer than the %d-byte limit", o.MaxTextBytes)}
	}
	return nil
}

// pairsCache keeps a server's pairs for ttl. A failed fetch is not kept,
// so the next call asks again. One fetch runs at a time; the others wait
// for it (bounded by the fetch's own time-out).
type pairsCache struct {
	ttl   time.Duration
	now   func() time.Time
	fetch func(ctx context.Context) (pairIndex, error)

	mu      sync.Mutex
	index   pairIndex
	fetched time.Time
	valid   bool
}

func (c *pairsCache) get(ctx context.Context) (pairIndex, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.now().Sub(c.fetched) < c.ttl {
		return c.index, nil
	}
	idx, err := c.fetch(ctx)
	if err != nil {
		return pairIndex{}, err
	}
	c.index, c.fetched, c.valid = idx, c.now(), true
	return idx, nil
}

// pairIndex is a provider's pairs with the provider's own name for each.
type pairIndex struct {
	pairs []Pair
	// wire maps "from>to" (ISO 639-1) to what the server calls the pair.
	wire map[string]string
}

func pairKey(from, to string) string { return from + ">" + to }

// lookup finds the pair from -> to, trying the base language when a
// regional form ("pt-BR", "en_US") is not listed as such.
func (p pairIndex) lookup(from, to string) (string, bool) {
	for _, f := range codeForms(from) {
		for _, t := range codeForms(to) {
			if w, ok := p.wire[pairKey(f, t)]; ok {
				return w, true
			}
		}
	}
	return "", false
}

// sources lists the distinct source languages, in order of first appearance.
func (p pairIndex) sources() []string {
	seen := map[string]bool{}
	var out []string
	for _, pr := range p.pairs {
		if !seen[pr.From.Code] {
			seen[pr.From.Code] = true
			out = append(out, pr.From.Code)
		}
	}
	return out
}

// codeForms is code as given, then its base language ("pt-BR" -> "pt").
func codeForms(code string) []string {
	forms := []string{code}
	if i := strings.IndexAny(code, "-_"); i > 0 {
		forms = append(forms, strings.ToLower(code[:i]))
	}
	if l := strings.ToLower(code); l != code {
		forms = append(forms, l)
	}
	return forms
}

// untouched tells whether Translate answers text as it is (blank text, or
// one language both ways, after the size check, which is the error).
func untouched(text, from, to string, o Options) (bool, error) {
	if err := checkText(text, o); err != nil {
		return false, err
	}
	return strings.TrimSpace(text) == "" || from == to, nil
}

// wirePair is what the server calls the pair from -> to; a pair it does
// not offer is "Unable to translate".
func (c *pairsCache) wirePair(ctx context.Context, provider, from, to string) (string, error) {
	idx, err := c.get(ctx)
	if err != nil {
		return "", err
	}
	wire, ok := idx.lookup(from, to)
	if !ok {
		return "", unableToTranslate(fmt.Errorf("%s has no pair %s -> %s", provider, from, to))
	}
	return wire, nil
}
