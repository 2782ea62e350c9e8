package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// OAuth is external sign-in (POST /api/auth/{provider}): docs/decisions.md
// "External sign-in". A provider without a client id is disabled. Client
// ids and secrets also come from AIMG_OAUTH_<PROVIDER>_CLIENT_ID and
// AIMG_OAUTH_<PROVIDER>_CLIENT_SECRET, the allow-list from
// AIMG_OAUTH_REDIRECT_URLS (comma-separated).
type OAuth struct {
	StateTTL time.Duration `yaml:"stateTTL"` // how long a started sign-in may take
	// AllowedRedirectURLs are where results may be sent: an entry ending in
	// "/" allows every path under it, any other entry that exact path (the
	// query is free). Empty = only URLs under AIMG_PUBLIC_URL.
	AllowedRedirectURLs []string      `yaml:"allowedRedirectURLs"`
	GitHub              OAuthProvider `yaml:"github"`
	Discord             OAuthProvider `yaml:"discord"`
	Google              OAuthProvider `yaml:"google"`
}

// OAuthProvider is one provider's client and endpoints (overridable for
// tests and self-hosted servers).
type OAuthProvider struct {
	ClientID     string `yaml:"clientID"`
	ClientSecret string `yaml:"clientSecret"`
	AuthURL      string `yaml:"authURL"`  // GitHub, Discord: the authorization endpoint
	TokenURL     string `yaml:"tokenURL"` // GitHub, Discord: the token endpoint
	APIURL       string `yaml:"apiURL"`   // GitHub, Discord: the API base (user, emails)
	Issuer       string `yaml:"issuer"`   // Google: the OpenID Connect issuer (discovery)
}

// Enabled tells whether the provider has a client id.
func (p OAuthProvider) Enabled() bool { return p.ClientID != "" }

// OAuthProviders are the provider names of POST /auth/{loginProvider}.
var OAuthProviders = []string{"google", "discord", "github"}

// Provider returns the named provider's settings.
func (o OAuth) Provider(name string) (OAuthProvider, bool) {
	switch name {
	case "github":
		return o.GitHub, true
	case "discord":
		return o.Discord, true
	case "google":
		return o.Google, true
	}
	return OAuthProvider{}, false
}

func (o *OAuth) provider(name string) *OAuthProvider {
	switch name {
	case "github":
		return &o.GitHub
	case "discord":
		return &o.Discord
	default:
		return &o.Google
	}
}

// fromEnv overlays the secrets and the allow-list from the environment.
func (o *OAuth) fromEnv(getenv func(string) string) {
	for _, name := range OAuthProviders {
		p, up := o.provider(name), strings.ToUpper(name)
		if v := getenv("AIMG_OAUTH_" + up + "_CLIENT_ID"); v != "" {
			p.ClientID = v
		}
		if v := getenv("AIMG_OAUTH_" + up + "_CLIENT_SECRET"); v != "" {
			p.ClientSecret = v
		}
	}
	if v := getenv("AIMG_OAUTH_REDIRECT_URLS"); v != "" {
		o.AllowedRedirectURLs = nil
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				o.AllowedRedirectURLs = append(o.AllowedRedirectURLs, u)
			}
		}
	}
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (o OAuth) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config oauth.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.StateTTL < time.Minute || o.StateTTL > time.Hour {
		bad("stateTTL", "must be between 1m and 1h, got %s", o.StateTTL)
	}
	for i, u := range o.AllowedRedirectURLs {
		if p, err := url.Parse(u); err != nil || !httpURL(u) || p.Fragment != "" || p.RawQuery != "" {
			bad(fmt.Sprintf("allowedRedirectURLs[%d]", i), "%q is not an http(s) URL without query or fragment", u)
		}
	}
	for _, name := range OAuthProviders {
		p, _ := o.Provider(name)
		if !p.Enabled() {
			continue
		}
		if p.ClientSecret == "" {
			bad(name+".clientSecret", "is required with a clientID (or AIMG_OAUTH_%s_CLIENT_SECRET)", strings.ToUpper(name))
		}
		urls := map[string]string{"authURL": p.AuthURL, "tokenURL": p.TokenURL, "apiURL": p.APIURL}
		if name == "google" {
			urls = map[string]string{"issuer": p.Issuer}
		}
		for k, v := range urls {
			if !httpURL(v) {
				bad(name+"."+k, "%q is not an http(s) URL", v)
			}
		}
	}
	return errs
}
