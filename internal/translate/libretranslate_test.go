package translate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/translate/libretranslatefake"
)

func startLibre(t *testing.T, fake *libretranslatefake.Server) string {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLibreTranslate(t *testing.T) {
	fake := libretranslatefake.New()
	fake.APIKeys = []string{"K"}
	fake.RequireAPIKey = true
	p := mustOpen(t, "libretranslate+"+startLibre(t, fake)+"?api_key=K", Options{})
	ctx := context.Background()

	pairs, err := p.Pairs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 12 {
		t.Errorf("%d pairs %+v, want 12 (4 languages, each a target of the others)", len(pairs), pairs)
	}
	found := false
	for _, pr := range pairs {
		found = found || pr == Pair{Language{"en", "English"}, Language{"es", "Spanish"}}
	}
	if !found {
		t.Errorf("pairs %+v lack en -> es with LibreTranslate's names", pairs)
	}

	got, err := p.Translate(ctx, "Hello world, the house is blue.", "en", "es")
	if err != nil || got != "Hola mundo, el casa es azul." {
		t.Fatalf("Translate = %q, %v", got, err)
	}
	rec := fake.Received()
	last := rec[len(rec)-1]
	if last.Path != "/translate" || last.APIKey != "K" || last.Source != "en" || last.Target != "es" || last.Format != "text" || last.ContentType != "application/json" {
		t.Errorf("the fake received %+v", last)
	}

	if got, err := p.Detect(ctx, "Hola, la casa es azul"); got != "es" || err != nil {
		t.Errorf("Detect = %q, %v; want es", got, err)
	}
	// LibreTranslate's "cannot tell": English with confidence 0.
	_, err = p.Detect(ctx, "xyzzy 1234")
	wantError(t, err, aimg.CodeInvalid, MsgCouldNotDetect)

	// A pair the server lacks is refused without asking it.
	before := len(fake.Received())
	_, err = p.Translate(ctx, "Hello", "en", "ja")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
	if n := len(fake.Received()); n != before {
		t.Errorf("an unknown pair reached the server (%d requests, want %d)", n, before)
	}
}

func TestLibreTranslateKeysAndLimits(t *testing.T) {
	fake := libretranslatefake.New()
	fake.APIKeys = []string{"K"}
	fake.RequireAPIKey = true
	fake.CharLimit = 10
	url := startLibre(t, fake)
	ctx := context.Background()

	// A wrong key: 403, the operator's problem, not the text's.
	_, err := mustOpen(t, "libretranslate+"+url+"?api_key=wrong", Options{}).Translate(ctx, "Hello", "en", "es")
	wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
	// No key where one is required: LibreTranslate answers 400.
	_, err = mustOpen(t, "libretranslate+"+url, Options{}).Translate(ctx, "Hello", "en", "es")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
	// Over the server's char limit: 400.
	_, err = mustOpen(t, "libretranslate+"+url+"?api_key=K", Options{}).Translate(ctx, "Hello world, hello", "en", "es")
	wantError(t, err, aimg.CodeInvalid, MsgUnableToTranslate)
}

func TestLibreTranslateServerErrors(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/languages" {
				_, _ = w.Write([]byte(`[{"code":"en","name":"English","targets":["es"]},{"code":"es","name":"Spanish","targets":["en"]}]`))
				return
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"Slowdown: 1 per 1 second"}`))
		}))
		p := mustOpen(t, "libretranslate+"+srv.URL, Options{})
		_, err := p.Translate(context.Background(), "Hello", "en", "es")
		wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
		_, err = p.Detect(context.Background(), "Hello")
		wantError(t, err, aimg.CodeUnavailable, MsgUnavailable)
		srv.Close()
	}
}

func TestLibreTranslatePairsCached(t *testing.T) {
	fake := libretranslatefake.New()
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/languages" {
			lists.Add(1)
			if r.Header.Get("Accept-Language") != "en" {
				t.Errorf("/languages without Accept-Language: en (names would follow the server's locale)")
			}
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	now := time.Unix(1_700_000_000, 0)
	p := mustOpen(t, "libretranslate+"+srv.URL+"/", Options{PairsTTL: time.Hour, Now: func() time.Time { return now }})
	for range 3 {
		if _, err := p.Translate(context.Background(), "hello", "en", "fr"); err != nil {
			t.Fatal(err)
		}
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("%d /languages requests, want 1", n)
	}
}

func TestLibreTranslateRegionalCodes(t *testing.T) {
	fake := libretranslatefake.New()
	fake.Languages = []libretranslatefake.Language{
		{Code: "en", Name: "English", Targets: []string{"pt-BR", "zh-Hans"}},
		{Code: "pt-BR", Name: "Portuguese (Brazil)", Targets: []string{"en"}},
		{Code: "zh-Hans", Name: "Chinese", Targets: []string{"en"}},
	}
	p := mustOpen(t, "libretranslate+"+startLibre(t, fake), Options{})
	for _, to := range []string{"pt-BR", "zh-Hans"} {
		if _, err := p.Translate(context.Background(), "hello", "en", to); err != nil {
			t.Errorf("Translate en -> %s: %v", to, err)
		}
	}
}
