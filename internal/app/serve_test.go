package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"aimg/internal/config"
)

// serving is an App answering on a free port through Serve.
type serving struct {
	url, addr string
	cancel    context.CancelFunc
	done      chan error
}

func startServing(t *testing.T, a *App) *serving {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// After SIGTERM the server keeps answering for the drain delay, with
// /readyz at 503 so load balancers move away, then stops.
func TestDrainDelayAnswers503OnReadyz(t *testing.T) {
	cfg := testConfig(t, map[string]string{"AIMG_EMBEDDED_WORKER": "false"})
	cfg.Service.HTTP.DrainDelay = time.Hour // ended by the test, below
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	draining, endDelay := make(chan time.Duration, 1), make(chan time.Time)
	a.after = func(d time.Duration) <-chan time.Time {
		draining <- d
		return endDelay
	}
	s := startServing(t, a)
	c := &http.Client{}
	if code := get(t, c, s.url+"/readyz"); code != 200 {
		t.Fatalf("/readyz before the stop: %d", code)
	}
	s.cancel() // SIGTERM
	select {
	case d := <-draining:
		if d != time.Hour {
			t.Fatalf("drain delay %s", d)
		}
	case err := <-s.done:
		s.done <- err
		t.Fatalf("Serve returned (%v) without a drain delay", err)
	}
	if code := get(t, c, s.url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining: %d, want 503", code)
	}
	if code := get(t, c, s.url+"/api/getModels"); code != 200 {
		t.Fatalf("an API call while draining: %d, want 200", code)
	}
	close(endDelay)
	if err := <-s.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	s.done <- nil // for the cleanup
	if _, err := net.Dial("tcp", s.addr); err == nil {
		t.Fatal("still accepting connections after the drain")
	}
}

// short timeouts for the connection tests; the assertions only say that the
// server ends the exchange, never how fast.
func shortTimeouts(cfg *config.Config) {
	h := &cfg.Service.HTTP
	h.ReadHeaderTimeout, h.ReadTimeout, h.WriteTimeout, h.IdleTimeout = 200*time.Millisecond, 300*time.Millisecond, time.Second, 300*time.Millisecond
	h.DrainDelay = 0
}

// exchange writes raw bytes on a new connection and reads until the server
// closes it. The deadline only keeps a failing test from hanging.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server held the connection (read so far: %q)", b)
	}
	return string(b)
}

// A request that announces a body and sends none, or a keep-alive
// connection left idle, no longer holds a connection forever.
func TestConnectionsAreNotHeldForever(t *testing.T) {
	cfg := testConfig(t, map[string]string{"AIMG_EMBEDDED_WORKER": "false"})
	shortTimeouts(&cfg)
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s := startServing(t, a)
	session := "X-Session-ID: 0b5c5a4e-4a0e-4d5e-9b55-2f7b1c1e3a10\r\n"
	for name, raw := range map[string]string{
		"GET with Content-Length, no body": "GET /api/getSelfUser HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n" + session + "\r\n",
		"DELETE with Content-Length":       "DELETE /api/deleteUserKVP?key=k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n" + session + "\r\n",
		"POST chunked, no chunk":           "POST /api/authenticateUser HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n",
		"DELETE chunked, no chunk":         "DELETE /api/deleteUserKVP?key=k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + session + "\r\n",
		"headers never finished":           "GET /healthz HTTP/1.1\r\nHost: x\r\n",
		"idle keep-alive after a response": "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			out := exchange(t, s.addr, raw)
			if strings.HasPrefix(name, "idle") {
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("response before the idle close: %q %v", out, err)
				}
			}
		})
	}
}

// A file larger than any write buffer downloads through Serve, whole and in
// ranges, with the progress deadline in place.
func TestDownloadThroughServe(t *testing.T) {
	cfg := testConfig(t, map[string]string{"AIMG_EMBEDDED_WORKER": "false"})
	shortTimeouts(&cfg)
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s := startServing(t, a)
	content := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // 300 KiB
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("id", "big.bin")
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/uploadFile", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Administration-Key", cfg.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	resp, err = http.Get(s.url + "/api/getFile?id=big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, content) {
		t.Fatalf("download: status %d, %d of %d bytes, %v", resp.StatusCode, len(got), len(content), err)
	}
	req, _ = http.NewRequest(http.MethodGet, s.url+"/api/getFile?id=big.bin", nil)
	req.Header.Set("Range", "bytes=100000-100009")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, content[100000:100010]) {
		t.Fatalf("range: %d %q", resp.StatusCode, got)
	}
}
