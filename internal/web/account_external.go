package web

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/oauthlogin"
	"aimg/internal/server"
)

// External sign-in from the sign-in and sign-up pages: POST
// /signin/{provider} (a form with the CSRF token) answers 303 to the
// provider; the provider sends the browser back to GET
// /signin/{provider}/callback, which signs the cookie's session in and
// rotates it into the cookie. The state, PKCE verifier and linking are the
// account service's, as for the API's /api/auth/{provider}; unlike the
// API's callback, no URL ever carries the session (docs/decisions.md "Web
// UI: account pages").

// loginButton is one provider's button.
type loginButton struct{ ID, Name string }

// loginButtons are the enabled providers' buttons, in config order.
func loginButtons(logins map[string]oauthlogin.Provider) []loginButton {
	var out []loginButton
	for _, id := range config.OAuthProviders {
		if _, ok := logins[id]; ok {
			out = append(out, loginButton{ID: id, Name: account.ProviderNames[id]})
		}
	}
	return out
}

func (s *Server) externalSignIn(page route) {
	page("POST /signin/{provider}", s.externalStart)
	page("GET /signin/{provider}/callback", s.externalCallback)
}

// webCallbackURI is the redirect URI registered at the provider for the
// web pages (beside the API's /api/auth/{provider}/callback).
func (s *Server) webCallbackURI(provider string) string {
	return s.Config.PublicURL + "/signin/" + provider + "/callback"
}

func (s *Server) loginProvider(name string) (oauthlogin.Provider, error) {
	p, ok := s.Logins[name]
	if !ok {
		return nil, aimg.Errorf(aimg.CodeNotFound, "There is no sign-in with %s on this server", aimg.Quote(name))
	}
	return p, nil
}

func (s *Server) externalStart(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	name := r.PathValue("provider")
	p, err := s.loginProvider(name)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	verifier := oauth2.GenerateVerifier()
	st, err := s.Accounts.StartSiteExternal(r.Context(), c, account.ExternalStart{Provider: name, Verifier: verifier,
		IsAtLeast18Confirmed: r.PostFormValue("isAtLeast18Confirmed") == "on"})
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	loc, err := p.AuthCodeURL(r.Context(), st.State, verifier, s.webCallbackURI(name))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	seeOther(w, r, loc)
}

// externalCallback: every failure is shown on the sign-in page (there is
// no other place to go); success sets the new session's cookie.
func (s *Server) externalCallback(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	name, q := r.PathValue("provider"), r.URL.Query()
	p, err := s.loginProvider(name)
	if err != nil {
		s.signInFailed(w, r, c, err)
		return
	}
	st, err := s.Accounts.TakeSiteExternal(r.Context(), c, name, q.Get("state"))
	if err != nil {
		s.signInFailed(w, r, c, err)
		return
	}
	display := account.ProviderNames[name]
	if e := q.Get("error"); e != "" {
		msg := "The sign-in with " + display + " did not complete (" + aimg.Quote(e) + ")"
		if e == "access_denied" {
			msg = "The sign-in with " + display + " was cancelled"
		}
		s.signInFailed(w, r, c, aimg.Errorf(aimg.CodeUnauthorized, "%s", msg))
		return
	}
	id, err := p.Identify(r.Context(), q.Get("code"), st.Verifier, s.webCallbackURI(name))
	if err != nil {
		s.signInFailed(w, r, c, err)
		return
	}
	self, err := s.Accounts.SignInExternal(r.Context(), st, id)
	if err != nil {
		s.signInFailed(w, r, c, err)
		return
	}
	server.Info(r.Context()).UserID = self.User.ID
	s.setSession(w, r, self.Session.ID)
	seeOther(w, r, "/create")
}

// signInFailed shows err on the sign-in page, at the top.
func (s *Server) signInFailed(w http.ResponseWriter, r *http.Request, c aimg.Caller, err error) {
	status := statusOf(err)
	if status >= 500 {
		s.Logger.ErrorContext(r.Context(), "external sign-in failed", "err", err)
	}
	v := s.newView(r, c, "Sign in", &authForm{})
	v.Error = publicMessage(err)
	s.render(w, r, status, "signin", v)
}

// formTargets are the origins a form on these pages may be redirected to
// (CSP form-action applies to a form's redirects too): the login
// providers' sign-in pages, and Stripe's Checkout and customer portal.
func (s *Server) formTargets() []string {
	o := s.Config.Service.OAuth
	var out []string
	for _, b := range s.logins {
		p, _ := o.Provider(b.ID)
		u := p.AuthURL
		if b.ID == "google" {
			u = p.Issuer // its discovered endpoint is on the issuer's origin
		}
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			out = append(out, pu.Scheme+"://"+pu.Host)
		}
	}
	if s.Config.Service.Payments.Stripe.Enabled() {
		out = append(out, "https://checkout.stripe.com", "https://billing.stripe.com")
	}
	return out
}

// allowFormTargets widens the CSP's form-action to formTargets.
func (s *Server) allowFormTargets(next http.Handler) http.Handler {
	targets := s.formTargets()
	if len(targets) == 0 {
		return next
	}
	csp := strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' "+strings.Join(targets, " "), 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}
