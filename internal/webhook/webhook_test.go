package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/webhook"
)

// call is one request a test server saw.
type call struct {
	method, contentType, body string
	contentLength             int64
}

// recorder is a test server that records calls and answers status.
func recorder(t *testing.T, status int) (*httptest.Server, func() []call) {
	t.Helper()
	var (
		mu    sync.Mutex
		calls []call
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{r.Method, r.Header.Get("Content-Type"), string(b), r.ContentLength})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []call {
		mu.Lock()
		defer mu.Unlock()
		return append([]call(nil), calls...)
	}
}

func TestSendMethods(t *testing.T) {
	srv, calls := recorder(t, http.StatusOK)
	s := webhook.New(webhook.Options{AllowPrivate: true})
	body := []byte(`{"task":{"id":7,"status":"STATUS_SUCCESSFUL"}}`)
	for _, tc := range []struct {
		method, want string
		withBody     bool
	}{
		{"HTTP:POST", http.MethodPost, true},
		{"HTTP:PUT", http.MethodPut, true},
		{"HTTP:GET", http.MethodGet, false},
		{"HTTP:DELETE", http.MethodDelete, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			before := len(calls())
			if err := s.Send(context.Background(), tc.method, srv.URL+"/hook?token=abc", body); err != nil {
				t.Fatal(err)
			}
			got := calls()
			if len(got) != before+1 {
				t.Fatalf("%d calls, want %d", len(got), before+1)
			}
			c := got[len(got)-1]
			if c.method != tc.want {
				t.Fatalf("method %s, want %s", c.method, tc.want)
			}
			if tc.withBody && (c.body != string(body) || c.contentType != "application/json") {
				t.Fatalf("body %q type %q", c.body, c.contentType)
			}
			if !tc.withBody && (c.body != "" || c.contentType != "" || c.contentLength > 0) {
				t.Fatalf("%s carried a body %q (type %q, length %d)", tc.method, c.body, c.contentType, c.contentLength)
			}
		})
	}
}

func TestSendStatuses(t *testing.T) {
	s := webhook.New(webhook.Options{AllowPrivate: true})
	for _, status := range []int{200, 201, 202, 204, 299} {
		srv, _ := recorder(t, status)
		if err := s.Send(context.Background(), "HTTP:POST", srv.URL, []byte(`{}`)); err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
	}
	for _, status := range []int{100, 300, 304, 400, 404, 410, 500, 503} {
		if status == 100 {
			continue // not a final status a handler can send
		}
		srv, _ := recorder(t, status)
		err := s.Send(context.Background(), "HTTP:POST", srv.URL+"/x?secret=s3cr3t", []byte(`{}`))
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if !strings.Contains(err.Error(), http.StatusText(status)) || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("status %d: error %q (want the status, not the query)", status, err)
		}
	}
}

// A redirect is a failed delivery and is not followed.
func TestSendNoRedirects(t *testing.T) {
	target, targetCalls := recorder(t, http.StatusOK)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()
	s := webhook.New(webhook.Options{AllowPrivate: true})
	for _, m := range []string{"HTTP:GET", "HTTP:POST"} {
		if err := s.Send(context.Background(), m, redirect.URL, []byte(`{}`)); err == nil {
			t.Fatalf("%s: a redirect counted as delivered", m)
		}
	}
	if n := len(targetCalls()); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}

// A server that never answers makes Send fail after Options.Timeout.
func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s := webhook.New(webhook.Options{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	if err := s.Send(context.Background(), "HTTP:POST", srv.URL, []byte(`{}`)); err == nil {
		t.Fatal("no error from a server that never answers")
	}
}

// The caller's context ends a delivery too.
func TestSendContext(t *testing.T) {
	srv, calls := recorder(t, http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := webhook.New(webhook.Options{AllowPrivate: true})
	if err := s.Send(ctx, "HTTP:POST", srv.URL, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if n := len(calls()); n != 0 {
		t.Fatalf("%d calls with a cancelled context", n)
	}
}

// Without AllowPrivate the test server on 127.0.0.1 is out of reach.
func TestSendRefusesLoopback(t *testing.T) {
	srv, calls := recorder(t, http.StatusOK)
	s := webhook.New(webhook.Options{})
	err := s.Send(context.Background(), "HTTP:POST", srv.URL, []byte(`{}`))
	if aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("loopback literal: %v, want invalid", err)
	}
	for _, uri := range []string{"http://10.1.2.3:9/", "http://[::1]:9/", "http://169.254.169.254/latest/meta-data/",
		"http://localhost:9/", "http://api.localhost./"} {
		if err := s.Send(context.Background(), "HTTP:GET", uri, nil); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("%s: %v, want invalid", uri, err)
		}
	}
	if n := len(calls()); n != 0 {
		t.Fatalf("%d calls reached the loopback server", n)
	}
}

func TestCheckURI(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", webhook.MaxURIBytes-len("https://example.com/"))
	for _, tc := range []struct {
		uri, method  string
		allowPrivate bool
		field        string // "" = accepted
	}{
		{"https://example.com/hook?token=x", "HTTP:POST", false, ""},
		{"http://example.com:8081/hook", "HTTP:GET", false, ""},
		{"HTTPS://Example.COM/", "HTTP:PUT", false, ""},
		{"https://203.0.113.7/h", "HTTP:DELETE", false, ""},
		{"https://[2001:db8::1]/h", "HTTP:POST", false, ""},
		{long, "HTTP:POST", false, ""},
		{long + "a", "HTTP:POST", false, "webhookUri"},
		{"https://example.com/", "POST", false, "webhookMethod"},
		{"https://example.com/", "HTTP:PATCH", false, "webhookMethod"},
		{"https://example.com/", "http:post", false, "webhookMethod"},
		{"https://example.com/", "", false, "webhookMethod"},
		{"https://example.com/", "AppAPI:app:/path", false, "webhookMethod"},
		{"", "HTTP:POST", false, "webhookUri"},
		{"/relative/path", "HTTP:POST", false, "webhookUri"},
		{"example.com/hook", "HTTP:POST", false, "webhookUri"},
		{"ftp://example.com/", "HTTP:POST", false, "webhookUri"},
		{"file:///etc/passwd", "HTTP:POST", false, "webhookUri"},
		{"javascript:alert(1)", "HTTP:POST", false, "webhookUri"},
		{"gopher://example.com:25/", "HTTP:POST", false, "webhookUri"},
		{"http:example.com", "HTTP:POST", false, "webhookUri"},
		{"http:///path", "HTTP:POST", false, "webhookUri"},
		{"https://user@example.com/", "HTTP:POST", false, "webhookUri"},
		{"https://user:pass@example.com/", "HTTP:POST", false, "webhookUri"},
		{"https://:pass@example.com/", "HTTP:POST", false, "webhookUri"},
		{"https://example.com:0/", "HTTP:POST", false, "webhookUri"},
		{"https://example.com:65536/", "HTTP:POST", false, "webhookUri"},
		{"https://example.com:x/", "HTTP:POST", false, "webhookUri"},
		{"https://exa mple.com/", "HTTP:POST", false, "webhookUri"},
		{"https://example.com/\n", "HTTP:POST", false, "webhookUri"},
		{"http://127.0.0.1:8080/", "HTTP:POST", false, "webhookUri"},
		{"http://127.0.0.1:8080/", "HTTP:POST", true, ""},
		{"http://10.0.0.5/", "HTTP:POST", false, "webhookUri"},
		{"http://10.0.0.5/", "HTTP:POST", true, ""},
		{"http://[::ffff:192.168.1.1]/", "HTTP:POST", false, "webhookUri"},
		{"http://[fe80::1%25eth0]/", "HTTP:POST", false, "webhookUri"},
		{"http://0.0.0.0/", "HTTP:POST", false, "webhookUri"},
		{"http://LOCALHOST/", "HTTP:POST", false, "webhookUri"},
		{"http://localhost/", "HTTP:POST", true, ""},
	} {
		err := webhook.CheckURI(tc.uri, tc.method, tc.allowPrivate)
		if tc.field == "" {
			if err != nil {
				t.Errorf("CheckURI(%q, %q, %v): %v", tc.uri, tc.method, tc.allowPrivate, err)
			}
			continue
		}
		var e *aimg.Error
		if !errors.As(err, &e) || e.Code != aimg.CodeInvalid || e.Field != tc.field {
			t.Errorf("CheckURI(%q, %q, %v): %#v, want invalid %s", tc.uri, tc.method, tc.allowPrivate, err, tc.field)
		}
	}
}
