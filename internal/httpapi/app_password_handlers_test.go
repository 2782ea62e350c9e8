package httpapi_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

type appPasswordListed struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"createdAt"`
	LastUsedAt *string `json:"lastUsedAt"`
}

type appPasswordCreated struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Password  string `json:"password"`
	CreatedAt string `json:"createdAt"`
}

func createAppPassword(t *testing.T, srv *testsupport.Server, session, name string) appPasswordCreated {
	t.Helper()
	return acctDecode[appPasswordCreated](t, srv.Post(t, "/api/createAppPassword", session, map[string]any{"name": name}))
}

func listAppPasswords(t *testing.T, srv *testsupport.Server, session string) []appPasswordListed {
	t.Helper()
	env := srv.Get(t, "/api/getAppPasswords", session)
	if strings.Contains(string(env.Raw), "password\"") {
		t.Fatalf("the listing shows a secret: %s", env.Raw)
	}
	return acctDecode[[]appPasswordListed](t, env)
}

func basic(srv *testsupport.Server, login, secret string) (*aimg.User, error) {
	return srv.App.Accounts.AuthenticateBasic(context.Background(), aimg.Caller{ClientIP: "192.0.2.1", Domain: "localhost"}, login, secret)
}

func TestAppPasswordEndpoints(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	a := testsupport.SignUp(t, srv, "apppass-a@example.com")
	b := testsupport.SignUp(t, srv, "apppass-b@example.com")

	created := createAppPassword(t, srv, a.SessionID, "  Nextcloud on my phone ")
	if created.ID == "" || created.Name != "Nextcloud on my phone" || created.CreatedAt == "" ||
		!regexp.MustCompile(`^[A-Za-z0-9]{72}$`).MatchString(created.Password) {
		t.Fatalf("created: %+v", created)
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/createAppPassword", a.SessionID, map[string]any{"name": " "}), 400, "name")
	testsupport.ExpectError(t, srv.Post(t, "/api/createAppPassword", a.SessionID, map[string]any{"name": strings.Repeat("n", 101)}), 400, "name")
	testsupport.ExpectError(t, srv.Post(t, "/api/createAppPassword", a.SessionID, map[string]any{"name": "two\nlines"}), 400, "name")

	list := listAppPasswords(t, srv, a.SessionID)
	if len(list) != 1 || list[0].ID != created.ID || list[0].Name != created.Name || list[0].LastUsedAt != nil {
		t.Fatalf("a's list: %+v", list)
	}
	if u, err := basic(srv, a.Email, created.Password); err != nil || u.ID != a.UserID {
		t.Fatalf("Basic with the app password: %v", err)
	}
	if list := listAppPasswords(t, srv, a.SessionID); list[0].LastUsedAt == nil {
		t.Fatalf("lastUsedAt after a use: %+v", list)
	}

	// b sees none of a's and cannot revoke them.
	if list := listAppPasswords(t, srv, b.SessionID); len(list) != 0 {
		t.Fatalf("b's list: %+v", list)
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/revokeAppPassword", b.SessionID, map[string]any{"id": created.ID}), 404, "App password not found")
	if _, err := basic(srv, a.Email, created.Password); err != nil {
		t.Fatalf("after b's revoke attempt: %v", err)
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/revokeAppPassword", a.SessionID, map[string]any{}), 400, "id")

	env := srv.Post(t, "/api/revokeAppPassword", a.SessionID, map[string]any{"id": created.ID})
	if got := acctDecode[map[string]any](t, env); got["success"] != true {
		t.Fatalf("revoke: %s", env.Raw)
	}
	if _, err := basic(srv, a.Email, created.Password); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
		t.Fatalf("Basic with a revoked app password: %v, want 401", err)
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/revokeAppPassword", a.SessionID, map[string]any{"id": created.ID}), 404, "App password not found")
	if list := listAppPasswords(t, srv, a.SessionID); len(list) != 0 {
		t.Fatalf("after revoking: %+v", list)
	}

	// At most account.MaxAppPasswordsPerUser per user.
	for i := range account.MaxAppPasswordsPerUser {
		createAppPassword(t, srv, b.SessionID, fmt.Sprint("device ", i))
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/createAppPassword", b.SessionID, map[string]any{"name": "one more"}), 400, "at most")
	if list := listAppPasswords(t, srv, b.SessionID); len(list) != account.MaxAppPasswordsPerUser {
		t.Fatalf("%d listed, want %d", len(list), account.MaxAppPasswordsPerUser)
	}
}

// A new password, deleting the account and disabling it (abuse level 9)
// each end the user's app passwords: they fail, and stay failed when the
// account is enabled again.
func TestAppPasswordsEndWithTheAccountsAccess(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)

	t.Run("new password", func(t *testing.T) {
		a := testsupport.SignUp(t, srv, "apppass-newpw@example.com")
		p := createAppPassword(t, srv, a.SessionID, "laptop")
		if _, err := basic(srv, a.Email, a.Password); err != nil { // remembered now
			t.Fatal(err)
		}
		testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProperties", a.SessionID, map[string]any{"password": "Brand-New-Passw0rd!"}))
		if _, err := basic(srv, a.Email, p.Password); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("app password after a password change: %v, want 401", err)
		}
		if _, err := basic(srv, a.Email, a.Password); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("old password after a password change: %v, want 401", err)
		}
		if list := listAppPasswords(t, srv, a.SessionID); len(list) != 0 {
			t.Fatalf("listed after a password change: %+v", list)
		}
	})

	t.Run("deleted account", func(t *testing.T) {
		a := testsupport.SignUp(t, srv, "apppass-deleted@example.com")
		p := createAppPassword(t, srv, a.SessionID, "laptop")
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser", a.SessionID, ""))
		for _, secret := range []string{p.Password, a.Password} {
			if u, err := basic(srv, a.Email, secret); aimg.ErrorCode(err) != aimg.CodeUnauthorized || u != nil {
				t.Fatalf("Basic for a deleted account: %v, want 401", err)
			}
		}
	})

	t.Run("disabled account", func(t *testing.T) {
		a := testsupport.SignUp(t, srv, "apppass-disabled@example.com")
		p := createAppPassword(t, srv, a.SessionID, "laptop")
		if _, err := basic(srv, a.Email, a.Password); err != nil { // remembered now
			t.Fatal(err)
		}
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 9}))
		for _, secret := range []string{p.Password, a.Password} {
			if u, err := basic(srv, a.Email, secret); aimg.ErrorCode(err) != aimg.CodeUnauthorized || u != nil {
				t.Fatalf("Basic for a disabled account: %v, want 401", err)
			}
		}
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 0}))
		if _, err := basic(srv, a.Email, p.Password); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("app password after the account is enabled again: %v, want 401 (ended)", err)
		}
		if _, err := basic(srv, a.Email, a.Password); err != nil {
			t.Fatalf("the password after the account is enabled again: %v", err)
		}
	})
}
