// Package fakeoauth is a GitHub and a Discord OAuth 2.0 server for tests,
// written from their documentation: the authorization endpoint (which
// "signs in" the account the test chose), the token endpoint (checking the
// client id and secret, the single-use code, the redirect_uri and the PKCE
// code_verifier against the S256 challenge) and the user endpoints.
//
// GitHub: GET /login/oauth/authorize, POST /login/oauth/access_token (JSON
// with Accept: application/json, else a form; errors are 200 with error=),
// GET /user, GET /user/emails.
// Discord: GET /oauth2/authorize, POST /api/oauth2/token (client
// credentials in the body or HTTP Basic; errors 400 JSON),
// GET /api/users/@me.
package fakeoauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// Kind is the provider a Server imitates.
type Kind int

const (
	GitHub Kind = iota
	Discord
)

// Email is one of a GitHub account's emails.
type Email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Account is who signs in at the fake.
type Account struct {
	ID       string // numeric for GitHub
	Username string // GitHub login, Discord username
	Emails   []Email
}

// Server is a running fake provider.
type Server struct {
	URL          string
	ClientID     string
	ClientSecret string
	kind         Kind

	mu     sync.Mutex
	next   *Account
	codes  map[string]grant
	tokens map[string]Account
	// Exchanges counts successful code exchanges.
	Exchanges int
}

type grant struct {
	challenge, redirectURI string
	account                Account
}

// New starts a fake on 127.0.0.1.
func New(t testing.TB, kind Kind) *Server {
	s := &Server{ClientID: "client-" + token()[:8], ClientSecret: token(), kind: kind,
		codes: map[string]grant{}, tokens: map[string]Account{}}
	mux := http.NewServeMux()
	if kind == GitHub {
		mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
		mux.HandleFunc("POST /login/oauth/access_token", s.token)
		mux.HandleFunc("GET /user", s.user)
		mux.HandleFunc("GET /user/emails", s.emails)
	} else {
		mux.HandleFunc("GET /oauth2/authorize", s.authorize)
		mux.HandleFunc("POST /api/oauth2/token", s.token)
		mux.HandleFunc("GET /api/users/@me", s.me)
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// AuthURL, TokenURL and APIURL are the endpoints to configure.
func (s *Server) AuthURL() string {
	if s.kind == GitHub {
		return s.URL + "/login/oauth/authorize"
	}
	return s.URL + "/oauth2/authorize"
}
func (s *Server) TokenURL() string {
	if s.kind == GitHub {
		return s.URL + "/login/oauth/access_token"
	}
	return s.URL + "/api/oauth2/token"
}
func (s *Server) APIURL() string {
	if s.kind == GitHub {
		return s.URL
	}
	return s.URL + "/api"
}

// SignInAs sets the account the next authorization signs in.
func (s *Server) SignInAs(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = &a
}

func token() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize plays the user signing in and approving: it answers 302 to
// redirect_uri with code and state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "" || q.Get("state") == "":
		http.Error(w, "redirect_uri and state required", http.StatusBadRequest)
		return
	case s.kind == Discord && q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case s.next == nil:
		http.Error(w, "no account chosen (SignInAs)", http.StatusBadRequest)
		return
	}
	code := token()
	s.codes[code] = grant{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), account: *s.next}
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *Server) tokenError(w http.ResponseWriter, r *http.Request, code, desc string) {
	if s.kind == GitHub { // GitHub answers 200 with the error
		s.write(w, r, http.StatusOK, map[string]string{"error": code, "error_description": desc})
		return
	}
	s.write(w, r, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, v map[string]string) {
	if s.kind == GitHub && r.Header.Get("Accept") != "application/json" {
		form := url.Values{}
		for k, x := range v {
			form.Set(k, x)
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(form.Encode()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != s.ClientID || secret != s.ClientSecret {
		s.tokenError(w, r, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	if s.kind == Discord && r.PostForm.Get("grant_type") != "authorization_code" {
		s.tokenError(w, r, "unsupported_grant_type", "grant_type")
		return
	}
	code := r.PostForm.Get("code")
	g, ok := s.codes[code]
	delete(s.codes, code) // single use
	if !ok {
		s.tokenError(w, r, "bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		s.tokenError(w, r, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		s.tokenError(w, r, "invalid_grant", "The code_verifier does not match the code_challenge.")
		return
	}
	tok := token()
	s.tokens[tok] = g.account
	s.Exchanges++
	resp := map[string]string{"access_token": tok, "token_type": "bearer", "scope": r.PostForm.Get("scope")}
	if s.kind == Discord {
		resp["token_type"], resp["expires_in"], resp["refresh_token"] = "Bearer", "604800", token()
	}
	s.write(w, r, http.StatusOK, resp)
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) (Account, bool) {
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	a, ok := s.tokens[trimBearer(h)]
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials"}`))
	}
	return a, ok
}

func trimBearer(h string) string {
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if len(h) > len(p) && h[:len(p)] == p {
			return h[len(p):]
		}
	}
	return ""
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	a, ok := s.account(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(a.ID, 10, 64)
	var public *string
	for _, e := range a.Emails {
		if e.Primary {
			public = &e.Email
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "login": a.Username, "email": public, "type": "User"})
}

func (s *Server) emails(w http.ResponseWriter, r *http.Request) {
	a, ok := s.account(w, r)
	if !ok {
		return
	}
	list := a.Emails
	if list == nil {
		list = []Email{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	a, ok := s.account(w, r)
	if !ok {
		return
	}
	out := map[string]any{"id": a.ID, "username": a.Username, "discriminator": "0", "verified": false, "email": nil}
	if len(a.Emails) > 0 {
		out["email"], out["verified"] = a.Emails[0].Email, a.Emails[0].Verified
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
