package translate

import (
	"errors"
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

// Confidence thresholds of the built-in detector (whatlanggo's confidence,
// 0..1). Short text gets low confidence among all 84 languages ("Hello
// world" reads as Dutch at 0.02); among the few a provider translates from
// the same text is clear. Values found by trying greetings and sentences in
// the languages the tests use; see detect_test.go.
const (
	confidentAmongAll        = 0.35
	confidentAmongCandidates = 0.5
)

// DetectBuiltin is the built-in detector (whatlanggo: trigram profiles of
// 84 languages, about 1 MB in the binary, no models to load): the ISO
// 639-1 code of text's language, or an *aimg.Error "Could not detect
// language" when it cannot tell.
func DetectBuiltin(text string) (string, error) { return detectAmong(text, nil) }

// detectAmong detects text's language, breaking a low-confidence guess
// among all languages by a guess among candidates (ISO 639-1 codes, the
// languages a provider translates from). A confident guess outside the
// candidates is returned as it is: translating it then fails honestly
// with "Unable to translate" instead of translating German as English.
func detectAmong(text string, candidates []string) (string, error) {
	if !hasLetters(text) {
		return "", couldNotDetect(errors.New("builtin detector: no letters in the text"))
	}
	all := whatlanggo.Detect(text)
	if code := codeOfLang(all.Lang); code != "" && all.Confidence >= confidentAmongAll {
		return code, nil
	}
	if allow := whitelist(candidates); len(allow) >= 2 {
		among := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: allow})
		if code := codeOfLang(among.Lang); code != "" && among.Confidence >= confidentAmongCandidates {
			return code, nil
		}
	}
	return "", couldNotDetect(errors.New("builtin detector: no language is likely enough"))
}

// codeOfLang names a whatlanggo language as Nextcloud does ("" for none).
func codeOfLang(l whatlanggo.Lang) string {
	if l < 0 {
		return ""
	}
	if one := l.Iso6391(); one != "" {
		return one
	}
	return fromISO3(l.Iso6393())
}

// whitelist maps ISO 639-1 codes to the whatlanggo languages among them.
func whitelist(codes []string) map[whatlanggo.Lang]bool {
	allow := map[whatlanggo.Lang]bool{}
	for _, c := range codes {
		c = strings.ToLower(c)
		if i := strings.IndexAny(c, "-_"); i > 0 {
			c = c[:i]
		}
		for _, l := range whatlangByCode[c] {
			allow[l] = true
		}
	}
	return allow
}

// whatlangByCode lists whatlanggo's languages under the code Nextcloud
// uses for them (whatlanggo names some by individual codes: arb, azj, cmn).
var whatlangByCode = func() map[string][]whatlanggo.Lang {
	m := map[string][]whatlanggo.Lang{}
	for l := whatlanggo.Afr; l <= whatlanggo.Zul; l++ {
		if c := codeOfLang(l); c != "" {
			m[c] = append(m[c], l)
		}
	}
	return m
}()

func hasLetters(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
