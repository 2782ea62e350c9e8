package translate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
)

// apyStub answers as APy 0.11 does for a fixed set of modes; identify is
// /identifyLang's body ({} as without CLD2).
type apyStub struct {
	modes    [][2]string
	identify string
	// translateStatus, when set, is /translate's status (with APy's error body).
	translateStatus int

	mu       sync.Mutex
	requests []url.Values
	lists    int
}

func (s *apyStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, r.Form)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	apyError := func(code int, explanation string) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "code": code, "message": http.StatusText(code), "explanation": explanation})
	}
	switch r.URL.Path {
	case "/listPairs":
		s.mu.Lock()
		s.lists++
		s.mu.Unlock()
		var data []map[string]string
		for _, m := range s.modes {
			data = append(data, map[string]string{"sourceLanguage": m[0], "targetLanguage": m[1]})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"responseData": data, "responseDetails": nil, "responseStatus": 200})
	case "/translate":
		s.mu.Lock()
		status := s.translateStatus
		s.mu.Unlock()
		if status != 0 {
			apyError(status, "internal error")
			return
		}
		pair := strings.Replace(r.Form.Get("langpair"), "|", "-", 1)
		found := false
		for _, m := range s.modes {
			found = found || m[0]+"-"+m[1] == pair
		}
		if !found {
			apyError(400, "That pair is not installed")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"responseData": map[string]string{"translatedText": "[" + pair + "] " + r.Form.Get("q")}, "responseDetails": nil, "responseStatus": 200})
	case "/identifyLang":
		s.mu.Lock()
		body := s.identify
		s.mu.Unlock()
		_, _ = w.Write([]byte(body))
	default:
		apyError(404, "Resource requested does not exist. URL may have been mistyped")
	}
}

func (s *apyStub) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

func (s *apyStub) listed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

func (s *apyStub) last() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

// debianModes are the modes apertium-eng-spa and apertium-eng-cat install.
var debianModes = [][2]string{
	{"eng", "cat_iec2017"}, {"eng", "cat_valencia"}, {"eng", "cat"}, {"spa", "eng"}, {"spa", "eng_US"},
	{"eng", "spa"}, {"cat", "eng"}, {"cat", "eng_US"}, {"eng", "cat_valencia_uni"},
}

func TestApertiumPairsAndVariants(t *testing.T) {
	stub := &apyStub{modes: append(debianModes, [2]string{"oci_aran", "spa"}, [2]string{"ast", "spa"}), identify: "{}"}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	p := mustOpen(t, "apertium+"+srv.URL, Options{})
	pairs, err := p.Pairs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{
		{Language{"ast", "Asturian"}, Language{"es", "Spanish"}},
		{Language{"ca", "Catalan"}, Language{"en", "English"}},
		{Language{"en", "English"}, Language{"ca", "Catalan"}},
		{Language{"en", "English"}, Language{"es", "Spanish"}},
		{Language{"es", "Spanish"}, Language{"en", "English"}},
		{Language{"oc", "Occitan"}, Language{"es", "Spanish"}},
	}
	if len(pairs) != len(want) {
		t.Fatalf("pairs %+v, want %+v", pairs, want)
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Errorf("pair %d: %+v, want %+v", i, pairs[i], want[i])
		}
	}
	// The plain mode stands for the language; a variant only without one.
	for _, c := range []struct{ from, to, langpair string }{
		{"en", "ca", "eng|cat"}, {"ca", "en", "cat|eng"}, {"es", "en", "spa|eng"}, {"oc", "es", "oci_aran|spa"}, {"en-US", "es", "eng|spa"},
	} {
		got, err := p.Translate(context.Background(), "Hello", c.from, c.to)
		if err != nil {
			t.Fatalf("Translate %s->%s: %v", c.from, c.to, err)
		}
		q := stub.last()
		if q.Get("langpair") != c.langpair || q.Get("markUnknown") != "no" || q.Get("format") != "txt" || q.Get("q") != "Hello" {
			t.Errorf("Translate %s->%s sent %v; want langpair %s, markUnknown=no, format=txt", c.from, c.to, q, c.langpair)
		}
		if !strings.HasSuffix(got, "] Hello") {
			t.Errorf("Translate %s->%s = %q", c.from, c.to, got)
		}
	}
}

func TestApertiumErrors(t *testing.T) {
	stub := &apyStub{modes: debianModes, identify: "{}"}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	p := mustOpen(t, "apertium+"+srv.URL, Options{MaxTextBytes: 100})
	ctx := context.Background()

	_, err := p.Translate(ctx, "Hello", "en", "fr")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
	_, err = p.Translate(ctx, strings.Repeat("a", 101), "en", "es")
	wantError(t, err, aimg.CodeTooLarge, "")
	if got, err := p.Translate(ctx, "Hola", "es", "es"); got != "Hola" || err != nil {
		t.Errorf("same language: %q, %v", got, err)
	}
	if got, err := p.Translate(ctx, " \n", "en", "es"); got != " \n" || err != nil {
		t.Errorf("blank text: %q, %v", got, err)
	}

	stub.set(func() { stub.translateStatus = http.StatusServiceUnavailable }) // APy's stuck pipeline
	_, err = p.Translate(ctx, "Hello", "en", "es")
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
	stub.set(func() { stub.translateStatus = http.StatusBadRequest })
	_, err = p.Translate(ctx, "Hello", "en", "es")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)

	srv.Close() // the server is down: nothing cached is lost, new pairs fail
	down := mustOpen(t, "apertium+"+srv.URL, Options{})
	_, err = down.Pairs(ctx)
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
	_, err = down.Translate(ctx, "Hello", "en", "es")
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
}

func TestApertiumTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	p := mustOpen(t, "apertium+"+srv.URL, Options{Timeout: 20 * time.Millisecond})
	_, err := p.Pairs(context.Background())
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
}

func TestApertiumResponseBudget(t *testing.T) {
	stub := &apyStub{modes: debianModes, identify: "{}"}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	p := mustOpen(t, "apertium+"+srv.URL, Options{MaxResponseBytes: 100})
	_, err := p.Pairs(context.Background()) // the list is longer than 100 bytes
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
}

func TestApertiumPairsCached(t *testing.T) {
	stub := &apyStub{modes: debianModes, identify: "{}"}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	now := time.Unix(1_700_000_000, 0)
	p := mustOpen(t, "apertium+"+srv.URL, Options{PairsTTL: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	for range 3 {
		if _, err := p.Pairs(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Translate(ctx, "x", "en", "es"); err != nil {
			t.Fatal(err)
		}
	}
	if n := stub.listed(); n != 1 {
		t.Fatalf("%d /listPairs requests within the TTL, want 1", n)
	}
	now = now.Add(time.Minute)
	if _, err := p.Pairs(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stub.listed(); n != 2 {
		t.Fatalf("%d /listPairs requests after the TTL, want 2", n)
	}
}

func TestApertiumDetect(t *testing.T) {
	stub := &apyStub{modes: debianModes, identify: "{}"}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	p := mustOpen(t, "apertium+"+srv.URL, Options{})
	ctx := context.Background()
	// {} (no CLD2): the built-in detector among APy's source languages.
	if got, err := p.Detect(ctx, "Hello world"); got != "en" || err != nil {
		t.Errorf("Detect with {}: %q, %v; want en", got, err)
	}
	_, err := p.Detect(ctx, "1234")
	wantError(t, err, aimg.CodeInvalid, MsgCouldNotDetect)
	// CLD2's percentages, fastText's probabilities, coverages (-1 = none).
	for body, want := range map[string]string{
		`{"spa": 97, "eng": 2}`:       "es",
		`{"cat": 0.9, "spa": 0.1}`:    "ca",
		`{"eng-spa": 0.8, "spa": -1}`: "en",
		`{"cat_valencia": 0.7}`:       "ca",
	} {
		stub.set(func() { stub.identify = body })
		if got, err := p.Detect(ctx, "some text"); got != want || err != nil {
			t.Errorf("Detect with %s: %q, %v; want %q", body, got, err, want)
		}
	}
}
