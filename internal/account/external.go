package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// External sign-in (POST /auth/{provider}): the HTTP side speaks OAuth to
// the provider; this side keeps the flow's state, checks where the result
// may go, and creates, links and signs in the user. docs/decisions.md
// "External sign-in".

// ExternalStart is the input of StartExternal.
type ExternalStart struct {
	Provider             string
	Verifier             string // the PKCE code verifier, made by the caller
	RedirectURL          string
	RefList              []string
	RS                   string
	IsAtLeast18Confirmed bool
}

// ExternalIdentity is what a provider said about the user who signed in.
type ExternalIdentity struct {
	Provider       string // github, discord, google
	ProviderUserID string
	Email          string
	EmailVerified  bool
	Username       string // where the provider has one
}

// ProviderNames are the display names of the providers (LoginProvider.providerId).
var ProviderNames = map[string]string{"github": "GitHub", "discord": "Discord", "google": "Google"}

// CheckRedirectURL says whether raw is allowed as a redirectURL: an
// absolute http(s) URL without a fragment under one of the configured
// entries (publicURL when there are none).
func CheckRedirectURL(raw string, allowed []string, publicURL string) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Fragment != "" || len(raw) > 2048 {
		return aimg.Invalid("redirectURL", "must be an absolute http(s) URL without a fragment, got %s", aimg.Quote(raw))
	}
	if len(allowed) == 0 {
		allowed = []string{publicURL + "/"}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err != nil || !strings.EqualFold(au.Scheme, u.Scheme) || !strings.EqualFold(au.Host, u.Host) {
			continue
		}
		ap := au.EscapedPath()
		if ap == "" {
			ap = "/"
		}
		if path == ap || (strings.HasSuffix(ap, "/") && strings.HasPrefix(path, ap)) {
			return nil
		}
	}
	return aimg.Invalid("redirectURL", "%s is not an allowed redirect URL (config oauth.allowedRedirectURLs)", aimg.Quote(raw))
}

// StartExternal records a new sign-in flow for the caller's session and
// returns its state (the random value the provider hands back).
func (s *Service) StartExternal(ctx context.Context, c aimg.Caller, in ExternalStart) (*aimg.OAuthState, error) {
	if err := s.allow(ctx, "authStart:ip", c.ClientIP); err != nil {
		return nil, err
	}
	if err := CheckRedirectURL(in.RedirectURL, s.cfg.Service.OAuth.AllowedRedirectURLs, s.cfg.PublicURL); err != nil {
		return nil, err
	}
	return s.startFlow(ctx, c, in)
}

// startFlow stores the state of a flow whose start was allowed.
func (s *Service) startFlow(ctx context.Context, c aimg.Caller, in ExternalStart) (*aimg.OAuthState, error) {
	refList, err := cleanRefList(in.RefList)
	if err != nil {
		return nil, err
	}
	if len(in.RS) > maxRSBytes {
		return nil, aimg.Invalid("rs", "must be at most %d bytes", maxRSBytes)
	}
	if c.Session == nil {
		return nil, aimg.ErrUnauthenticated
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	now := s.now()
	st := &aimg.OAuthState{
		State: base64.RawURLEncoding.EncodeToString(raw), Provider: in.Provider, Verifier: in.Verifier,
		SessionID: c.Session.ID, Domain: c.Domain, RedirectURL: in.RedirectURL,
		RefList: refList, RS: in.RS, IsAtLeast18Confirmed: in.IsAtLeast18Confirmed,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.Service.OAuth.StateTTL),
	}
	if err := s.store.PutOAuthState(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// TakeExternal uses up the state a provider's callback carries: unknown,
// used, expired or another provider's states are a 400 naming state.
func (s *Service) TakeExternal(ctx context.Context, c aimg.Caller, provider, state string) (*aimg.OAuthState, error) {
	st, err := s.takeFlow(ctx, c, provider, state)
	if err == nil && st.RedirectURL == siteFlow {
		// Started on the web pages: its result is a cookie, never a URL.
		return nil, unknownState()
	}
	return st, err
}

// takeFlow uses up a flow's state, whichever surface started it.
func (s *Service) takeFlow(ctx context.Context, c aimg.Caller, provider, state string) (*aimg.OAuthState, error) {
	if err := s.allow(ctx, "authCallback:ip", c.ClientIP); err != nil {
		return nil, err
	}
	if state == "" || len(state) > 128 {
		return nil, aimg.Invalid("state", "missing or malformed; start the sign-in again")
	}
	st, err := s.store.TakeOAuthState(ctx, provider, state, s.now())
	if aimg.IsNotFound(err) {
		return nil, unknownState()
	}
	return st, err
}

func unknownState() error {
	return aimg.Invalid("state", "unknown, already used or expired; start the sign-in again")
}

// SignInExternal signs the flow's session in as the user the provider
// vouched for: the user already linked to that external account, else the
// user with its email (linked now, only if the provider verified the
// email), else a new user (with the flow's refList, rs and 18+ answer, and
// the provider's username when it is valid and free). Signing in rotates
// the session that started the flow, as every sign-in does.
func (s *Service) SignInExternal(ctx context.Context, st *aimg.OAuthState, id ExternalIdentity) (*Self, error) {
	name := ProviderNames[id.Provider]
	c := aimg.Caller{Domain: st.Domain}
	if sess, u, err := s.ResolveSession(ctx, st.Domain, st.SessionID); err == nil {
		c.Session, c.User = sess, u
	} else if aimg.ErrorCode(err) == aimg.CodeUnauthorized {
		c.Session = anonymousSession(st.SessionID, s.now())
	} else {
		return nil, err
	}
	if id.ProviderUserID == "" {
		return nil, aimg.Errorf(aimg.CodeUnavailable, "%s did not say who signed in", name)
	}
	now := s.now()
	u, err := s.store.IdentityUser(ctx, st.Domain, id.Provider, id.ProviderUserID)
	switch {
	case err == nil:
	case !aimg.IsNotFound(err):
		return nil, err
	default:
		if !id.EmailVerified || id.Email == "" {
			return nil, aimg.Errorf(aimg.CodeForbidden,
				"Your %s account has no verified email; verify it at %s, or sign in another way", name, name)
		}
		email, err := NormalizeEmail("email", id.Email)
		if err != nil {
			return nil, aimg.Errorf(aimg.CodeForbidden, "%s gave an email this service cannot use", name)
		}
		u, err = s.store.UserByEmail(ctx, st.Domain, email)
		if aimg.IsNotFound(err) {
			if u, err = s.createExternalUser(ctx, st, id, email); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		if err := s.store.LinkIdentity(ctx, aimg.UserIdentity{Domain: st.Domain, Provider: id.Provider,
			ProviderUserID: id.ProviderUserID, UserID: u.ID, Email: email, CreatedAt: now}); err != nil {
			return nil, err
		}
	}
	if u.Disabled() {
		if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return nil, err
		}
		return nil, aimg.Errorf(aimg.CodeUnauthorized, "This account is disabled")
	}
	if st.IsAtLeast18Confirmed && !u.IsAtLeast18Confirmed {
		u.IsAtLeast18Confirmed, u.UpdatedAt = true, now
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return nil, err
		}
	}
	s.log.InfoContext(ctx, "external sign-in", "user", u.ID, "provider", id.Provider)
	return s.signIn(ctx, c, u)
}

func (s *Service) createExternalUser(ctx context.Context, st *aimg.OAuthState, id ExternalIdentity, email string) (*aimg.User, error) {
	now := s.now()
	u := &aimg.User{
		ID: uuid.NewString(), Domain: st.Domain, Email: email, Roles: []string{aimg.RoleUser},
		IsAtLeast18Confirmed: st.IsAtLeast18Confirmed, RefList: st.RefList, RS: st.RS, CreatedAt: now, UpdatedAt: now,
	}
	if id.Username != "" && CheckUsername(id.Username) == nil {
		if _, err := s.store.UserByUsername(ctx, st.Domain, id.Username); aimg.IsNotFound(err) {
			u.Username = id.Username
		}
	}
	err := s.store.CreateUser(ctx, u)
	if e, ok := err.(*aimg.Error); ok && e.Field == "username" {
		u.Username = "" // taken meanwhile: the user picks one later
		err = s.store.CreateUser(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created by external sign-in", "user", u.ID, "domain", u.Domain, "provider", id.Provider)
	return u, nil
}

// Identities lists the external accounts linked to the user.
func (s *Service) Identities(ctx context.Context, userID string) ([]aimg.UserIdentity, error) {
	return s.store.UserIdentities(ctx, userID)
}
