package fakeoauth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"aimg/internal/testsupport/fakeoauth"
)

// The fakes refuse what the real providers refuse: a wrong client secret,
// a wrong PKCE verifier, another redirect_uri, a code used twice.
func TestFakesCheckTheExchange(t *testing.T) {
	for _, kind := range []fakeoauth.Kind{fakeoauth.GitHub, fakeoauth.Discord} {
		f := fakeoauth.New(t, kind)
		f.SignInAs(fakeoauth.Account{ID: "1", Username: "u", Emails: []fakeoauth.Email{{Email: "u@example.com", Primary: true, Verified: true}}})
		cfg := func(secret, redirect string) *oauth2.Config {
			return &oauth2.Config{ClientID: f.ClientID, ClientSecret: secret, RedirectURL: redirect,
				Endpoint: oauth2.Endpoint{AuthURL: f.AuthURL(), TokenURL: f.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		code := func(verifier string) string {
			t.Helper()
			resp, err := noFollow.Get(cfg(f.ClientSecret, "https://cb.example/cb").AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			u, _ := url.Parse(resp.Header.Get("Location"))
			if u.Query().Get("state") != "st" || u.Query().Get("code") == "" {
				t.Fatalf("authorize answered %d %s", resp.StatusCode, u)
			}
			return u.Query().Get("code")
		}
		ctx := context.Background()
		v := oauth2.GenerateVerifier()
		for name, try := range map[string]func() error{
			"wrong secret": func() error {
				_, err := cfg("nope", "https://cb.example/cb").Exchange(ctx, code(v), oauth2.VerifierOption(v))
				return err
			},
			"wrong verifier": func() error {
				_, err := cfg(f.ClientSecret, "https://cb.example/cb").Exchange(ctx, code(v), oauth2.VerifierOption(oauth2.GenerateVerifier()))
				return err
			},
			"no verifier": func() error {
				_, err := cfg(f.ClientSecret, "https://cb.example/cb").Exchange(ctx, code(v))
				return err
			},
			"other redirect_uri": func() error {
				_, err := cfg(f.ClientSecret, "https://cb.example/other").Exchange(ctx, code(v), oauth2.VerifierOption(v))
				return err
			},
		} {
			if try() == nil {
				t.Errorf("kind %d, %s: the exchange succeeded", kind, name)
			}
		}
		c := code(v)
		if _, err := cfg(f.ClientSecret, "https://cb.example/cb").Exchange(ctx, c, oauth2.VerifierOption(v)); err != nil {
			t.Fatalf("kind %d: a good exchange failed: %v", kind, err)
		}
		if _, err := cfg(f.ClientSecret, "https://cb.example/cb").Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
			t.Errorf("kind %d: a code worked twice", kind)
		}
	}
}
