package ocs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/translate/libretranslatefake"
)

// The translation API as Nextcloud Talk and Text call it: Talk's
// src/services/translationService.js and Text's translate modal post
// {text, fromLanguage, toLanguage} as JSON through @nextcloud/axios and
// read response.data.ocs.data.text (Talk also reads .from on success and
// .message on failure); languages come from GET translation/languages
// (ocs.data.languages, ocs.data.languageDetection), newer Talk reads the
// TaskProcessing type core:text2text:translate's enum values instead.

// talk is the header set of @nextcloud/axios in a browser: axios' JSON
// Accept, the request token and X-Requested-With. A browser passes
// Nextcloud's CSRF check with the request token, which AIMG does not
// issue (internal/ocs/csrf.go), so the replay adds OCS-APIRequest as
// non-browser clients send it.
func talk(t *testing.T, srv *testsupport.Server, session string) *client {
	c := &client{t: t, srv: srv, headers: map[string]string{
		"Accept":           "application/json, text/plain, */*",
		"requesttoken":     "Zm9vYmFy:YmFyZm9v",
		"X-Requested-With": "XMLHttpRequest",
		"OCS-APIRequest":   "true",
		"User-Agent":       "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	}}
	if session != "" {
		c.headers["X-Session-ID"] = session
	}
	return c
}

type languagesJSON struct {
	Languages []struct {
		From      string `json:"from"`
		FromLabel string `json:"fromLabel"`
		To        string `json:"to"`
		ToLabel   string `json:"toLabel"`
	} `json:"languages"`
	LanguageDetection bool `json:"languageDetection"`
}

// translated is ocs.data of a translate answer, success or failure.
type translated struct {
	Text    *string `json:"text"`
	From    *string `json:"from"`
	Message *string `json:"message"`
}

// translateBody is what Talk sends; from nil is JSON null (detect).
func translateBody(text string, from *string, to string) map[string]any {
	return map[string]any{"text": text, "fromLanguage": from, "toLanguage": to}
}

func lang(code string) *string { return &code }

// translateOK posts a translation and returns ocs.data, failing unless
// it is a 200 with a text.
func translateOK(t *testing.T, c *client, text string, from *string, to string) translated {
	t.Helper()
	r := c.json("POST", "/ocs/v2.php/translation/translate", translateBody(text, from, to))
	var got translated
	e := r.data(t, &got)
	if r.Status != 200 || e.OCS.Meta.StatusCode != 200 || got.Text == nil || got.From == nil {
		t.Fatalf("translate %q %v->%s: %d %s", text, from, to, r.Status, r.Body)
	}
	return got
}

// translateFails posts a translation and checks the refusal: HTTP status,
// data.message and data.from (nil: absent).
func translateFails(t *testing.T, c *client, body map[string]any, status int, message string, from *string) {
	t.Helper()
	r := c.json("POST", "/ocs/v2.php/translation/translate", body)
	var got translated
	e := r.data(t, &got)
	if r.Status != status || e.OCS.Meta.StatusCode != status || e.OCS.Meta.Status != "failure" ||
		got.Message == nil || *got.Message != message || got.Text != nil {
		t.Fatalf("translate %s: %d %s; want %d %q", show(body), r.Status, r.Body, status, message)
	}
	switch {
	case from == nil && got.From != nil:
		t.Fatalf("translate %s: from %q, want none: %s", show(body), *got.From, r.Body)
	case from != nil && (got.From == nil || *got.From != *from):
		t.Fatalf("translate %s: want from %q: %s", show(body), *from, r.Body)
	}
}

// show is v as JSON, for messages.
func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTranslationWithoutProvider(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	c := talk(t, srv, "")
	r := c.get("/ocs/v2.php/translation/languages")
	var langs languagesJSON
	if r.data(t, &langs); r.Status != 200 || langs.LanguageDetection || langs.Languages == nil || len(langs.Languages) != 0 {
		t.Fatalf("languages without a provider: %d %s", r.Status, r.Body)
	}
	// "languages": [] and not null, as PHP's empty array.
	if !strings.Contains(string(r.Body), `"languages":[]`) {
		t.Fatalf("languages is not an empty list: %s", r.Body)
	}
	translateFails(t, c, translateBody("Hello", lang("en"), "es"), 412, "No translation provider available", nil)
	translateFails(t, c, translateBody("Hello", nil, "es"), 412, "No translation provider available", nil)
	// No provider: no translate task type either.
	r = c.get("/ocs/v2.php/taskprocessing/tasktypes")
	if r.Status != 200 || strings.Contains(string(r.Body), "core:text2text:translate") {
		t.Fatalf("tasktypes without a translation provider: %d %s", r.Status, r.Body)
	}
}

func TestTranslationThroughApertium(t *testing.T) {
	apy := testsupport.ApertiumURL(t)
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := newOCSServer(t, dbURL, func(c *config.Config) { c.TranslationURL = "apertium+" + apy })
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		c := talk(t, srv, alice.SessionID)

		// Languages: APy's pairs under Nextcloud's codes, with labels.
		r := c.get("/ocs/v2.php/translation/languages")
		var langs languagesJSON
		if r.data(t, &langs); r.Status != 200 || !langs.LanguageDetection {
			t.Fatalf("languages: %d %s", r.Status, r.Body)
		}
		seen := map[string]string{}
		for _, l := range langs.Languages {
			seen[l.From+">"+l.To] = l.FromLabel + ">" + l.ToLabel
		}
		for pair, labels := range map[string]string{"en>es": "English>Spanish", "en>ca": "English>Catalan", "es>en": "Spanish>English"} {
			if seen[pair] != labels {
				t.Errorf("languages lack %s (%s): %s", pair, labels, r.Body)
			}
		}

		// English to Spanish and to Catalan, real text through APy.
		for _, tc := range []struct {
			to, text string
			want     []string
		}{
			{"es", "The house is blue.", []string{"casa", "azul"}},
			{"ca", "The house is blue.", []string{"casa", "blava"}},
			{"es", "Good morning, my friend.", []string{"Buenos días", "amigo"}},
		} {
			got := translateOK(t, c, tc.text, lang("en"), tc.to)
			for _, w := range tc.want {
				if !strings.Contains(*got.Text, w) {
					t.Errorf("en->%s %q = %q; want %q in it", tc.to, tc.text, *got.Text, w)
				}
			}
			if *got.From != "en" {
				t.Errorf("en->%s: from %q", tc.to, *got.From)
			}
		}

		// fromLanguage null: the built-in detector names English (APy's
		// /identifyLang knows nothing without CLD2), and the answer says so.
		got := translateOK(t, c, "The weather is very good today and the children are playing in the garden.", nil, "es")
		if *got.From != "en" || !strings.Contains(*got.Text, "niños") {
			t.Fatalf("detected translation: from %q text %q", *got.From, *got.Text)
		}
		// The same language both ways: the text as it came, untouched.
		text := "The  *zorblax*   stays <as> it is.\n"
		if got := translateOK(t, c, text, lang("en"), "en"); *got.Text != text || *got.From != "en" {
			t.Fatalf("en->en: %+v", got)
		}
		// A pair APy does not have: 400 "Unable to translate" with from.
		translateFails(t, c, translateBody("The house is blue.", lang("es"), "ca"), 400, "Unable to translate", lang("es"))
		translateFails(t, c, translateBody("The house is blue.", lang("en"), "de"), 400, "Unable to translate", lang("en"))
		// Nothing to detect a language in: 400 "Could not detect language", no from.
		translateFails(t, c, translateBody("12345 !!!", nil, "es"), 400, "Could not detect language", nil)
		// Missing or mistyped fields name the field.
		for field, body := range map[string]map[string]any{
			"text":       {"fromLanguage": "en", "toLanguage": "es"},
			"toLanguage": {"text": "Hello", "fromLanguage": "en"},
		} {
			r := c.json("POST", "/ocs/v2.php/translation/translate", body)
			if r.Status != 400 || !strings.Contains(string(r.Body), field) {
				t.Fatalf("without %s: %d %s", field, r.Status, r.Body)
			}
		}
		if r := c.json("POST", "/ocs/v2.php/translation/translate", map[string]any{"text": []any{"x"}, "toLanguage": "es"}); r.Status != 400 || !strings.Contains(string(r.Body), "text") {
			t.Fatalf("text as a list: %d %s", r.Status, r.Body)
		}

		// TaskProcessing: the translate type with APy's languages as enums.
		r = c.get("/ocs/v2.php/taskprocessing/tasktypes")
		var types struct {
			Types map[string]struct {
				Name                 string                           `json:"name"`
				InputShape           map[string]struct{ Type string } `json:"inputShape"`
				InputShapeEnumValues map[string][]struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"inputShapeEnumValues"`
				InputShapeDefaults map[string]any `json:"inputShapeDefaults"`
			} `json:"types"`
		}
		r.data(t, &types)
		tr, found := types.Types["core:text2text:translate"]
		if r.Status != 200 || !found {
			t.Fatalf("tasktypes lack core:text2text:translate: %d %s", r.Status, r.Body)
		}
		if tr.InputShape["origin_language"].Type != "Enum" || tr.InputShape["target_language"].Type != "Enum" ||
			tr.InputShapeDefaults["origin_language"] != "detect_language" {
			t.Fatalf("translate shapes: %+v", tr)
		}
		values := func(key string) []string {
			var out []string
			for _, v := range tr.InputShapeEnumValues[key] {
				if v.Name == "" {
					t.Errorf("%s value %q has no name", key, v.Value)
				}
				out = append(out, v.Value)
			}
			return out
		}
		origins, targets := values("origin_language"), values("target_language")
		for _, want := range []string{"detect_language", "en", "es", "ca"} {
			if !slices.Contains(origins, want) {
				t.Errorf("origin_language %v lacks %s", origins, want)
			}
		}
		for _, want := range []string{"es", "ca", "en"} {
			if !slices.Contains(targets, want) {
				t.Errorf("target_language %v lacks %s", targets, want)
			}
		}
		if slices.Contains(targets, "detect_language") {
			t.Errorf("target_language offers detection: %v", targets)
		}

		// Schedule one as the Assistant does, poll it to the end.
		r = c.json("POST", "/ocs/v2.php/taskprocessing/schedule", map[string]any{
			"input": map[string]any{"input": "The house is blue.", "origin_language": "en", "target_language": "es"},
			"type":  "core:text2text:translate", "appId": "assistant", "customId": "tr-1"})
		var sched struct {
			Task struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
				Type   string `json:"type"`
			} `json:"task"`
		}
		if r.data(t, &sched); r.Status != 200 || sched.Task.ID <= 0 || sched.Task.Type != "core:text2text:translate" || sched.Task.Status != "STATUS_SCHEDULED" {
			t.Fatalf("schedule translate: %d %s", r.Status, r.Body)
		}
		var output string
		eventually(t, "the translate task succeeding", func() bool {
			var got struct {
				Task struct {
					Status string `json:"status"`
					Output *struct {
						Output string `json:"output"`
					} `json:"output"`
				} `json:"task"`
			}
			r := c.get(fmt.Sprintf("/ocs/v2.php/taskprocessing/task/%d", sched.Task.ID))
			r.data(t, &got)
			switch got.Task.Status {
			case "STATUS_FAILED", "STATUS_CANCELLED", "STATUS_UNKNOWN":
				t.Fatalf("translate task ended %s", r.Body)
			case "STATUS_SUCCESSFUL":
				if got.Task.Output == nil {
					t.Fatalf("successful without output: %s", r.Body)
				}
				output = got.Task.Output.Output
				return true
			}
			return false
		})
		if !strings.Contains(output, "casa") || !strings.Contains(output, "azul") {
			t.Fatalf("translate task output %q", output)
		}
		// Languages outside the enums are refused when scheduling.
		r = c.json("POST", "/ocs/v2.php/taskprocessing/schedule", map[string]any{
			"input": map[string]any{"input": "x", "origin_language": "en", "target_language": "xx"},
			"type":  "core:text2text:translate", "appId": "assistant"})
		if r.Status != 400 || !strings.Contains(string(r.Body), "target_language") {
			t.Fatalf("schedule to xx: %d %s", r.Status, r.Body)
		}
	})
}

func TestTranslationThroughLibreTranslate(t *testing.T) {
	fake := libretranslatefake.New()
	fake.APIKeys = []string{"lt-key"}
	fake.RequireAPIKey = true
	lt := httptest.NewServer(fake)
	defer lt.Close()
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.TranslationURL = "libretranslate+" + lt.URL + "?api_key=lt-key"
	})
	c := talk(t, srv, "")

	r := c.get("/ocs/v2.php/translation/languages")
	var langs languagesJSON
	if r.data(t, &langs); r.Status != 200 || !langs.LanguageDetection || len(langs.Languages) != 12 {
		t.Fatalf("languages: %d %s", r.Status, r.Body)
	}
	got := translateOK(t, c, "Hello world, the house is blue.", lang("en"), "es")
	if *got.Text != "Hola mundo, el casa es azul." || *got.From != "en" {
		t.Fatalf("en->es: %+v", got)
	}
	// Detection through the server's /detect.
	got = translateOK(t, c, "Hola, la casa es azul.", nil, "en")
	if *got.From != "es" || *got.Text != "Hello, the house is blue." {
		t.Fatalf("detected es->en: text %q from %q", *got.Text, *got.From)
	}
	var paths []string
	for _, rec := range fake.Received() {
		if rec.APIKey != "lt-key" {
			t.Errorf("%s sent without the key: %+v", rec.Path, rec)
		}
		paths = append(paths, rec.Path)
	}
	if !slices.Contains(paths, "/detect") || !slices.Contains(paths, "/translate") {
		t.Fatalf("the fake saw %v", paths)
	}
	// A pair the server refuses is the provider's 400 passed on as
	// "Unable to translate".
	translateFails(t, c, translateBody("Hello", lang("en"), "ja"), 400, "Unable to translate", lang("en"))

	// The server gone: the languages are cached; translating and
	// detecting fail as the documented 400s, never as 5xx.
	lt.Close()
	translateFails(t, c, translateBody("Hello world", lang("en"), "es"), 400, "Unable to translate", lang("en"))
	translateFails(t, c, translateBody("Hello world", nil, "es"), 400, "Could not detect language", nil)
	if r := c.get("/ocs/v2.php/translation/languages"); r.Status != 200 {
		t.Fatalf("languages with the server down: %d %s", r.Status, r.Body)
	}
}

// A provider whose server is down from the start: translating is the
// documented 400, the languages are 503 (nothing cached to show, and
// retrying later helps), and TaskProcessing lists the other types without
// core:text2text:translate, as Nextcloud skips a provider that fails, and
// refuses to schedule it as it refuses a type no provider serves (412).
func TestTranslationProviderDown(t *testing.T) {
	lt := httptest.NewServer(libretranslatefake.New())
	lt.Close()
	srv := testsupport.NewServer(t, "", func(c *config.Config) { c.TranslationURL = "libretranslate+" + lt.URL })
	c := talk(t, srv, "")
	translateFails(t, c, translateBody("Hello", lang("en"), "es"), 400, "Unable to translate", lang("en"))
	translateFails(t, c, translateBody("Hello", nil, "es"), 400, "Could not detect language", nil)
	r := c.get("/ocs/v2.php/translation/languages")
	var msg struct {
		Message string `json:"message"`
	}
	if e := r.data(t, &msg); r.Status != 503 || e.OCS.Meta.StatusCode != 503 || msg.Message != "Translation service unavailable" {
		t.Fatalf("languages with the server down: %d %s", r.Status, r.Body)
	}
	r = c.get("/ocs/v2.php/taskprocessing/tasktypes")
	var types struct {
		Types map[string]json.RawMessage `json:"types"`
	}
	r.data(t, &types)
	if _, listed := types.Types["core:text2text:translate"]; r.Status != 200 || listed || types.Types["core:text2text:summary"] == nil {
		t.Fatalf("tasktypes with the translation server down: %d %s", r.Status, r.Body)
	}
	r = c.json("POST", "/ocs/v2.php/taskprocessing/schedule", map[string]any{
		"input": map[string]any{"input": "Hello", "origin_language": "en", "target_language": "es"},
		"type":  "core:text2text:translate", "appId": "assistant"})
	if e := r.data(t, &msg); r.Status != 412 || e.OCS.Meta.StatusCode != 412 || msg.Message != "The given provider is not available" {
		t.Fatalf("schedule translate with the server down: %d %s", r.Status, r.Body)
	}
}

// Guests may translate 10 times in 2 minutes, users 25 (Nextcloud's
// AnonRateLimit and UserRateLimit on TranslationApiController::translate).
func TestTranslateRateLimits(t *testing.T) {
	lt := httptest.NewServer(libretranslatefake.New())
	defer lt.Close()
	srv := testsupport.NewServer(t, "", func(c *config.Config) { c.TranslationURL = "libretranslate+" + lt.URL })
	guest := talk(t, srv, "")
	for i := range 10 {
		if r := guest.json("POST", "/ocs/v2.php/translation/translate", translateBody("Hello", lang("en"), "es")); r.Status != 200 {
			t.Fatalf("guest translate %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := guest.json("POST", "/ocs/v2.php/translation/translate", translateBody("Hello", lang("en"), "es"))
	if e := r.envelope(t); r.Status != http.StatusTooManyRequests || e.OCS.Meta.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("11th guest translate: %d %s", r.Status, r.Body)
	}
	// v1 answers HTTP 200 with statuscode 429.
	r = guest.json("POST", "/ocs/v1.php/translation/translate", translateBody("Hello", lang("en"), "es"))
	if e := r.envelope(t); r.Status != 200 || e.OCS.Meta.StatusCode != 429 {
		t.Fatalf("12th guest translate on v1: %d %s", r.Status, r.Body)
	}
	// The languages are not limited; a signed-in user has a budget of its own.
	if r := guest.get("/ocs/v2.php/translation/languages"); r.Status != 200 {
		t.Fatalf("languages after the limit: %d %s", r.Status, r.Body)
	}
	alice := talk(t, srv, testsupport.SignUp(t, srv, "alice@example.com").SessionID)
	for i := range 25 {
		if r := alice.json("POST", "/ocs/v2.php/translation/translate", translateBody("Hello", lang("en"), "es")); r.Status != 200 {
			t.Fatalf("user translate %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := alice.json("POST", "/ocs/v2.php/translation/translate", translateBody("Hello", lang("en"), "es")); r.Status != http.StatusTooManyRequests {
		t.Fatalf("26th user translate: %d %s", r.Status, r.Body)
	}
}
