package account

import (
	"context"

	"aimg/internal/aimg"
)

// External sign-in from the web pages (docs/decisions.md "Web UI: account
// pages"): the same state, PKCE and linking as the API's flow, but the
// result is the session cookie the web callback sets, never a URL. Such a
// flow is stored without a RedirectURL (siteFlow), which no API flow can
// have (CheckRedirectURL refuses ""): the API's callback refuses its
// state, and the web's refuses an API flow's.

// siteFlow is the RedirectURL of a flow the web pages started.
const siteFlow = ""

// StartSiteExternal records a new web sign-in flow for the caller's
// session; in.RedirectURL is ignored.
func (s *Service) StartSiteExternal(ctx context.Context, c aimg.Caller, in ExternalStart) (*aimg.OAuthState, error) {
	if err := s.allow(ctx, "authStart:ip", c.ClientIP); err != nil {
		return nil, err
	}
	in.RedirectURL = siteFlow
	return s.startFlow(ctx, c, in)
}

// TakeSiteExternal uses up the state of a web flow. The flow must have been
// started by the caller's own session: a callback link from someone else's
// flow (login CSRF) does not sign the caller in as them.
func (s *Service) TakeSiteExternal(ctx context.Context, c aimg.Caller, provider, state string) (*aimg.OAuthState, error) {
	st, err := s.takeFlow(ctx, c, provider, state)
	if err != nil {
		return nil, err
	}
	if st.RedirectURL != siteFlow || c.Session == nil || st.SessionID != c.Session.ID {
		return nil, unknownState()
	}
	return st, nil
}
