package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// googleServer starts the app with mockoidc as its Google.
func googleServer(t *testing.T) (*testsupport.Server, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	srv := newServer(t, func(c *config.Config) {
		c.Service.OAuth.Google = config.OAuthProvider{ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}
	})
	return srv, m
}

// hops records every answer of a browser's trip, one request at a time.
type hops struct {
	t         *testing.T
	v         *visitor
	locations []string
}

func (h *hops) do(method, u string, form url.Values) *http.Response {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.v.noFollow().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	h.locations = append(h.locations, u, resp.Header.Get("Location"))
	return resp
}

// startGoogle presses "Continue with Google" and signs in at mockoidc; it
// returns the callback URL the provider sends the browser to, on srv.
func (h *hops) startGoogle(srv *testsupport.Server, m *mockoidc.MockOIDC) string {
	h.t.Helper()
	resp := h.do(http.MethodPost, srv.URL+"/signin/google", url.Values{"csrf": {h.v.csrf}, "isAtLeast18Confirmed": {"on"}})
	loc := resp.Header.Get("Location")
	u, _ := url.Parse(loc)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, m.AuthorizationEndpoint()) ||
		u.Query().Get("redirect_uri") != "http://127.0.0.1:8080/signin/google/callback" || u.Query().Get("code_challenge_method") != "S256" {
		h.t.Fatalf("start: %d to %q", resp.StatusCode, loc)
	}
	resp = h.do(http.MethodGet, loc, nil)
	cb, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || cb.Path != "/signin/google/callback" {
		h.t.Fatalf("provider: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return srv.URL + cb.RequestURI() // the config's public URL is another address
}

// The web's external sign-in ends with the session in the cookie: no
// Location and no URL of the trip carries a session id.
func TestExternalSignInSetsTheCookie(t *testing.T) {
	srv, m := googleServer(t)
	v := newVisitor(t, srv)
	for _, path := range []string{"/signup", "/signin"} {
		p := v.get(path)
		if !strings.Contains(p.Body, `action="/signin/google"`) || !strings.Contains(p.Body, "Continue with Google") {
			t.Fatalf("%s has no Google button: %s", path, p.Body)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+m.Addr()) {
			t.Fatalf("%s: the CSP does not let the form go to the provider: %s", path, csp)
		}
	}
	if p := v.post("/signin/google", url.Values{"csrf": {"nope"}}); p.Status != http.StatusForbidden {
		t.Fatalf("start without the token: %d", p.Status)
	}
	if p := v.post("/signin/github", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("a provider that is not configured: %d", p.Status)
	}

	before := v.session()
	m.QueueUser(&mockoidc.MockUser{Subject: "g-1", Email: "gina@example.com", EmailVerified: true, PreferredUsername: "gina"})
	h := &hops{t: t, v: v}
	resp := h.do(http.MethodGet, h.startGoogle(srv, m), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/create" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	after := v.session()
	if after == "" || after == before {
		t.Fatalf("session not rotated: %q -> %q", before, after)
	}
	for _, l := range h.locations {
		if strings.Contains(l, before) || strings.Contains(l, after) || strings.Contains(l, "b=") {
			t.Fatalf("a URL of the trip carries the session: %s", l)
		}
	}
	self := testsupport.Self(t, srv, after)
	if !self.IsAuthenticated || self.Email != "gina@example.com" || !self.IsAtLeast18Confirmed {
		t.Fatalf("signed in as %+v", self)
	}
	if p := v.get("/account"); !strings.Contains(p.Body, "Linked sign-in: Google") {
		t.Fatalf("account page: %s", p.Body)
	}
}

// A callback is used only by the browser that started its flow, and only
// on the web: someone else's callback link (login CSRF), the API's
// callback, and a cancelled sign-in all fail without signing in.
func TestExternalSignInRefusals(t *testing.T) {
	srv, m := googleServer(t)
	attacker := newVisitor(t, srv)
	attacker.get("/signin")
	m.QueueUser(&mockoidc.MockUser{Subject: "evil", Email: "evil@example.com", EmailVerified: true})
	callback := (&hops{t: t, v: attacker}).startGoogle(srv, m)

	victim := newVisitor(t, srv)
	victim.get("/signin")
	p := victim.get(strings.TrimPrefix(callback, srv.URL))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "state: unknown") || strings.Contains(p.Body, `id="signout"`) {
		t.Fatalf("someone else's callback: %d %s", p.Status, p.Body)
	}

	v := newVisitor(t, srv)
	v.get("/signin")
	m.QueueUser(&mockoidc.MockUser{Subject: "g-2", Email: "hal@example.com", EmailVerified: true})
	h := &hops{t: t, v: v}
	api := strings.Replace(h.startGoogle(srv, m), "/signin/google/callback", "/api/auth/google/callback", 1)
	resp := h.do(http.MethodGet, api, nil)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("the API's callback with a web flow: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	cb, _ := url.Parse(h.startGoogle(srv, m))
	p = v.get("/signin/google/callback?error=access_denied&state=" + url.QueryEscape(cb.Query().Get("state")))
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "The sign-in with Google was cancelled") {
		t.Fatalf("cancelled at the provider: %d %s", p.Status, p.Body)
	}
	if countSignedIn(v) || countSignedIn(victim) {
		t.Fatal("a refused callback signed in")
	}
}
