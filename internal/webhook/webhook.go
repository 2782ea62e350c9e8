// Package webhook calls the webhooks that Nextcloud task clients give
// (webhookUri, webhookMethod) when their task ends. The URI comes from the
// client, so the sender is guarded against server-side request forgery:
// it refuses to connect to loopback, private and other local addresses,
// checked on the address actually connected to, after DNS resolution
// (docs/decisions.md "Task webhooks (issue 10)").
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"aimg/internal/aimg"
)

// Budgets (docs/security.md "Task webhooks").
const (
	DefaultTimeout = 10 * time.Second
	// MaxURIBytes is the longest webhookUri accepted.
	MaxURIBytes = 2000
	// maxResponseBytes is how much of an answer is read (and discarded)
	// before the connection is closed.
	maxResponseBytes = 64 << 10
	// maxHeaderBytes bounds the answer's status line and headers.
	maxHeaderBytes = 16 << 10
)

// ErrBlockedAddress is wrapped by Send's error when the webhook's host
// resolved to an address the guard refuses; trying again will not help.
var ErrBlockedAddress = errors.New("the webhook's address is loopback, private or otherwise local")

// Options configure a Sender.
type Options struct {
	// Timeout bounds one delivery: connecting, sending, reading the answer.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// AllowPrivate lets webhooks reach loopback and private addresses (tests,
	// and deployments whose Nextcloud apps run on the same network).
	AllowPrivate bool
	// UserAgent is sent with each call; empty means "AIMG-Webhook".
	UserAgent string
}

// Sender delivers webhooks. It is safe for concurrent use and keeps no
// connections open between calls.
type Sender struct {
	client       *http.Client
	allowPrivate bool
	userAgent    string
}

// New returns a Sender with o's settings.
func New(o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "AIMG-Webhook"
	}
	dialer := &net.Dialer{Timeout: o.Timeout}
	if !o.AllowPrivate {
		dialer.Control = refuseLocal
	}
	transport := &http.Transport{
		// No proxy from the environment: through a proxy the dialed address
		// would be the proxy's, and the guard would check the wrong one.
		Proxy:       nil,
		DialContext: dialer.DialContext,
		// One call per task end, to many different hosts: pooling would
		// gain little and leave idle connections (and their goroutines).
		DisableKeepAlives:      true,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		ForceAttemptHTTP2:      true,
	}
	return &Sender{
		client: &http.Client{
			Transport: transport,
			Timeout:   o.Timeout,
			// A redirect is not followed: it could point anywhere, and
			// Nextcloud apps have no reason to send one. The 3xx answer
			// itself is then a failed delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		allowPrivate: o.AllowPrivate,
		userAgent:    o.UserAgent,
	}
}

// httpMethod maps Nextcloud's webhookMethod to the HTTP method.
func httpMethod(webhookMethod string) (string, bool) {
	switch webhookMethod {
	case "HTTP:GET":
		return http.MethodGet, true
	case "HTTP:POST":
		return http.MethodPost, true
	case "HTTP:PUT":
		return http.MethodPut, true
	case "HTTP:DELETE":
		return http.MethodDelete, true
	}
	return "", false
}

// Send calls uri with method (HTTP:GET, HTTP:POST, HTTP:PUT or
// HTTP:DELETE). POST and PUT carry body as application/json; GET and
// DELETE carry no body. An answer in 2xx is a delivery; anything else,
// including a redirect, is an error.
func (s *Sender) Send(ctx context.Context, method, uri string, body []byte) error {
	if err := CheckURI(uri, method, s.allowPrivate); err != nil {
		return err
	}
	m, _ := httpMethod(method)
	var reqBody io.Reader
	if m == http.MethodPost || m == http.MethodPut {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, m, uri, reqBody)
	if err != nil {
		return err
	}
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", s.userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The answer means nothing to AIMG; reading a bounded part of it lets
	// the server finish writing before the connection closes. A 2xx status
	// is the delivery, even if the rest of the answer never arrives.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s %s answered %s", m, redact(uri), resp.Status)
	}
	return nil
}

// redact drops the query of uri for messages: it may carry the client's
// secret token.
func redact(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		return uri[:i]
	}
	return uri
}

// CheckURI tells whether uri and method can be a task's webhook: method
// one of HTTP:GET, HTTP:POST, HTTP:PUT, HTTP:DELETE; uri an absolute http
// or https URL with a host, without user info, at most MaxURIBytes long.
// Unless allowPrivate, a host that is a local name or address literal
// (localhost, 127.0.0.1, 10.1.2.3, [::1]) is refused here already; names
// that resolve to one are refused when Send connects. The error is an
// *aimg.Error of code invalid naming webhookUri or webhookMethod.
func CheckURI(uri, method string, allowPrivate bool) error {
	if _, ok := httpMethod(method); !ok {
		return aimg.Invalid("webhookMethod", "must be one of HTTP:GET, HTTP:POST, HTTP:PUT, HTTP:DELETE")
	}
	if len(uri) > MaxURIBytes {
		return aimg.Invalid("webhookUri", "must be at most %d bytes", MaxURIBytes)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return aimg.Invalid("webhookUri", "is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return aimg.Invalid("webhookUri", "must be an http or https URL")
	}
	if u.User != nil {
		return aimg.Invalid("webhookUri", "must not contain a user name or password")
	}
	host := u.Hostname()
	if host == "" || u.Opaque != "" {
		return aimg.Invalid("webhookUri", "must name a host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return aimg.Invalid("webhookUri", "has an invalid port")
		}
	}
	if !allowPrivate && localHost(host) {
		return aimg.Invalid("webhookUri", "must not point at a loopback, private or local address")
	}
	return nil
}

// localHost tells whether host, as written in a URL, is a local name or
// an address the guard refuses.
func localHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true // RFC 6761: always loopback
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return blocked(a)
	}
	return false
}

// refuseLocal is the dialer's Control: address is the IP it is about to
// connect to, after DNS resolution, so a name that resolves to a local
// address (or is re-bound to one between checks) is refused too.
func refuseLocal(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrBlockedAddress, address)
	}
	if blocked(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
	}
	return nil
}

// Address ranges that are neither loopback, private, link-local, multicast
// nor unspecified to netip, yet are not on the public internet.
var localPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"; Linux connects 0.x to the local host
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and 255.255.255.255 broadcast
}

// nat64 is the well-known NAT64 prefix (RFC 6052): such an address reaches
// the IPv4 address in its last 32 bits, which is what must be checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// blocked tells whether the guard refuses to connect to a.
func blocked(a netip.Addr) bool {
	a = a.WithZone("").Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range localPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
