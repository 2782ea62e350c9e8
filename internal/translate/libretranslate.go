package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// libreTranslate speaks to a LibreTranslate server (its API as app.py
// serves it and its /docs describe it):
//
//   - GET /languages: [{"code": "en", "name": "English", "targets": ["es", ...]}];
//     names follow the request's locale, so Accept-Language: en asks for
//     English ones. Codes are ISO 639-1 except "zh-Hans", "zh-Hant", "pt-BR".
//   - POST /translate {q, source, target, format: "text"|"html", api_key}:
//     {"translatedText": ...} (with source "auto" also "detectedLanguage").
//   - POST /detect {q, api_key}: [{"language": "en", "confidence": 90.0}],
//     best first; [{"language": "en", "confidence": 0}] when it cannot tell.
//   - Errors {"error": message}: 400 bad request (unsupported language, text
//     over its char limit, and also "get an API key" when keys are required),
//     403 invalid API key or banned, 429 its rate limit, 500.
type libreTranslate struct {
	base  *url.URL
	key   string
	o     Options
	pairs *pairsCache
}

func newLibreTranslate(base *url.URL, key string, o Options) *libreTranslate {
	l := &libreTranslate{base: base, key: key, o: o}
	l.pairs = &pairsCache{ttl: o.PairsTTL, now: o.Now, fetch: l.fetchPairs}
	return l
}

func (l *libreTranslate) Name() string { return "libretranslate" }

type libreLanguage struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Targets []string `json:"targets"`
}

func (l *libreTranslate) fetchPairs(ctx context.Context) (pairIndex, error) {
	const op = "libretranslate /languages"
	ans, err := do(ctx, l.o, op, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base.String()+"/languages", nil)
		if err == nil {
			r.Header.Set("Accept-Language", "en")
		}
		return r, err
	})
	if err != nil {
		return pairIndex{}, err
	}
	if ans.status != http.StatusOK {
		return pairIndex{}, libreStatusError(op, ans)
	}
	var langs []libreLanguage
	if err := json.Unmarshal(ans.body, &langs); err != nil {
		return pairIndex{}, unavailable(fmt.Errorf("%s: unreadable answer %s: %w", op, snippet(ans.body), err))
	}
	labels := map[string]string{}
	for _, lang := range langs {
		labels[lang.Code] = lang.Name
	}
	language := func(code string) Language {
		if label := labels[code]; label != "" {
			return Language{Code: code, Label: label}
		}
		return languageOf(code)
	}
	idx := pairIndex{wire: map[string]string{}}
	for _, lang := range langs {
		for _, t := range lang.Targets {
			k := pairKey(lang.Code, t)
			if lang.Code == "" || t == "" || t == lang.Code || idx.wire[k] != "" {
				continue
			}
			idx.wire[k] = lang.Code + "|" + t
			idx.pairs = append(idx.pairs, Pair{From: language(lang.Code), To: language(t)})
		}
	}
	return idx, nil
}

func (l *libreTranslate) Pairs(ctx context.Context) ([]Pair, error) {
	idx, err := l.pairs.get(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(idx.pairs), nil
}

// post sends a JSON body with the API key, when there is one.
func (l *libreTranslate) post(ctx context.Context, op, path string, body map[string]any) (httpAnswer, error) {
	if l.key != "" {
		body["api_key"] = l.key
	}
	data, err := json.Marshal(body)
	if err != nil {
		return httpAnswer{}, err
	}
	return do(ctx, l.o, op, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base.String()+path, bytes.NewReader(data))
		if err == nil {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, err
	})
}

func (l *libreTranslate) Translate(ctx context.Context, text, from, to string) (string, error) {
	if same, err := untouched(text, from, to, l.o); err != nil {
		return "", err
	} else if same {
		return text, nil
	}
	wire, err := l.pairs.wirePair(ctx, "libretranslate", from, to)
	if err != nil {
		return "", err
	}
	source, target, _ := strings.Cut(wire, "|")
	const op = "libretranslate /translate"
	ans, err := l.post(ctx, op, "/translate", map[string]any{"q": text, "source": source, "target": target, "format": "text"})
	if err != nil {
		return "", err
	}
	if ans.status != http.StatusOK {
		return "", libreStatusError(op, ans)
	}
	var tr struct {
		TranslatedText *string `json:"translatedText"`
	}
	if err := json.Unmarshal(ans.body, &tr); err != nil || tr.TranslatedText == nil {
		return "", unavailable(fmt.Errorf("%s: unreadable answer %s: %v", op, snippet(ans.body), err))
	}
	return *tr.TranslatedText, nil
}

func (l *libreTranslate) Detect(ctx context.Context, text string) (string, error) {
	if err := checkText(text, l.o); err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		return "", couldNotDetect(errors.New("empty text"))
	}
	const op = "libretranslate /detect"
	ans, err := l.post(ctx, op, "/detect", map[string]any{"q": text})
	if err != nil {
		return "", err
	}
	if ans.status == http.StatusBadRequest {
		return "", couldNotDetect(fmt.Errorf("%s: HTTP 400: %s", op, snippet(ans.body)))
	}
	if ans.status != http.StatusOK {
		return "", libreStatusError(op, ans)
	}
	var found []struct {
		Language   string  `json:"language"`
		Confidence float64 `json:"confidence"`
	}
	if err := json.Unmarshal(ans.body, &found); err != nil {
		return "", unavailable(fmt.Errorf("%s: unreadable answer %s: %w", op, snippet(ans.body), err))
	}
	// LibreTranslate answers English with confidence 0 when it cannot tell.
	if len(found) == 0 || found[0].Language == "" || found[0].Confidence <= 0 {
		return "", couldNotDetect(fmt.Errorf("%s: %s", op, snippet(ans.body)))
	}
	return found[0].Language, nil
}

// libreStatusError classifies an error answer: 400 is the request's fault
// (a language or a text the server refuses); everything else (403 API key
// refused or client banned, 429 its rate limit, 5xx) is the server's side,
// so the caller sees it as unavailable and may try again later.
func libreStatusError(op string, ans httpAnswer) error {
	var e struct {
		Error string `json:"error"`
	}
	msg := snippet(ans.body)
	if json.Unmarshal(ans.body, &e) == nil && e.Error != "" {
		msg = fmt.Sprintf("%q", e.Error)
	}
	cause := fmt.Errorf("%s: HTTP %d: %s", op, ans.status, msg)
	if ans.status == http.StatusBadRequest {
		return unableToTranslate(cause)
	}
	return unavailable(cause)
}
