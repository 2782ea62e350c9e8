package account_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// A web flow's state is taken only by the web callback of the session that
// started it; the API's callback (which would put the session in a URL)
// refuses it, and the web callback refuses an API flow's state.
func TestSiteExternalStateStaysOnItsSurface(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	ctx := context.Background()
	accts := srv.App.Accounts
	caller := func() aimg.Caller {
		return aimg.Caller{ClientIP: "192.0.2.7", Domain: "localhost", Session: &aimg.Session{ID: uuid.NewString()}}
	}
	start := func(c aimg.Caller) string {
		st, err := accts.StartSiteExternal(ctx, c, account.ExternalStart{Provider: "github", Verifier: "v", RedirectURL: "https://evil.example/"})
		if err != nil {
			t.Fatal(err)
		}
		if st.RedirectURL != "" {
			t.Fatalf("a web flow kept a redirect URL: %q", st.RedirectURL)
		}
		return st.State
	}
	wantState := func(what string, err error) {
		t.Helper()
		if e, ok := err.(*aimg.Error); !ok || e.Code != aimg.CodeInvalid || e.Field != "state" {
			t.Fatalf("%s: %v; want 400 naming state", what, err)
		}
	}

	a := caller()
	_, err := accts.TakeExternal(ctx, a, "github", start(a))
	wantState("the API callback with a web flow's state", err)

	state := start(a)
	_, err = accts.TakeSiteExternal(ctx, caller(), "github", state)
	wantState("another session's web callback", err)
	_, err = accts.TakeSiteExternal(ctx, a, "github", state)
	wantState("the state after a refused use (used up)", err)

	state = start(a)
	st, err := accts.TakeSiteExternal(ctx, a, "github", state)
	if err != nil || st.SessionID != a.Session.ID || st.Verifier != "v" {
		t.Fatalf("own web callback: %+v %v", st, err)
	}

	api, err := accts.StartExternal(ctx, a, account.ExternalStart{Provider: "github", Verifier: "v", RedirectURL: srv.App.Config.PublicURL + "/done"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = accts.TakeSiteExternal(ctx, a, "github", api.State)
	wantState("the web callback with an API flow's state", err)
}
