// Package oauthlogin speaks OAuth 2.0 (authorization code with PKCE S256)
// to the external sign-in providers, GitHub, Discord and Google (OpenID
// Connect), and reports who signed in. The flow's state, linking and the
// session are the account service's; the HTTP routes are httpapi's.
package oauthlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/config"
)

// maxAPIBytes bounds one provider API response read.
const maxAPIBytes = 1 << 20

// Timeout bounds each call to a provider.
const Timeout = 15 * time.Second

// Provider is one configured login provider.
type Provider interface {
	// AuthCodeURL is where the browser goes to sign in; it carries state
	// and the S256 challenge of verifier.
	AuthCodeURL(ctx context.Context, state, verifier, redirectURI string) (string, error)
	// Identify exchanges the code (with the PKCE verifier) and asks the
	// provider who signed in.
	Identify(ctx context.Context, code, verifier, redirectURI string) (account.ExternalIdentity, error)
}

// FromConfig builds the enabled providers (those with a client id); client
// makes every call (nil: one with Timeout).
func FromConfig(o config.OAuth, client *http.Client) map[string]Provider {
	if client == nil {
		client = &http.Client{Timeout: Timeout}
	}
	out := map[string]Provider{}
	for _, name := range config.OAuthProviders {
		p, _ := o.Provider(name)
		if !p.Enabled() {
			continue
		}
		base := base{name: name, display: account.ProviderNames[name], cfg: p, client: client}
		switch name {
		case "github":
			out[name] = &github{base}
		case "discord":
			out[name] = &discord{base}
		case "google":
			out[name] = &google{base: base}
		}
	}
	return out
}

type base struct {
	name, display string
	cfg           config.OAuthProvider
	client        *http.Client
}

func (b *base) oauth(ep oauth2.Endpoint, redirectURI string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: b.cfg.ClientID, ClientSecret: b.cfg.ClientSecret, Endpoint: ep,
		RedirectURL: redirectURI, Scopes: scopes}
}

func (b *base) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, b.client)
}

// exchange trades the code for a token; a refused code is a 401, a
// provider that does not answer a 503.
func (b *base) exchange(ctx context.Context, oc *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	if code == "" || len(code) > 2048 {
		return nil, aimg.Invalid("code", "missing or malformed")
	}
	tok, err := oc.Exchange(b.ctx(ctx), code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
		return nil, &aimg.Error{Code: aimg.CodeUnauthorized, Err: err,
			Message: fmt.Sprintf("%s refused the sign-in (the code is invalid or expired); try again", b.display)}
	case err != nil:
		return nil, b.unavailable(err)
	}
	return tok, nil
}

func (b *base) unavailable(err error) error {
	return &aimg.Error{Code: aimg.CodeUnavailable, Err: err,
		Message: fmt.Sprintf("%s did not answer as expected; try again later", b.display)}
}

// getJSON reads an API resource with the token into v.
func (b *base) getJSON(ctx context.Context, tok *oauth2.Token, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return b.unavailable(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "aimg")
	resp, err := b.client.Do(req)
	if err != nil {
		return b.unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return b.unavailable(fmt.Errorf("GET %s: %s", url, resp.Status))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBytes)).Decode(v); err != nil {
		return b.unavailable(fmt.Errorf("GET %s: %w", url, err))
	}
	return nil
}

func api(base, path string) string { return strings.TrimRight(base, "/") + path }

// github: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
type github struct{ base }

func (g *github) config(redirectURI string) *oauth2.Config {
	return g.oauth(oauth2.Endpoint{AuthURL: g.cfg.AuthURL, TokenURL: g.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		redirectURI, "read:user", "user:email")
}

func (g *github) AuthCodeURL(_ context.Context, state, verifier, redirectURI string) (string, error) {
	return g.config(redirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

func (g *github) Identify(ctx context.Context, code, verifier, redirectURI string) (account.ExternalIdentity, error) {
	id := account.ExternalIdentity{Provider: g.name}
	tok, err := g.exchange(ctx, g.config(redirectURI), code, verifier)
	if err != nil {
		return id, err
	}
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if err := g.getJSON(ctx, tok, api(g.cfg.APIURL, "/user"), &user); err != nil {
		return id, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := g.getJSON(ctx, tok, api(g.cfg.APIURL, "/user/emails"), &emails); err != nil {
		return id, err
	}
	if user.ID == 0 {
		return id, g.unavailable(errors.New("GET /user: no id"))
	}
	id.ProviderUserID, id.Username = fmt.Sprint(user.ID), user.Login
	// The primary email when it is verified, else any verified one; an
	// unverified primary is reported as such (it links nothing).
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = e.Email, e.Verified
		}
	}
	if !id.EmailVerified {
		for _, e := range emails {
			if e.Verified {
				id.Email, id.EmailVerified = e.Email, true
				break
			}
		}
	}
	return id, nil
}

// discord: https://discord.com/developers/docs/topics/oauth2
type discord struct{ base }

func (d *discord) config(redirectURI string) *oauth2.Config {
	return d.oauth(oauth2.Endpoint{AuthURL: d.cfg.AuthURL, TokenURL: d.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		redirectURI, "identify", "email")
}

func (d *discord) AuthCodeURL(_ context.Context, state, verifier, redirectURI string) (string, error) {
	return d.config(redirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

func (d *discord) Identify(ctx context.Context, code, verifier, redirectURI string) (account.ExternalIdentity, error) {
	id := account.ExternalIdentity{Provider: d.name}
	tok, err := d.exchange(ctx, d.config(redirectURI), code, verifier)
	if err != nil {
		return id, err
	}
	var me struct {
		ID       string  `json:"id"`
		Username string  `json:"username"`
		Email    *string `json:"email"`
		Verified bool    `json:"verified"`
	}
	if err := d.getJSON(ctx, tok, api(d.cfg.APIURL, "/users/@me"), &me); err != nil {
		return id, err
	}
	id.ProviderUserID, id.Username, id.EmailVerified = me.ID, me.Username, me.Verified
	if me.Email != nil {
		id.Email = *me.Email
	}
	return id, nil
}

// google: OpenID Connect with discovery; the ID token is verified
// (signature by the issuer's keys, issuer, audience, expiry).
type google struct {
	base
	mu       sync.Mutex
	provider *oidc.Provider
}

// oidcProvider discovers the issuer once (retried after a failure).
func (g *google) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.provider != nil {
		return g.provider, nil
	}
	// The provider keeps the context for fetching keys later: not the request's.
	p, err := oidc.NewProvider(context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, g.client), g.cfg.Issuer)
	if err != nil {
		return nil, g.unavailable(err)
	}
	g.provider = p
	return p, nil
}

func (g *google) config(ctx context.Context, redirectURI string) (*oauth2.Config, *oidc.Provider, error) {
	p, err := g.oidcProvider(ctx)
	if err != nil {
		return nil, nil, err
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams // Google takes either; one style, no guessing
	return g.oauth(ep, redirectURI, oidc.ScopeOpenID, "email", "profile"), p, nil
}

func (g *google) AuthCodeURL(ctx context.Context, state, verifier, redirectURI string) (string, error) {
	oc, _, err := g.config(ctx, redirectURI)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

func (g *google) Identify(ctx context.Context, code, verifier, redirectURI string) (account.ExternalIdentity, error) {
	id := account.ExternalIdentity{Provider: g.name}
	oc, p, err := g.config(ctx, redirectURI)
	if err != nil {
		return id, err
	}
	tok, err := g.exchange(ctx, oc, code, verifier)
	if err != nil {
		return id, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return id, g.unavailable(errors.New("no id_token in the token response"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: g.cfg.ClientID}).Verify(g.ctx(ctx), raw)
	if err != nil {
		return id, &aimg.Error{Code: aimg.CodeUnauthorized, Err: err, Message: "Google's ID token did not verify; try again"}
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"` // a boolean, or "true" from some issuers
	}
	if err := idt.Claims(&claims); err != nil {
		return id, g.unavailable(err)
	}
	id.ProviderUserID, id.Email = idt.Subject, claims.Email
	id.EmailVerified = claims.EmailVerified == true || claims.EmailVerified == "true"
	return id, nil
}
