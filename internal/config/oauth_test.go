package config

import (
	"strings"
	"testing"
)

// Client ids and secrets come from the environment; a provider without a
// client id is disabled, one without its secret is a config error.
func TestOAuthFromEnv(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range OAuthProviders {
		if p, ok := c.Service.OAuth.Provider(name); !ok || p.Enabled() {
			t.Errorf("%s enabled by default", name)
		}
	}
	c, err = FromEnv(env(map[string]string{"AIMG_OAUTH_GITHUB_CLIENT_ID": "id", "AIMG_OAUTH_GITHUB_CLIENT_SECRET": "s",
		"AIMG_OAUTH_REDIRECT_URLS": "https://a.example/auth/, https://b.example/done"}))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Service.OAuth.Provider("github"); !p.Enabled() || p.ClientSecret != "s" || p.TokenURL == "" {
		t.Fatalf("github %+v", p)
	}
	if l := c.Service.OAuth.AllowedRedirectURLs; len(l) != 2 || l[1] != "https://b.example/done" {
		t.Fatalf("allow-list %v", l)
	}
	for e, want := range map[string]string{
		"AIMG_OAUTH_DISCORD_CLIENT_ID": "oauth.discord.clientSecret",
		"AIMG_OAUTH_REDIRECT_URLS":     "oauth.allowedRedirectURLs[0]",
	} {
		if _, err := FromEnv(env(map[string]string{e: "x"})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=x: %v, want an error naming %s", e, err, want)
		}
	}
}
