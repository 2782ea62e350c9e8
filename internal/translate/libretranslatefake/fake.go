// Package libretranslatefake is a LibreTranslate server for tests. It
// speaks LibreTranslate's API as its app.py serves it (read from
// LibreTranslate/LibreTranslate libretranslate/app.py, language.py,
// detect.py): GET /languages, POST /translate and POST /detect with JSON
// or form bodies, errors as {"error": message} with its status codes, API
// keys in the body, a character limit, source "auto". Its "translation"
// is a small word list per pair, enough to check what was sent and read.
package libretranslatefake

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Language is one entry of GET /languages.
type Language struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Targets []string `json:"targets"`
}

// Received is a request the server answered, for assertions.
type Received struct {
	Path, APIKey, Source, Target, Format string
	Q                                    any // string, or []any for a batch
	ContentType                          string
}

// Server is the fake. Set its fields before serving; they are read
// concurrently afterwards.
type Server struct {
	// Languages are the installed languages (New: en, es, fr, de).
	Languages []Language
	// APIKeys, when set, enables keys as --api-keys does: an unknown key
	// is 403 "Invalid API key".
	APIKeys []string
	// RequireAPIKey refuses requests without a valid key with 400, as
	// --require-api-key-secret and its siblings do.
	RequireAPIKey bool
	// CharLimit is --char-limit (-1: none).
	CharLimit int
	// Words translates word by word per "source>target"; other words stay.
	Words map[string]map[string]string
	// StopWords names a few frequent words per language for /detect.
	StopWords map[string][]string

	mu       sync.Mutex
	received []Received
}

// New returns a server with English, Spanish, French and German, each a
// target of the others, and word lists for en>es, en>fr, es>en.
func New() *Server {
	langs := []Language{{Code: "en", Name: "English"}, {Code: "es", Name: "Spanish"}, {Code: "fr", Name: "French"}, {Code: "de", Name: "German"}}
	for i := range langs {
		for _, o := range langs {
			if o.Code != langs[i].Code {
				langs[i].Targets = append(langs[i].Targets, o.Code)
			}
		}
	}
	return &Server{
		Languages: langs,
		CharLimit: -1,
		Words: map[string]map[string]string{
			"en>es": {"hello": "hola", "world": "mundo", "the": "el", "house": "casa", "is": "es", "blue": "azul", "good": "bueno", "morning": "mañana"},
			"en>fr": {"hello": "bonjour", "world": "monde", "the": "la", "house": "maison", "is": "est", "blue": "bleue"},
			"es>en": {"hola": "hello", "mundo": "world", "la": "the", "casa": "house", "es": "is", "azul": "blue"},
		},
		StopWords: map[string][]string{
			"en": {"the", "is", "and", "of", "hello", "house", "you", "this"},
			"es": {"el", "la", "es", "y", "de", "hola", "casa", "que"},
			"fr": {"le", "la", "est", "et", "de", "bonjour", "maison", "je"},
			"de": {"der", "die", "ist", "und", "von", "hallo", "haus", "ich"},
		},
	}
}

// Received lists the requests answered so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	switch r.URL.Path {
	case "/languages":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD, OPTIONS")
			return
		}
		writeJSON(w, http.StatusOK, s.Languages)
	case "/translate", "/detect":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "OPTIONS, POST")
			return
		}
		p, ok := readParams(w, r)
		if !ok {
			return
		}
		s.record(r, p)
		if !s.accessCheck(w, p) {
			return
		}
		if r.URL.Path == "/translate" {
			s.translate(w, p)
		} else {
			s.detect(w, p)
		}
	default:
		http.NotFound(w, r)
	}
}

// params are a request's values, from a JSON body (request.is_json) or
// from the form and query (request.values).
type params map[string]any

func (p params) str(k string) string {
	if v, ok := p[k].(string); ok {
		return v
	}
	return ""
}

func readParams(w http.ResponseWriter, r *http.Request) (params, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			writeError(w, http.StatusBadRequest, "Failed to decode JSON object: "+err.Error())
			return nil, false
		}
		m, ok := v.(map[string]any)
		if !ok {
			writeError(w, http.StatusBadRequest, "Invalid JSON format")
			return nil, false
		}
		return params(m), true
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "The browser (or proxy) sent a request that this server could not understand.")
		return nil, false
	}
	p := params{}
	for k, v := range r.Form {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	// Form bodies have their line endings normalised to LF, as app.py does.
	if q, ok := p["q"].(string); ok {
		p["q"] = strings.ReplaceAll(strings.ReplaceAll(q, "\r\n", "\n"), "\r", "\n")
	}
	return p, true
}

func (s *Server) record(r *http.Request, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, Received{Path: r.URL.Path, APIKey: p.str("api_key"), Source: p.str("source"),
		Target: p.str("target"), Format: p.str("format"), Q: p["q"], ContentType: r.Header.Get("Content-Type")})
}

func (s *Server) accessCheck(w http.ResponseWriter, p params) bool {
	if len(s.APIKeys) == 0 {
		return true
	}
	key := p.str("api_key")
	valid := slices.Contains(s.APIKeys, key)
	if key != "" && !valid {
		writeError(w, http.StatusForbidden, "Invalid API key")
		return false
	}
	if s.RequireAPIKey && !valid {
		writeError(w, http.StatusBadRequest, "Please contact the server operator to get an API key")
		return false
	}
	return true
}

func (s *Server) language(code string) (Language, bool) {
	for _, l := range s.Languages {
		if iso2model(l.Code) == code {
			return l, true
		}
	}
	return Language{}, false
}

// iso2model is LibreTranslate's mapping of codes to its models' ("pt-BR"
// is model "pb"); /languages shows the other side (model2iso).
func iso2model(code string) string {
	switch code = strings.ToLower(code); code {
	case "pt-br":
		return "pb"
	case "zh-hans":
		return "zh"
	case "zh-hant":
		return "zt"
	}
	return code
}

func (s *Server) translate(w http.ResponseWriter, p params) {
	q := p["q"]
	source, target := iso2model(p.str("source")), iso2model(p.str("target"))
	if q == nil || q == "" {
		writeError(w, http.StatusBadRequest, "Invalid request: missing q parameter")
		return
	}
	if source == "" {
		writeError(w, http.StatusBadRequest, "Invalid request: missing source parameter")
		return
	}
	if target == "" {
		writeError(w, http.StatusBadRequest, "Invalid request: missing target parameter")
		return
	}
	var texts []string
	batch := false
	switch v := q.(type) {
	case string:
		texts = []string{v}
	case []any:
		batch = true
		for _, t := range v {
			ts, _ := t.(string)
			texts = append(texts, ts)
		}
	default:
		writeError(w, http.StatusBadRequest, "Invalid request: missing q parameter")
		return
	}
	if s.CharLimit >= 0 {
		for _, t := range texts {
			if n := len([]rune(t)); n > s.CharLimit {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid request: request (%d) exceeds text limit (%d)", n, s.CharLimit))
				return
			}
		}
	}
	var detected map[string]any
	if source == "auto" {
		best := s.detectLanguages(strings.Join(texts, "\n"))[0]
		source = best["language"].(string)
		detected = best
	}
	src, ok := s.language(source)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s is not supported", source))
		return
	}
	tgt, ok := s.language(target)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s is not supported", target))
		return
	}
	format := p.str("format")
	if format == "" {
		format = "text"
	}
	if format != "text" && format != "html" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s format is not supported", format))
		return
	}
	if !slices.ContainsFunc(src.Targets, func(t string) bool { return iso2model(t) == iso2model(tgt.Code) }) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s (%s) is not available as a target language from %s (%s)", tgt.Name, tgt.Code, src.Name, src.Code))
		return
	}
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = s.translateText(t, src.Code, tgt.Code)
	}
	result := map[string]any{}
	if batch {
		result["translatedText"] = out
		if detected != nil {
			all := make([]any, len(out))
			for i := range all {
				all[i] = detected
			}
			result["detectedLanguage"] = all
		}
	} else {
		result["translatedText"] = out[0]
		if detected != nil {
			result["detectedLanguage"] = detected
		}
	}
	writeJSON(w, http.StatusOK, result)
}

// translateText replaces the words of the pair's list, keeping everything
// else (spacing, punctuation, unknown words) as it is, and the initial
// capital of each word.
func (s *Server) translateText(text, source, target string) string {
	words := s.Words[source+">"+target]
	var b strings.Builder
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		w := string(word)
		if tr, ok := words[strings.ToLower(w)]; ok {
			if unicode.IsUpper(word[0]) {
				r := []rune(tr)
				r[0] = unicode.ToUpper(r[0])
				tr = string(r)
			}
			w = tr
		}
		b.WriteString(w)
		word = word[:0]
	}
	for _, r := range text {
		if unicode.IsLetter(r) {
			word = append(word, r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

func (s *Server) detect(w http.ResponseWriter, p params) {
	q, _ := p["q"].(string)
	if q == "" {
		writeError(w, http.StatusBadRequest, "Invalid request: missing q parameter")
		return
	}
	writeJSON(w, http.StatusOK, s.detectLanguages(q))
}

// detectLanguages scores the installed languages by their stop words, best
// first, at most three; LibreTranslate's answer when nothing matches is
// English with confidence 0.
func (s *Server) detectLanguages(text string) []map[string]any {
	counts := map[string]int{}
	total := 0
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, l := range s.Languages {
			if slices.Contains(s.StopWords[l.Code], f) {
				counts[l.Code]++
				total++
			}
		}
	}
	if total == 0 {
		return []map[string]any{{"confidence": 0.0, "language": "en"}}
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	var out []map[string]any
	for _, c := range codes[:min(3, len(codes))] {
		out = append(out, map[string]any{"confidence": float64(100 * counts[c] / total), "language": c})
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// methodNotAllowed answers as Flask does: 405 with an Allow header.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusMethodNotAllowed)
	_, _ = fmt.Fprint(w, "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n")
}
