package webhook_test

import (
	"errors"
	"net/url"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/webhook"
)

// CheckURI reads client input: it never panics, refuses with an invalid
// error naming one of its two fields, and what it accepts is within its rules.
func FuzzCheckURI(f *testing.F) {
	for _, seed := range []string{"https://example.com/hook?x=1", "http://127.0.0.1:80/", "http://u:p@h/", "ftp://x/",
		"http://[fe80::1%25eth0]/", "http://localhost./", "http:x", "//example.com/", "http://example.com:99999/"} {
		f.Add(seed, "HTTP:POST", false)
	}
	f.Fuzz(func(t *testing.T, uri, method string, allowPrivate bool) {
		err := webhook.CheckURI(uri, method, allowPrivate)
		if err != nil {
			var e *aimg.Error
			if !errors.As(err, &e) || e.Code != aimg.CodeInvalid || (e.Field != "webhookUri" && e.Field != "webhookMethod") {
				t.Fatalf("CheckURI(%q, %q): %#v", uri, method, err)
			}
			return
		}
		u, perr := url.Parse(uri)
		if perr != nil || len(uri) > webhook.MaxURIBytes || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Hostname() == "" {
			t.Fatalf("CheckURI accepted %q", uri)
		}
	})
}
