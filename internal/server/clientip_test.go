package server

import (
	"net/http/httptest"
	"testing"
)

// Behind a reverse proxy (http.trustProxyHeaders) the client address is the
// one the proxy appended to X-Forwarded-For, the last entry: whatever comes
// before it was sent by the client and proves nothing. Before, the first
// entry was taken, so any client behind the documented proxy set-up (nginx
// $proxy_add_x_forwarded_for, most load balancers) chose its own address
// with one header and had a fresh bucket of every per-address rate limit
// (newSession, ingestLogs, resizing, sign-in) for each request.
func TestClientAddressBehindAProxyIsTheLastForwardedEntry(t *testing.T) {
	cases := []struct {
		name  string
		trust bool
		xff   []string
		want  string
	}{
		{"no proxy headers trusted", false, []string{"198.51.100.1"}, "192.0.2.10"},
		{"the proxy's entry alone", true, []string{"203.0.113.7"}, "203.0.113.7"},
		{"a client-sent entry before the proxy's", true, []string{"198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{"several client-sent entries", true, []string{"1.1.1.1,2.2.2.2 , 203.0.113.7"}, "203.0.113.7"},
		{"the proxy added a header line of its own", true, []string{"198.51.100.1", "203.0.113.7"}, "203.0.113.7"},
		{"IPv6", true, []string{"2001:db8::1"}, "2001:db8::1"},
		{"a last entry that is not an address", true, []string{"203.0.113.7, junk"}, "192.0.2.10"},
		{"no header", true, nil, "192.0.2.10"},
	}
	for _, c := range cases {
		s := &Server{opts: Options{TrustProxyHeaders: c.trust}}
		r := httptest.NewRequest("GET", "/api/getModels", nil)
		r.RemoteAddr = "192.0.2.10:51234"
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s: client address %q, want %q", c.name, got, c.want)
		}
	}
}
