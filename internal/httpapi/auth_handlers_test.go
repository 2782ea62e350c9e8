package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
	"aimg/internal/testsupport/fakeoauth"
)

// oauthAllowed is the redirect allow-list of the external sign-in tests.
const oauthAllowed = "https://app.example/auth/"

// noFollow does not follow redirects: each 302 is looked at.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// oauthServer starts the app with the fakes configured as its GitHub and
// Discord (either may be nil: that provider stays disabled).
func oauthServer(t *testing.T, databaseURL string, gh, dc *fakeoauth.Server, more ...func(*config.Config)) *testsupport.Server {
	t.Helper()
	edits := append([]func(*config.Config){testsupport.WithoutRateLimits, func(c *config.Config) {
		c.Service.OAuth.AllowedRedirectURLs = []string{oauthAllowed}
		for _, p := range []struct {
			f  *fakeoauth.Server
			to *config.OAuthProvider
		}{{gh, &c.Service.OAuth.GitHub}, {dc, &c.Service.OAuth.Discord}} {
			if p.f != nil {
				*p.to = config.OAuthProvider{ClientID: p.f.ClientID, ClientSecret: p.f.ClientSecret,
					AuthURL: p.f.AuthURL(), TokenURL: p.f.TokenURL(), APIURL: p.f.APIURL()}
			}
		}
	}}, more...)
	return testsupport.NewServer(t, databaseURL, edits...)
}

// oauthStart posts /api/auth/{provider} and returns the Location of its 302.
func oauthStart(t *testing.T, srv *testsupport.Server, provider, session string, body map[string]any) string {
	t.Helper()
	resp, raw := oauthDo(t, http.MethodPost, srv.URL+"/api/auth/"+provider, session, body)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("POST /auth/%s: %d %s", provider, resp.StatusCode, raw)
	}
	return resp.Header.Get("Location")
}

func oauthDo(t *testing.T, method, u, session string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.Header.Set("X-Session-ID", session)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// oauthAtProvider follows the provider's authorization page (the fake
// signs the chosen account in) and returns the callback URL it sends the
// browser to, pointed at srv (the config's public URL is another address).
func oauthAtProvider(t *testing.T, srv *testsupport.Server, location string) string {
	t.Helper()
	resp, raw := oauthDo(t, http.MethodGet, location, "", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize: %d %s", resp.StatusCode, raw)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL + cb.RequestURI()
}

// oauthResult gets the callback and decodes the b parameter of the 302 to
// the redirect URL.
func oauthResult(t *testing.T, callback string) *testsupport.Envelope {
	t.Helper()
	resp, raw := oauthDo(t, http.MethodGet, callback, "", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d %s", resp.StatusCode, raw)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, oauthAllowed) {
		t.Fatalf("callback went to %q", loc)
	}
	u, _ := url.Parse(loc)
	b, err := base64.RawURLEncoding.DecodeString(u.Query().Get("b"))
	if err != nil {
		t.Fatalf("b is not Base64URL: %q", loc)
	}
	env := &testsupport.Envelope{Raw: b}
	if err := json.Unmarshal(b, env); err != nil {
		t.Fatalf("b is not an envelope: %s", b)
	}
	env.Status = http.StatusOK
	if env.HasError {
		env.Status = env.ErrorCode
	}
	return env
}

// oauthCallbackError gets the callback and expects an envelope error
// answered directly (no redirect).
func oauthCallbackError(t *testing.T, callback string, status int, want string) {
	t.Helper()
	resp, raw := oauthDo(t, http.MethodGet, callback, "", nil)
	env := &testsupport.Envelope{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, env); err != nil {
		t.Fatalf("callback: %d %q", resp.StatusCode, raw)
	}
	testsupport.ExpectError(t, env, status, want)
}

// oauthSignIn runs a whole flow with the account and returns the result.
func oauthSignIn(t *testing.T, srv *testsupport.Server, fake *fakeoauth.Server, provider, session string,
	a fakeoauth.Account, body map[string]any) *testsupport.Envelope {
	t.Helper()
	fake.SignInAs(a)
	if body == nil {
		body = map[string]any{}
	}
	if body["redirectURL"] == nil {
		body["redirectURL"] = oauthAllowed + "done?x=1"
	}
	return oauthResult(t, oauthAtProvider(t, srv, oauthStart(t, srv, provider, session, body)))
}

func oauthProviders(t *testing.T, srv *testsupport.Server, userID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range acctAdminUser(t, srv, "userID="+userID)["loginProviders"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func hasProvider(list []map[string]any, typ, id, userID string) bool {
	for _, p := range list {
		if p["providerType"] == typ && p["providerId"] == id && (userID == "" || p["userId"] == userID) {
			return true
		}
	}
	return false
}

func TestGitHubSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		gh := fakeoauth.New(t, fakeoauth.GitHub)
		srv := oauthServer(t, dbURL, gh, nil)
		octo := fakeoauth.Account{ID: "1001", Username: "octo_cat", Emails: []fakeoauth.Email{
			{Email: "old@example.com", Verified: true}, {Email: "Octo@Example.com", Primary: true, Verified: true}}}

		// The start: 302 to the provider with state and PKCE S256.
		guest := acctNewSession()
		loc := oauthStart(t, srv, "github", guest, map[string]any{"redirectURL": oauthAllowed + "done"})
		u, _ := url.Parse(loc)
		q := u.Query()
		if !strings.HasPrefix(loc, gh.AuthURL()) || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("client_id") != gh.ClientID ||
			q.Get("redirect_uri") != "http://127.0.0.1:8080/api/auth/github/callback" {
			t.Fatalf("authorize URL %s", loc)
		}

		// A new user: created with the flow's refList, rs and 18+ answer
		// and the GitHub login; the session that started is rotated.
		env := oauthSignIn(t, srv, gh, "github", guest, octo, map[string]any{
			"refList": "https://ref.example, b", "rs": "aff7", "isAtLeast18Confirmed": true})
		testsupport.ExpectOK(t, env)
		self := acctDecode[testsupport.SelfUser](t, env)
		if !self.IsAuthenticated || self.Email != "octo@example.com" || self.Username != "octo_cat" ||
			!self.IsAtLeast18Confirmed || self.SessionID == "" || self.SessionID == guest {
			t.Fatalf("SelfUser %s", env.Raw)
		}
		if !acctIsSignedIn(t, srv, self.SessionID) || acctIsSignedIn(t, srv, guest) {
			t.Fatal("the new session must be signed in and the old one not")
		}
		admin := acctAdminUser(t, srv, "userID="+self.UserID)
		if refs := admin["refList"].([]any); admin["rs"] != "aff7" || len(refs) != 2 || refs[1] != "b" {
			t.Fatalf("refList/rs %v %v", admin["refList"], admin["rs"])
		}
		if lp := oauthProviders(t, srv, self.UserID); len(lp) != 1 || !hasProvider(lp, "oauth", "GitHub", "1001") {
			t.Fatalf("loginProviders %v", lp)
		}

		// Again (another session, the email changed at GitHub): the same
		// user, by the linked GitHub id.
		octo.Emails = []fakeoauth.Email{{Email: "new@example.com", Primary: true, Verified: true}}
		again := acctDecode[testsupport.SelfUser](t, oauthSignIn(t, srv, gh, "github", "", octo, nil))
		if again.UserID != self.UserID || again.SessionID == self.SessionID {
			t.Fatalf("second sign-in: %+v, first %+v", again, self)
		}

		// An existing account is linked by a verified email.
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		env = oauthSignIn(t, srv, gh, "github", bob.SessionID, fakeoauth.Account{ID: "2002", Username: "bobby",
			Emails: []fakeoauth.Email{{Email: "BOB@example.com", Primary: true, Verified: true}}}, nil)
		if got := acctDecode[testsupport.SelfUser](t, env); got.UserID != bob.UserID || got.Username != "" {
			t.Fatalf("linked by email: %s", env.Raw)
		}
		if lp := oauthProviders(t, srv, bob.UserID); !hasProvider(lp, "internal", "Password", "") || !hasProvider(lp, "oauth", "GitHub", "2002") {
			t.Fatalf("bob's loginProviders %v", lp)
		}
		if acctIsSignedIn(t, srv, bob.SessionID) {
			t.Fatal("bob's old session survived the sign-in")
		}

		// An unverified email does not link to the account that has it.
		carol := testsupport.SignUp(t, srv, "carol@example.com")
		s := acctNewSession()
		env = oauthSignIn(t, srv, gh, "github", s, fakeoauth.Account{ID: "3003", Username: "carol",
			Emails: []fakeoauth.Email{{Email: "carol@example.com", Primary: true}}}, nil)
		testsupport.ExpectError(t, env, http.StatusForbidden, "no verified email")
		if lp := oauthProviders(t, srv, carol.UserID); hasProvider(lp, "oauth", "GitHub", "") {
			t.Fatalf("carol got GitHub linked: %v", lp)
		}
		if acctIsSignedIn(t, srv, s) {
			t.Fatal("a refused sign-in signed the session in")
		}
	})
}

func TestExternalSignInState(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		gh := fakeoauth.New(t, fakeoauth.GitHub)
		srv := oauthServer(t, dbURL, gh, nil)
		a := fakeoauth.Account{ID: "77", Username: "s", Emails: []fakeoauth.Email{{Email: "s@example.com", Primary: true, Verified: true}}}
		body := func() map[string]any { return map[string]any{"redirectURL": oauthAllowed} }

		// Used once: a replayed callback is refused and signs nobody in.
		gh.SignInAs(a)
		cb := oauthAtProvider(t, srv, oauthStart(t, srv, "github", "", body()))
		testsupport.ExpectOK(t, oauthResult(t, cb))
		oauthCallbackError(t, cb, http.StatusBadRequest, "state: unknown, already used or expired")

		// Expired after the state TTL (10 minutes).
		cb = oauthAtProvider(t, srv, oauthStart(t, srv, "github", "", body()))
		srv.Clock.Advance(10*time.Minute + time.Second)
		oauthCallbackError(t, cb, http.StatusBadRequest, "state: unknown, already used or expired")

		// No state, junk state, and a GitHub state at another provider's callback.
		oauthCallbackError(t, srv.URL+"/api/auth/github/callback?code=x", http.StatusBadRequest, "state:")
		oauthCallbackError(t, srv.URL+"/api/auth/github/callback?code=x&state=nope", http.StatusBadRequest, "state:")
		cb = oauthAtProvider(t, srv, oauthStart(t, srv, "github", "", body()))
		oauthCallbackError(t, strings.Replace(cb, "/github/", "/discord/", 1), http.StatusBadRequest, "state:")
		testsupport.ExpectOK(t, oauthResult(t, cb)) // the discord try did not use it up

		// A code the provider refuses (and the provider's own error) go
		// back to the redirect URL as error envelopes.
		loc := oauthStart(t, srv, "github", "", body())
		u, _ := url.Parse(loc)
		state := u.Query().Get("state")
		testsupport.ExpectError(t, oauthResult(t, srv.URL+"/api/auth/github/callback?code=bogus&state="+state),
			http.StatusUnauthorized, "GitHub refused the sign-in")
		loc = oauthStart(t, srv, "github", "", body())
		u, _ = url.Parse(loc)
		testsupport.ExpectError(t, oauthResult(t, srv.URL+"/api/auth/github/callback?error=access_denied&state="+u.Query().Get("state")),
			http.StatusUnauthorized, "cancelled")
		if gh.Exchanges != 2 {
			t.Fatalf("exchanges %d, want 2", gh.Exchanges)
		}
	})
}

func TestExternalSignInRedirectAllowList(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		gh := fakeoauth.New(t, fakeoauth.GitHub)
		srv := oauthServer(t, dbURL, gh, nil)
		for _, bad := range []string{"https://evil.example/auth/", "https://app.example.evil.example/auth/",
			"https://app.example/authx", "http://app.example/auth/", "https://app.example/auth/#frag",
			"//app.example/auth/", "javascript:alert(1)", ""} {
			env := srv.Post(t, "/api/auth/github", "", map[string]any{"redirectURL": bad})
			testsupport.ExpectError(t, env, http.StatusBadRequest, "redirectURL")
		}
		// Allowed: under the entry, with a query.
		oauthStart(t, srv, "github", "", map[string]any{"redirectURL": oauthAllowed + "a/b?c=d"})
		// A provider without a client id is disabled.
		testsupport.ExpectError(t, srv.Post(t, "/api/auth/discord", "", map[string]any{"redirectURL": oauthAllowed}),
			http.StatusNotFound, "Sign-in with Discord is not configured")
		testsupport.ExpectError(t, srv.Post(t, "/api/auth/myspace", "", map[string]any{"redirectURL": oauthAllowed}),
			http.StatusBadRequest, "loginProvider")
	})
}

func TestDiscordSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		gh, dc := fakeoauth.New(t, fakeoauth.GitHub), fakeoauth.New(t, fakeoauth.Discord)
		srv := oauthServer(t, dbURL, gh, dc)
		loc := oauthStart(t, srv, "discord", "", map[string]any{"redirectURL": oauthAllowed})
		if q, _ := url.Parse(loc); !strings.HasPrefix(loc, dc.AuthURL()) || q.Query().Get("code_challenge_method") != "S256" ||
			q.Query().Get("response_type") != "code" || !strings.Contains(q.Query().Get("scope"), "email") {
			t.Fatalf("authorize URL %s", loc)
		}

		// A new user from Discord, with its username.
		nova := fakeoauth.Account{ID: "80351110224678912", Username: "nova.7", Emails: []fakeoauth.Email{{Email: "nova@example.com", Verified: true}}}
		env := oauthSignIn(t, srv, dc, "discord", "", nova, nil)
		self := acctDecode[testsupport.SelfUser](t, env)
		if !self.IsAuthenticated || self.Email != "nova@example.com" || self.Username != "nova.7" || self.IsAtLeast18Confirmed {
			t.Fatalf("SelfUser %s", env.Raw)
		}
		// The same email at GitHub (verified) links to the same user: both are listed.
		env = oauthSignIn(t, srv, gh, "github", "", fakeoauth.Account{ID: "5", Username: "nova.7",
			Emails: []fakeoauth.Email{{Email: "nova@example.com", Primary: true, Verified: true}}}, map[string]any{"isAtLeast18Confirmed": true})
		if got := acctDecode[testsupport.SelfUser](t, env); got.UserID != self.UserID || !got.IsAtLeast18Confirmed {
			t.Fatalf("GitHub sign-in of nova: %s", env.Raw)
		}
		lp := oauthProviders(t, srv, self.UserID)
		if len(lp) != 2 || !hasProvider(lp, "oauth", "Discord", nova.ID) || !hasProvider(lp, "oauth", "GitHub", "5") {
			t.Fatalf("loginProviders %v", lp)
		}

		// An unverified Discord email neither creates nor links an account.
		env = oauthSignIn(t, srv, dc, "discord", "", fakeoauth.Account{ID: "9", Username: "x",
			Emails: []fakeoauth.Email{{Email: "unverified@example.com"}}}, nil)
		testsupport.ExpectError(t, env, http.StatusForbidden, "Discord account has no verified email")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getUser?email=unverified@example.com"), http.StatusNotFound, "")
		// A guest's Items move to the account it signs in to.
		guest := acctNewSession()
		generate(t, srv, "/api/generateImage", guest, map[string]any{"prompt": "a fox"})
		env = oauthSignIn(t, srv, dc, "discord", guest, nova, nil)
		if got := acctDecode[map[string]any](t, env); got["userID"] != self.UserID || got["itemCount"] != float64(1) {
			t.Fatalf("after the guest's sign-in: %s", env.Raw)
		}
		// A disabled account is refused (and its sessions end).
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": self.UserID, "abuse": 9}))
		s := acctNewSession()
		testsupport.ExpectError(t, oauthSignIn(t, srv, dc, "discord", s, nova, nil), http.StatusUnauthorized, "disabled")
		if acctIsSignedIn(t, srv, s) {
			t.Fatal("a disabled account signed in")
		}
		// A username that is taken is left empty.
		env = oauthSignIn(t, srv, dc, "discord", "", fakeoauth.Account{ID: "10", Username: "NOVA.7",
			Emails: []fakeoauth.Email{{Email: "other@example.com", Verified: true}}}, nil)
		if got := acctDecode[testsupport.SelfUser](t, env); got.Username != "" || got.UserID == self.UserID {
			t.Fatalf("taken username: %s", env.Raw)
		}
	})
}

// The start and the callback are limited per client address.
func TestExternalSignInRateLimits(t *testing.T) {
	gh := fakeoauth.New(t, fakeoauth.GitHub)
	srv := oauthServer(t, "", gh, nil, func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{
			"authStart:ip":    {Requests: 2, Per: time.Hour, Burst: 2},
			"authCallback:ip": {Requests: 1, Per: time.Hour, Burst: 1},
		}
	})
	body := map[string]any{"redirectURL": oauthAllowed}
	oauthStart(t, srv, "github", "", body)
	oauthStart(t, srv, "github", "", body)
	testsupport.ExpectError(t, srv.Post(t, "/api/auth/github", "", body), http.StatusTooManyRequests, "Too many requests")
	oauthCallbackError(t, srv.URL+"/api/auth/github/callback?state=x", http.StatusBadRequest, "state")
	oauthCallbackError(t, srv.URL+"/api/auth/github/callback?state=x", http.StatusTooManyRequests, "Too many requests")
}

// Google is OpenID Connect: discovery, the code exchange (PKCE checked by
// mockoidc) and the ID token verified against the issuer's keys.
func TestGoogleSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		m, err := mockoidc.Run()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		srv := oauthServer(t, dbURL, nil, nil, func(c *config.Config) {
			c.Service.OAuth.Google = config.OAuthProvider{ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}
		})
		run := func(u *mockoidc.MockUser, session string) *testsupport.Envelope {
			t.Helper()
			m.QueueUser(u)
			loc := oauthStart(t, srv, "google", session, map[string]any{"redirectURL": oauthAllowed, "rs": "g"})
			if q, _ := url.Parse(loc); !strings.HasPrefix(loc, m.AuthorizationEndpoint()) ||
				q.Query().Get("code_challenge_method") != "S256" || !strings.Contains(q.Query().Get("scope"), "openid") {
				t.Fatalf("authorize URL %s", loc)
			}
			return oauthResult(t, oauthAtProvider(t, srv, loc))
		}
		guest := acctNewSession()
		env := run(&mockoidc.MockUser{Subject: "g-1", Email: "gina@example.com", EmailVerified: true, PreferredUsername: "gina"}, guest)
		self := acctDecode[testsupport.SelfUser](t, env)
		if !self.IsAuthenticated || self.Email != "gina@example.com" || self.SessionID == guest {
			t.Fatalf("SelfUser %s", env.Raw)
		}
		if lp := oauthProviders(t, srv, self.UserID); len(lp) != 1 || !hasProvider(lp, "oauth", "Google", "g-1") {
			t.Fatalf("loginProviders %v", lp)
		}
		if again := acctDecode[testsupport.SelfUser](t, run(&mockoidc.MockUser{Subject: "g-1", Email: "changed@example.com"}, "")); again.UserID != self.UserID {
			t.Fatalf("the linked Google subject signed in as %s, want %s", again.UserID, self.UserID)
		}
		// An unverified email does not link to the account that has it.
		hal := testsupport.SignUp(t, srv, "hal@example.com")
		testsupport.ExpectError(t, run(&mockoidc.MockUser{Subject: "g-2", Email: "hal@example.com"}, ""),
			http.StatusForbidden, "Google account has no verified email")
		if lp := oauthProviders(t, srv, hal.UserID); hasProvider(lp, "oauth", "Google", "") {
			t.Fatalf("hal got Google linked: %v", lp)
		}
	})
}

// Junk in every field of both routes, with a provider enabled, answers
// below 500 (the generic junk test sees only the literal {loginProvider}).
func TestExternalSignInJunk(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		gh := fakeoauth.New(t, fakeoauth.GitHub)
		srv := oauthServer(t, dbURL, gh, nil)
		junk := []any{"x", "", -1, 1e300, true, nil, []any{}, map[string]any{}, []any{"x", 1, nil},
			strings.Repeat("a", 100000), oauthAllowed, oauthAllowed + strings.Repeat("é", 3000)}
		qjunk := []string{"", "x", "%00", strings.Repeat("é", 3000), "a,b", "-1"}
		for _, p := range []string{"github", "discord", "google", "x", "GITHUB"} {
			for i, j := range junk {
				body := map[string]any{"redirectURL": j, "refList": junk[(i+1)%len(junk)], "rs": junk[(i+2)%len(junk)],
					"isAtLeast18Confirmed": junk[(i+3)%len(junk)]}
				if resp, raw := oauthDo(t, http.MethodPost, srv.URL+"/api/auth/"+p, "", body); resp.StatusCode >= 500 {
					t.Errorf("POST /auth/%s %v: %d %s", p, body, resp.StatusCode, raw)
				}
			}
			for i, q := range qjunk {
				u := srv.URL + "/api/auth/" + p + "/callback?code=" + url.QueryEscape(q) + "&state=" +
					url.QueryEscape(qjunk[(i+1)%len(qjunk)]) + "&error=" + url.QueryEscape(qjunk[(i+2)%len(qjunk)])
				if resp, raw := oauthDo(t, http.MethodGet, u, "", nil); resp.StatusCode >= 500 {
					t.Errorf("GET %s: %d %s", u, resp.StatusCode, raw)
				}
			}
		}
		// A live state with junk code and error values goes back as an error envelope.
		for _, q := range qjunk {
			loc := oauthStart(t, srv, "github", "", map[string]any{"redirectURL": oauthAllowed})
			lu, _ := url.Parse(loc)
			env := oauthResult(t, srv.URL+"/api/auth/github/callback?code="+url.QueryEscape(q)+"&state="+lu.Query().Get("state"))
			if !env.HasError || env.ErrorCode >= 500 {
				t.Errorf("code %q: %s", q, env.Raw)
			}
		}
	})
}
