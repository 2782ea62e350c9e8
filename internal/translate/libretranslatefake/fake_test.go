package libretranslatefake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func call(t *testing.T, s *Server, method, path, contentType, body string) (int, map[string]any, []any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var obj map[string]any
	var list []any
	if json.Unmarshal(rec.Body.Bytes(), &obj) != nil {
		_ = json.Unmarshal(rec.Body.Bytes(), &list)
	}
	return rec.Code, obj, list
}

// The answers LibreTranslate's app.py gives, one per branch the clients meet.
func TestFakeSpeaksLibreTranslate(t *testing.T) {
	s := New()
	code, _, langs := call(t, s, http.MethodGet, "/languages", "", "")
	if code != 200 || len(langs) != 4 {
		t.Fatalf("/languages: %d %v", code, langs)
	}
	first := langs[0].(map[string]any)
	if first["code"] != "en" || first["name"] != "English" || len(first["targets"].([]any)) != 3 {
		t.Errorf("/languages[0] = %v", first)
	}

	code, obj, _ := call(t, s, http.MethodPost, "/translate", "application/json", `{"q":"Hello world","source":"en","target":"es"}`)
	if code != 200 || obj["translatedText"] != "Hola mundo" {
		t.Errorf("JSON /translate: %d %v", code, obj)
	}
	form := url.Values{"q": {"hello\r\nworld"}, "source": {"auto"}, "target": {"es"}}.Encode()
	code, obj, _ = call(t, s, http.MethodPost, "/translate", "application/x-www-form-urlencoded", form)
	det, _ := obj["detectedLanguage"].(map[string]any)
	if code != 200 || obj["translatedText"] != "hola\nmundo" || det["language"] != "en" {
		t.Errorf("form /translate with auto: %d %v", code, obj)
	}
	code, obj, _ = call(t, s, http.MethodPost, "/translate", "application/json", `{"q":["hello","world"],"source":"en","target":"es"}`)
	if tt, _ := obj["translatedText"].([]any); code != 200 || len(tt) != 2 || tt[1] != "mundo" {
		t.Errorf("batch /translate: %d %v", code, obj)
	}

	for body, want := range map[string]string{
		`{"source":"en","target":"es"}`:                       "Invalid request: missing q parameter",
		`{"q":"x","target":"es"}`:                             "Invalid request: missing source parameter",
		`{"q":"x","source":"en"}`:                             "Invalid request: missing target parameter",
		`{"q":"x","source":"xx","target":"es"}`:               "xx is not supported",
		`{"q":"x","source":"en","target":"es","format":"md"}`: "md format is not supported",
		`["q"]`: "Invalid JSON format",
	} {
		code, obj, _ := call(t, s, http.MethodPost, "/translate", "application/json", body)
		if code != 400 || obj["error"] != want {
			t.Errorf("/translate %s: %d %v, want 400 %q", body, code, obj, want)
		}
	}
	s.Languages[0].Targets = []string{"es"}
	code, obj, _ = call(t, s, http.MethodPost, "/translate", "application/json", `{"q":"x","source":"en","target":"fr"}`)
	if code != 400 || obj["error"] != "French (fr) is not available as a target language from English (en)" {
		t.Errorf("pair without the target: %d %v", code, obj)
	}

	code, _, found := call(t, s, http.MethodPost, "/detect", "application/json", `{"q":"la casa es azul"}`)
	if best, _ := found[0].(map[string]any); code != 200 || best["language"] != "es" || best["confidence"].(float64) <= 0 {
		t.Errorf("/detect: %d %v", code, found)
	}
	code, _, found = call(t, s, http.MethodPost, "/detect", "application/json", `{"q":"zzz"}`)
	if best, _ := found[0].(map[string]any); code != 200 || best["language"] != "en" || best["confidence"] != 0.0 {
		t.Errorf("/detect of nothing known: %d %v", code, found)
	}

	if code, _, _ := call(t, s, http.MethodGet, "/translate", "", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /translate: %d, want 405", code)
	}

	s.APIKeys, s.RequireAPIKey, s.CharLimit = []string{"K"}, true, 3
	for body, want := range map[string]struct {
		code int
		msg  string
	}{
		`{"q":"hi","source":"en","target":"es","api_key":"bad"}`:  {403, "Invalid API key"},
		`{"q":"hi","source":"en","target":"es"}`:                  {400, "Please contact the server operator to get an API key"},
		`{"q":"hello","source":"en","target":"es","api_key":"K"}`: {400, "Invalid request: request (5) exceeds text limit (3)"},
	} {
		code, obj, _ := call(t, s, http.MethodPost, "/translate", "application/json", body)
		if code != want.code || obj["error"] != want.msg {
			t.Errorf("/translate %s: %d %v, want %d %q", body, code, obj, want.code, want.msg)
		}
	}
	keyed := 0
	for _, r := range s.Received() {
		if r.APIKey == "K" {
			keyed++
		}
	}
	if keyed != 1 {
		t.Errorf("%d received requests carry the key K, want 1: %+v", keyed, s.Received())
	}
}
