package testsupport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/app"
	"aimg/internal/config"
	"aimg/internal/mail"
	"aimg/internal/testsupport/testclock"
)

// Clock is the settable clock of test servers.
type Clock = testclock.Clock

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock { return testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

// AdminKey is the admin key of test servers.
const AdminKey = "test-admin-key-0123456789"

// Server is the whole AIMG app behind an httptest server.
type Server struct {
	URL     string
	App     *app.App
	Clock   *Clock
	DataDir string
	Logs    *bytes.Buffer // everything the app logged (JSON lines)
	logMu   *sync.Mutex
}

// NewServer starts the app on databaseURL with a temp data dir, the fake
// clock and the admin key above; edit adjusts the config before start.
func NewServer(t testing.TB, databaseURL string, edit ...func(*config.Config)) *Server {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"AIMG_DATA_DIR":        dir,
		"AIMG_DATABASE_URL":    databaseURL,
		"AIMG_ADMIN_KEY":       AdminKey,
		"AIMG_EMBEDDED_WORKER": "false",
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for _, e := range edit {
		e(&cfg)
	}
	clock := NewClock()
	logs, mu := &bytes.Buffer{}, &sync.Mutex{}
	log := slog.New(slog.NewJSONHandler(lockedWriter{mu, logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, log, clock.Now, "test", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	hs := httptest.NewServer(a.HTTP)
	t.Cleanup(func() {
		hs.Close()
		a.Close()
	})
	if cfg.EmbeddedWorker { // enabled by an edit: cfg.EmbeddedWorker = true
		a.Start(context.Background())
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = a.Stop(ctx)
		})
	}
	return &Server{URL: hs.URL, App: a, Clock: clock, DataDir: dir, Logs: logs, logMu: mu}
}

// LogText returns what was logged so far.
func (s *Server) LogText() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.Logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Envelope is a decoded AIMG response.
type Envelope struct {
	Status       int
	Header       http.Header
	HasError     bool            `json:"hasError"`
	ErrorMessage string          `json:"errorMessage"`
	ErrorCode    int             `json:"errorCode"`
	Payload      json.RawMessage `json:"payload"`
	Metadata     json.RawMessage `json:"metadata"`
	Raw          []byte
}

// Decode unmarshals the payload into v, failing the test on error.
func (e *Envelope) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Payload, v); err != nil {
		t.Fatalf("decode payload %s: %v", e.Payload, err)
	}
}

// Req is one request to the API.
type Req struct {
	Method    string
	Path      string            // e.g. "/api/getSelfUser?profilePicture=true"
	Body      any               // marshalled as JSON unless it is []byte or string (sent as is)
	SessionID string            // X-Session-ID
	AdminKey  string            // X-Administration-Key
	Header    map[string]string // more headers ("Host" sets the request's host)
}

// Do sends r and decodes the envelope; it fails the test when the response
// is not an envelope.
func (s *Server) Do(t testing.TB, r Req) *Envelope {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.SessionID != "" {
		req.Header.Set("X-Session-ID", r.SessionID)
	}
	if r.AdminKey != "" {
		req.Header.Set("X-Administration-Key", r.AdminKey)
	}
	for k, v := range r.Header {
		if k == "Host" { // the client sends req.Host, not a Host header
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	env := &Envelope{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, env); err != nil {
		t.Fatalf("%s %s: status %d, not an envelope: %q", r.Method, r.Path, resp.StatusCode, raw)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Fatalf("%s %s: no X-Request-ID", r.Method, r.Path)
	}
	return env
}

// Get and Post are shorthands for Do.
func (s *Server) Get(t testing.TB, path, session string) *Envelope {
	t.Helper()
	return s.Do(t, Req{Method: http.MethodGet, Path: path, SessionID: session})
}

func (s *Server) Post(t testing.TB, path, session string, body any) *Envelope {
	t.Helper()
	return s.Do(t, Req{Method: http.MethodPost, Path: path, SessionID: session, Body: body})
}

// Outbox returns the emails the app wrote so far.
func (s *Server) Outbox(t testing.TB) []mail.Message {
	t.Helper()
	msgs, err := mail.ReadOutbox(filepath.Join(s.DataDir, "outbox"))
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	return msgs
}

// ExpectError fails unless env is an error envelope with status and a
// message containing want.
func ExpectError(t testing.TB, env *Envelope, status int, want string) {
	t.Helper()
	if env.Status != status || !env.HasError || env.ErrorCode != status || !strings.Contains(env.ErrorMessage, want) {
		t.Fatalf("got status %d hasError=%v code=%d message %q; want %d with %q (body %s)",
			env.Status, env.HasError, env.ErrorCode, env.ErrorMessage, status, want, env.Raw)
	}
	if string(env.Payload) != "null" {
		t.Fatalf("error payload = %s, want null", env.Payload)
	}
}

// ExpectOK fails unless env is a 200 success envelope.
func ExpectOK(t testing.TB, env *Envelope) {
	t.Helper()
	if env.Status != http.StatusOK || env.HasError {
		t.Fatalf("got status %d: %s", env.Status, env.Raw)
	}
}
