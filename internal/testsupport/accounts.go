package testsupport

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/mail"
)

// TestPassword satisfies the password rule; SignUp gives it to every account.
const TestPassword = "Test-Passw0rd!"

// Account is a signed-in test user.
type Account struct {
	SessionID string
	UserID    string
	Email     string
	Password  string
}

// SelfUser is the subset of the SelfUser payload tests read.
type SelfUser struct {
	SessionID            string  `json:"sessionID"`
	UserID               string  `json:"userID"`
	Email                string  `json:"email"`
	Username             string  `json:"username"`
	IsAuthenticated      bool    `json:"isAuthenticated"`
	IsAtLeast18Confirmed bool    `json:"isAtLeast18Confirmed"`
	ProfilePicture       *string `json:"profilePicture"`
}

// SignUp registers email with TestPassword through createUser and returns
// the signed-in account. It takes one token of the "createUser:ip" limit
// (burst 10 by default): tests that create more users pass
// WithoutRateLimits to NewServer.
func SignUp(t testing.TB, s *Server, email string) Account {
	t.Helper()
	return signUp(t, s, map[string]any{"email": email, "password": TestPassword})
}

// WithoutRateLimits is a NewServer edit that removes every rate limit.
func WithoutRateLimits(c *config.Config) { c.Service.RateLimits = nil }

func signUp(t testing.TB, s *Server, body map[string]any) Account {
	t.Helper()
	email, _ := body["email"].(string)
	env := s.Post(t, "/api/createUser", uuid.NewString(), body)
	ExpectOK(t, env)
	var u SelfUser
	env.Decode(t, &u)
	if !u.IsAuthenticated || u.SessionID == "" || u.UserID == "" {
		t.Fatalf("sign up %s: %s", email, env.Raw)
	}
	return Account{SessionID: u.SessionID, UserID: u.UserID, Email: strings.ToLower(email), Password: TestPassword}
}

// SignIn authenticates with a password on a fresh session and returns the
// new (rotated) session id.
func SignIn(t testing.TB, s *Server, email, password string) string {
	t.Helper()
	env := s.Post(t, "/api/authenticateUser", uuid.NewString(), map[string]any{"email": email, "password": password})
	ExpectOK(t, env)
	var u SelfUser
	env.Decode(t, &u)
	if !u.IsAuthenticated {
		t.Fatalf("sign in %s: %s", email, env.Raw)
	}
	return u.SessionID
}

// RequestOTP calls requestOTP for email and returns the code from the email
// it sent (read from the magic link, which also checks the link's format).
func RequestOTP(t testing.TB, s *Server, email string, signUp bool) string {
	t.Helper()
	before := s.Outbox(t)
	ExpectOK(t, s.Post(t, "/api/requestOTP", "", map[string]any{"email": email, "signUp": signUp}))
	for _, m := range s.Outbox(t) {
		if strings.EqualFold(m.To, email) || strings.Contains(strings.ToLower(m.To), "<"+strings.ToLower(email)+">") {
			if !slices.ContainsFunc(before, func(b mail.Message) bool { return b.Text == m.Text }) {
				link := MagicLink(t, m)
				return link.OTP
			}
		}
	}
	t.Fatalf("requestOTP %s: no new email in the outbox", email)
	return ""
}

// MagicLinkPayload is the decoded ?b= parameter of a magic link.
type MagicLinkPayload struct {
	URL   *url.URL
	Email string `json:"email"`
	OTP   string `json:"otp"`
}

var linkRE = regexp.MustCompile(`https?://\S+[?&]b=[A-Za-z0-9_-]+`)

// MagicLink finds the magic link in m and decodes it (base64url, RFC 4648
// URL alphabet, no padding).
func MagicLink(t testing.TB, m mail.Message) MagicLinkPayload {
	t.Helper()
	raw := linkRE.FindString(m.Text)
	if raw == "" {
		t.Fatalf("no magic link in %q", m.Text)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawURLEncoding.DecodeString(u.Query().Get("b"))
	if err != nil {
		t.Fatalf("magic link b=%q: %v", u.Query().Get("b"), err)
	}
	p := MagicLinkPayload{URL: u}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("magic link JSON %s: %v", b, err)
	}
	if !strings.Contains(m.Text, p.OTP) || len(p.OTP) != 6 {
		t.Fatalf("magic link otp %q not in the text", p.OTP)
	}
	return p
}

// Self returns getSelfUser for session, failing unless it answers 200.
func Self(t testing.TB, s *Server, session string) SelfUser {
	t.Helper()
	env := s.Get(t, "/api/getSelfUser", session)
	ExpectOK(t, env)
	var u SelfUser
	env.Decode(t, &u)
	return u
}

// AdminPost and AdminGet send a request with the admin key.
func (s *Server) AdminPost(t testing.TB, path string, body any) *Envelope {
	t.Helper()
	return s.Do(t, Req{Method: http.MethodPost, Path: path, Body: body, AdminKey: AdminKey})
}

func (s *Server) AdminGet(t testing.TB, path string) *Envelope {
	t.Helper()
	return s.Do(t, Req{Method: http.MethodGet, Path: path, AdminKey: AdminKey})
}
