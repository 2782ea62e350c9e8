package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/oauth2"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/oauthlogin"
	"aimg/internal/server"
)

// External sign-in (spec "External Login Providers"; docs/decisions.md
// "External sign-in"): POST /auth/{provider} answers 302 to the provider;
// the provider sends the browser back to GET /auth/{provider}/callback,
// which answers 302 to the flow's redirectURL with ?b=<Base64URL of the
// SelfUser envelope> (or of an error envelope).

type authStartInput struct {
	Auth
	Provider string `path:"loginProvider" enum:"google,discord,github" doc:"The OAuth 2.0 login provider."`
	Body     struct {
		RedirectURL          string     `json:"redirectURL" required:"true" doc:"Where the result goes (?b=...); it must be on the server's allow-list."`
		RefList              StringList `json:"refList,omitempty" doc:"Browser referrers (comma-separated), kept on a new User."`
		RS                   string     `json:"rs,omitempty" doc:"An affiliate referrer, kept on a new User."`
		IsAtLeast18Confirmed bool       `json:"isAtLeast18Confirmed,omitempty"`
	}
}

type authCallbackInput struct {
	Provider         string `path:"loginProvider" enum:"google,discord,github"`
	Code             string `query:"code" doc:"The provider's authorization code."`
	State            string `query:"state" doc:"The state of POST /auth/{loginProvider}."`
	Error            string `query:"error" doc:"Set by the provider when the sign-in did not happen."`
	ErrorDescription string `query:"error_description"`
}

// redirectOutput is a 302 with no body.
type redirectOutput struct {
	Status       int
	Location     string `header:"Location"`
	CacheControl string `header:"Cache-Control"`
}

func redirect(location string) *redirectOutput {
	return &redirectOutput{Status: http.StatusFound, Location: location, CacheControl: "no-store"}
}

const authStartDoc = "Answers 302 to the provider's sign-in page (with state and a PKCE S256 challenge). After the sign-in the " +
	"provider returns to GET /api/auth/{loginProvider}/callback, which answers 302 to redirectURL with the query parameter b: " +
	"the Base64URL (no padding) of the JSON envelope whose payload is the SelfUser (a new sessionID: the session that started " +
	"the sign-in is rotated), or an error envelope. A provider the server has no client id for is a 404; a redirectURL " +
	"outside the allow-list (config oauth.allowedRedirectURLs) a 400."

// callbackURI is the redirect URI registered at the provider.
func (s *Server) callbackURI(provider string) string {
	return s.Config.PublicURL + "/api/auth/" + provider + "/callback"
}

func (s *Server) provider(name string) (oauthlogin.Provider, error) {
	p, ok := s.Logins[name]
	if !ok {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Sign-in with %s is not configured on this server", account.ProviderNames[name])
	}
	return p, nil
}

func (s *Server) authStart(ctx context.Context, c aimg.Caller, in *authStartInput) (*redirectOutput, error) {
	p, err := s.provider(in.Provider)
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	b := in.Body
	st, err := s.Accounts.StartExternal(ctx, c, account.ExternalStart{
		Provider: in.Provider, Verifier: verifier, RedirectURL: b.RedirectURL,
		RefList: b.RefList, RS: b.RS, IsAtLeast18Confirmed: b.IsAtLeast18Confirmed,
	})
	if err != nil {
		return nil, err
	}
	loc, err := p.AuthCodeURL(ctx, st.State, verifier, s.callbackURI(in.Provider))
	if err != nil {
		return nil, err
	}
	return redirect(loc), nil
}

// authCallback: a bad state is answered here (400: there is no trusted
// place to send it); anything after the state was taken goes to the
// flow's redirectURL as an error envelope.
func (s *Server) authCallback(ctx context.Context, c aimg.Caller, in *authCallbackInput) (*redirectOutput, error) {
	st, err := s.Accounts.TakeExternal(ctx, c, in.Provider, in.State)
	if err != nil {
		return nil, err
	}
	name := account.ProviderNames[in.Provider]
	back := func(body any) (*redirectOutput, error) {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, aimg.Internal(err)
		}
		sep := "?"
		if strings.Contains(st.RedirectURL, "?") {
			sep = "&"
		}
		return redirect(st.RedirectURL + sep + "b=" + base64.RawURLEncoding.EncodeToString(raw)), nil
	}
	fail := func(err error) (*redirectOutput, error) {
		return back(errorBodyFor(ctx, http.StatusInternalServerError, "", err))
	}
	if in.Error != "" {
		msg := "The sign-in with " + name + " did not complete (" + aimg.Quote(in.Error) + ")"
		if in.Error == "access_denied" {
			msg = "The sign-in with " + name + " was cancelled"
		}
		return back(newErrorBody(http.StatusUnauthorized, msg))
	}
	p, err := s.provider(in.Provider)
	if err != nil {
		return fail(err)
	}
	id, err := p.Identify(ctx, in.Code, st.Verifier, s.callbackURI(in.Provider))
	if err != nil {
		return fail(err)
	}
	self, err := s.Accounts.SignInExternal(ctx, st, id)
	if err != nil {
		return fail(err)
	}
	server.Info(ctx).UserID = self.User.ID
	out, err := s.selfReply(ctx, self, false)
	if err != nil {
		return fail(err)
	}
	return back(out.Body)
}

// at mounts an operation at a path other than /api/<name>.
func at(path string) opOption {
	return func(_ *Server, op *huma.Operation) { op.Path = path }
}

// found documents a 302 answer (Location) instead of an envelope.
func found(_ *Server, op *huma.Operation) {
	op.DefaultStatus = http.StatusFound
}
