package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestBlocked(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true}, {"127.255.0.9", true}, {"::1", true},
		{"10.0.0.1", true}, {"10.255.255.255", true}, {"172.16.0.1", true}, {"172.31.255.255", true}, {"192.168.1.1", true},
		{"fc00::1", true}, {"fd12:3456::1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"fe80::1%eth0", true},
		{"100.64.0.1", true}, {"100.127.255.255", true},
		{"224.0.0.1", true}, {"239.255.255.250", true}, {"ff02::1", true}, {"ff05::2", true},
		{"0.0.0.0", true}, {"0.1.2.3", true}, {"::", true}, {"255.255.255.255", true}, {"240.0.0.1", true},
		{"192.0.0.8", true}, {"198.18.0.1", true},
		{"::ffff:10.0.0.1", true}, {"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true}, {"64:ff9b::7f00:1", true},
		// Public addresses, also just outside the ranges above.
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"203.0.113.7", false}, {"172.15.255.255", false}, {"172.32.0.1", false},
		{"100.63.255.255", false}, {"100.128.0.1", false}, {"11.0.0.1", false}, {"192.169.0.1", false},
		{"2606:4700:4700::1111", false}, {"2001:db8::1", false}, {"::ffff:8.8.8.8", false}, {"64:ff9b::808:808", false},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := blocked(a); got != tc.blocked {
			t.Errorf("blocked(%s) = %v, want %v", tc.addr, got, tc.blocked)
		}
	}
	if !blocked(netip.Addr{}) {
		t.Error("the zero Addr is not blocked")
	}
}

// The guard runs on the connected address: a request that skips CheckURI
// (as a name that resolves to a local address does) is refused when it
// dials, before anything reaches the server.
func TestDialGuard(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s := New(Options{})
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, uri := range []string{
		srv.URL,                          // 127.0.0.1
		"http://localhost:" + port + "/", // a name, resolved by the system resolver (/etc/hosts)
		"http://10.0.0.1:9/",
		"http://10.200.3.4:9/",
		"http://[::1]:" + port + "/",
	} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, uri, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: connected", uri)
		}
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("%s: %v, want ErrBlockedAddress", uri, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
	// The same server is reachable when private addresses are allowed: the
	// refusals above were the guard's.
	open := New(Options{AllowPrivate: true})
	if err := open.Send(context.Background(), "HTTP:GET", srv.URL, nil); err != nil || hits.Load() != 1 {
		t.Fatalf("with AllowPrivate: %v, %d hits", err, hits.Load())
	}
}

func TestRefuseLocalAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:80", "10.1.2.3:443", "[::1]:80", "[fe80::1%eth0]:80", "not-an-ip:80"} {
		if err := refuseLocal("tcp", addr, nil); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("refuseLocal(%s): %v", addr, err)
		}
	}
	for _, addr := range []string{"93.184.215.14:80", "[2606:4700::1111]:443"} {
		if err := refuseLocal("tcp", addr, nil); err != nil {
			t.Errorf("refuseLocal(%s): %v", addr, err)
		}
	}
}

// countingBody is an endless answer that counts what was read from it.
type countingBody struct {
	read   int64
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	b.read += int64(len(p))
	return len(p), nil
}

func (b *countingBody) Close() error { b.closed = true; return nil }

type fixedTransport struct {
	status int
	body   io.ReadCloser
}

func (f fixedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: f.status, Status: http.StatusText(f.status), Body: f.body, Header: http.Header{}, Request: r}, nil
}

// An endless answer is read up to its budget, then the call ends.
func TestSendReadsAtMostTheBudget(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		body := &countingBody{}
		s := New(Options{AllowPrivate: true})
		s.client.Transport = fixedTransport{status: status, body: body}
		err := s.Send(context.Background(), "HTTP:POST", "https://example.com/hook", []byte(`{}`))
		if (err == nil) != (status == http.StatusOK) {
			t.Fatalf("status %d: %v", status, err)
		}
		if body.read < maxResponseBytes || body.read > maxResponseBytes+32<<10 || !body.closed {
			t.Fatalf("status %d: read %d bytes (budget %d), closed %v", status, body.read, maxResponseBytes, body.closed)
		}
	}
}
