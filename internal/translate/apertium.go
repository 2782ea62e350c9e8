package translate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// apertium speaks to an Apertium APy server (apertium-apy 0.11 and later;
// read from its handlers: list_modes.py, translate.py, identify_lang.py):
//
//   - GET /listPairs: {"responseData": [{"sourceLanguage": "eng",
//     "targetLanguage": "spa"}, ...], "responseStatus": 200}. Codes are ISO
//     639-3, with variants after "_" ("cat_valencia", "eng_US"), one entry
//     per installed mode file.
//   - /translate (GET or POST form) q, langpair=eng|spa: {"responseData":
//     {"translatedText": ...}, "responseStatus": 200}. Unknown words come
//     back as "*word" unless markUnknown=no; the default format is HTML
//     (format=txt for plain text). 400 "That pair is not installed";
//     503 when the pipeline is stuck or times out (APy's own -t time-out).
//   - /identifyLang q: {code: score}. Without CLD2 (Debian's package has
//     none) it scores analyser modes, and with none installed it answers {}.
//   - Errors: {"status": "error", "code": 400, "message": "Bad Request",
//     "explanation": ...}.
type apertium struct {
	base  *url.URL
	o     Options
	pairs *pairsCache
}

func newApertium(base *url.URL, o Options) *apertium {
	a := &apertium{base: base, o: o}
	a.pairs = &pairsCache{ttl: o.PairsTTL, now: o.Now, fetch: a.fetchPairs}
	return a
}

func (a *apertium) Name() string { return "apertium" }

func (a *apertium) endpoint(path string) string { return a.base.String() + path }

type apyPairs struct {
	ResponseData []struct {
		SourceLanguage string `json:"sourceLanguage"`
		TargetLanguage string `json:"targetLanguage"`
	} `json:"responseData"`
	ResponseStatus int `json:"responseStatus"`
}

func (a *apertium) fetchPairs(ctx context.Context) (pairIndex, error) {
	const op = "apertium /listPairs"
	ans, err := do(ctx, a.o, op, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, a.endpoint("/listPairs"), nil)
	})
	if err != nil {
		return pairIndex{}, err
	}
	if ans.status != http.StatusOK {
		return pairIndex{}, unavailable(fmt.Errorf("%s: HTTP %d: %s", op, ans.status, snippet(ans.body)))
	}
	var lp apyPairs
	if err := json.Unmarshal(ans.body, &lp); err != nil || lp.ResponseStatus != http.StatusOK {
		return pairIndex{}, unavailable(fmt.Errorf("%s: unreadable answer %s: %v", op, snippet(ans.body), err))
	}
	type choice struct {
		wire  string
		plain bool
	}
	chosen := map[string]choice{}
	var order [][2]string
	for _, p := range lp.ResponseData {
		srcBase, srcVariant, _ := strings.Cut(p.SourceLanguage, "_")
		trgBase, trgVariant, _ := strings.Cut(p.TargetLanguage, "_")
		from, to := fromISO3(srcBase), fromISO3(trgBase)
		if from == "" || to == "" || from == to {
			continue
		}
		c := choice{wire: p.SourceLanguage + "|" + p.TargetLanguage, plain: srcVariant == "" && trgVariant == ""}
		k := pairKey(from, to)
		old, seen := chosen[k]
		if !seen {
			order = append(order, [2]string{from, to})
		}
		// A Nextcloud code has no variants: the plain mode (eng|cat) stands
		// for the language; without one, the first variant by name does.
		if !seen || (c.plain && !old.plain) || (c.plain == old.plain && c.wire < old.wire) {
			chosen[k] = c
		}
	}
	slices.SortFunc(order, func(x, y [2]string) int {
		return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
	})
	idx := pairIndex{wire: make(map[string]string, len(order))}
	for _, ft := range order {
		idx.pairs = append(idx.pairs, Pair{From: languageOf(ft[0]), To: languageOf(ft[1])})
		idx.wire[pairKey(ft[0], ft[1])] = chosen[pairKey(ft[0], ft[1])].wire
	}
	return idx, nil
}

func (a *apertium) Pairs(ctx context.Context) ([]Pair, error) {
	idx, err := a.pairs.get(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(idx.pairs), nil
}

type apyTranslation struct {
	ResponseData struct {
		TranslatedText *string `json:"translatedText"`
	} `json:"responseData"`
	ResponseStatus int `json:"responseStatus"`
}

func (a *apertium) Translate(ctx context.Context, text, from, to string) (string, error) {
	if same, err := untouched(text, from, to, a.o); err != nil {
		return "", err
	} else if same {
		return text, nil
	}
	langpair, err := a.pairs.wirePair(ctx, "apertium", from, to)
	if err != nil {
		return "", err
	}
	const op = "apertium /translate"
	form := url.Values{
		"q":        {text},
		"langpair": {langpair},
		// Plain text in and out (APy's default is HTML), and no "*" before
		// words the dictionaries lack: Nextcloud shows the text as it is.
		"format":      {"txt"},
		"markUnknown": {"no"},
	}
	ans, err := do(ctx, a.o, op, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint("/translate"), strings.NewReader(form.Encode()))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r, err
	})
	if err != nil {
		return "", err
	}
	switch {
	case ans.status == http.StatusOK:
	case ans.status == http.StatusBadRequest:
		// The pair went away since /listPairs (or the request was refused).
		return "", unableToTranslate(fmt.Errorf("%s %s: HTTP 400: %s", op, langpair, snippet(ans.body)))
	default:
		return "", unavailable(fmt.Errorf("%s %s: HTTP %d: %s", op, langpair, ans.status, snippet(ans.body)))
	}
	var tr apyTranslation
	if err := json.Unmarshal(ans.body, &tr); err != nil || tr.ResponseData.TranslatedText == nil {
		return "", unavailable(fmt.Errorf("%s %s: unreadable answer %s: %v", op, langpair, snippet(ans.body), err))
	}
	if tr.ResponseStatus != 0 && tr.ResponseStatus != http.StatusOK {
		return "", unavailable(fmt.Errorf("%s %s: responseStatus %d", op, langpair, tr.ResponseStatus))
	}
	return *tr.ResponseData.TranslatedText, nil
}

// Detect asks /identifyLang and falls back on the built-in detector (among
// the server's source languages) when APy cannot tell: {} without CLD2 or
// analysers, or an error answer such as its 408 time-out.
func (a *apertium) Detect(ctx context.Context, text string) (string, error) {
	if err := checkText(text, a.o); err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		return "", couldNotDetect(errors.New("empty text"))
	}
	const op = "apertium /identifyLang"
	form := url.Values{"q": {text}}
	ans, err := do(ctx, a.o, op, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint("/identifyLang"), strings.NewReader(form.Encode()))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r, err
	})
	if err != nil {
		return "", err
	}
	if ans.status == http.StatusOK {
		if code := bestScore(ans.body); code != "" {
			return code, nil
		}
	} else if ans.status >= 500 {
		return "", unavailable(fmt.Errorf("%s: HTTP %d: %s", op, ans.status, snippet(ans.body)))
	}
	var sources []string
	if idx, err := a.pairs.get(ctx); err == nil {
		sources = idx.sources()
	}
	return detectAmong(text, sources)
}

// bestScore reads /identifyLang's {code: score} (CLD2 percentages,
// fastText probabilities, or analyser coverages that may be negative) and
// names the best positive one, "" when there is none.
func bestScore(body []byte) string {
	var scores map[string]float64
	if json.Unmarshal(body, &scores) != nil {
		return ""
	}
	best, top := "", 0.0
	for code, s := range scores {
		if s > top || (s == top && s > 0 && code < best) {
			best, top = code, s
		}
	}
	if best == "" {
		return ""
	}
	// Analyser modes may be named after a pair ("eng-spa"); variants after "_".
	base := best
	if i := strings.IndexAny(base, "-_"); i > 0 {
		base = base[:i]
	}
	return fromISO3(base)
}
