package account_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

func basicCaller(ip string) aimg.Caller { return aimg.Caller{ClientIP: ip, Domain: "localhost"} }

// signedInCaller is the Caller of a's session, as the HTTP layer makes it.
func signedInCaller(t *testing.T, srv *testsupport.Server, a testsupport.Account) aimg.Caller {
	t.Helper()
	sess, u, err := srv.App.Accounts.ResolveSession(context.Background(), "localhost", a.SessionID)
	if err != nil || u == nil {
		t.Fatalf("resolve %s: %v", a.Email, err)
	}
	return aimg.Caller{Session: sess, User: u, ClientIP: "192.0.2.9", Domain: "localhost"}
}

func newAppPassword(t *testing.T, srv *testsupport.Server, a testsupport.Account) (*aimg.AppPassword, string) {
	t.Helper()
	p, secret, err := srv.App.Accounts.CreateAppPassword(context.Background(), signedInCaller(t, srv, a), "phone")
	if err != nil {
		t.Fatal(err)
	}
	return p, secret
}

func expectWrongBasic(t *testing.T, what string, u *aimg.User, err error) {
	t.Helper()
	if u != nil {
		t.Fatalf("%s: signed in as %s; want 401 \"Wrong login or password\"", what, u.ID)
	}
	if aimg.ErrorCode(err) != aimg.CodeUnauthorized || err.Error() != "Wrong login or password" {
		t.Fatalf("%s: %v; want 401 \"Wrong login or password\"", what, err)
	}
}

func TestAuthenticateBasic(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	ctx := context.Background()
	accts := srv.App.Accounts
	alice := testsupport.SignUp(t, srv, "Alice@Basic.example")
	bob := testsupport.SignUp(t, srv, "bob@basic.example")
	username := "alice_b"
	if _, err := accts.SetSelfProperties(ctx, signedInCaller(t, srv, alice), account.Properties{Username: &username}); err != nil {
		t.Fatal(err)
	}
	_, secret := newAppPassword(t, srv, alice)
	if !regexp.MustCompile(`^[A-Za-z0-9]{72}$`).MatchString(secret) {
		t.Fatalf("app password %q: want 72 letters and digits (Nextcloud's shape)", secret)
	}
	c := basicCaller("192.0.2.1")
	for _, tc := range []struct{ what, login, secret string }{
		{"email and password", alice.Email, alice.Password},
		{"email in another case, with spaces", "  ALICE@basic.EXAMPLE ", alice.Password},
		{"username and password", username, alice.Password},
		{"username in another case", "ALICE_B", alice.Password},
		{"email and app password", alice.Email, secret},
		{"username and app password", username, secret},
	} {
		u, err := accts.AuthenticateBasic(ctx, c, tc.login, tc.secret)
		if err != nil || u.ID != alice.UserID {
			t.Fatalf("%s: %v, %v; want alice", tc.what, u, err)
		}
	}
	changed := secret[:71] + "x" // the last character changed, also when it was an x
	if secret[71] == 'x' {
		changed = secret[:71] + "y"
	}
	for _, tc := range []struct{ what, login, secret string }{
		{"wrong password", alice.Email, "Wrong-Passw0rd!"},
		{"unknown email", "nobody@basic.example", alice.Password},
		{"unknown username", "nobody", alice.Password},
		{"malformed login", "not an email@", alice.Password},
		{"empty login", "", alice.Password},
		{"empty secret", alice.Email, ""},
		{"alice's app password with bob's login", bob.Email, secret},
		{"a changed app password", alice.Email, changed},
		{"a huge secret", alice.Email, string(make([]byte, 10000))},
		{"another domain", alice.Email, alice.Password},
	} {
		c := c
		if tc.what == "another domain" {
			c.Domain = "elsewhere"
		}
		u, err := accts.AuthenticateBasic(ctx, c, tc.login, tc.secret)
		expectWrongBasic(t, tc.what, u, err)
	}

	// A guest record has no login: an anonymous session with one cannot
	// sign in, whatever it sends.
	guest := testsupport.Self(t, srv, "")
	u, err := accts.AuthenticateBasic(ctx, c, guest.UserID, "")
	expectWrongBasic(t, "guest", u, err)
}

// Throttling counts failures: any number of correct logins pass; after the
// burst of failures from one address, that address is refused (429) even
// with correct credentials, and other addresses are not.
func TestAuthenticateBasicThrottlesFailuresPerAddress(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits["createUser:ip"] = ratelimit.Rule{Requests: 100, Per: time.Hour}
		c.Service.RateLimits["authenticateBasic:ip"] = ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 3}
		c.Service.RateLimits["authenticateBasic:login"] = ratelimit.Rule{Requests: 100, Per: time.Hour}
	})
	ctx := context.Background()
	accts := srv.App.Accounts
	a := testsupport.SignUp(t, srv, "polling@basic.example")
	_, secret := newAppPassword(t, srv, a)
	attacker, client := basicCaller("198.51.100.7"), basicCaller("203.0.113.5")
	for i := range 20 {
		for _, s := range []string{a.Password, secret} {
			if _, err := accts.AuthenticateBasic(ctx, client, a.Email, s); err != nil {
				t.Fatalf("correct login %d: %v (successes must not be counted)", i, err)
			}
		}
	}
	for i := range 3 {
		u, err := accts.AuthenticateBasic(ctx, attacker, "victim@basic.example", "Guess-Numb3r!"+string(rune('a'+i)))
		expectWrongBasic(t, "a guess", u, err)
	}
	for _, s := range []string{a.Password, secret} {
		if _, err := accts.AuthenticateBasic(ctx, attacker, a.Email, s); aimg.ErrorCode(err) != aimg.CodeRateLimited {
			t.Fatalf("from the address after 3 failures: %v, want 429", err)
		}
	}
	if _, err := accts.AuthenticateBasic(ctx, client, a.Email, a.Password); err != nil {
		t.Fatalf("another address: %v", err)
	}
	srv.Clock.Advance(time.Hour)
	if _, err := accts.AuthenticateBasic(ctx, attacker, a.Email, secret); err != nil {
		t.Fatalf("an hour later (one token back): %v", err)
	}
}

// After the burst of failures on one login (from any addresses), that
// login's account password is not checked any more (429), but its app
// passwords and a password verified in the last minutes still work: a
// guesser cannot lock out the user's clients.
func TestAuthenticateBasicThrottlesFailuresPerLogin(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits["authenticateBasic:ip"] = ratelimit.Rule{Requests: 100, Per: time.Hour}
		c.Service.RateLimits["authenticateBasic:login"] = ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 2}
	})
	ctx := context.Background()
	accts := srv.App.Accounts
	a := testsupport.SignUp(t, srv, "target@basic.example")
	_, secret := newAppPassword(t, srv, a)
	client := basicCaller("203.0.113.5")
	if _, err := accts.AuthenticateBasic(ctx, client, a.Email, a.Password); err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		u, err := accts.AuthenticateBasic(ctx, basicCaller(ip), "TARGET@basic.example", "Guess-Numb3r!"+string(rune('a'+i)))
		expectWrongBasic(t, "a guess", u, err)
	}
	if _, err := accts.AuthenticateBasic(ctx, basicCaller("198.51.100.3"), a.Email, "Guess-Numb3r!z"); aimg.ErrorCode(err) != aimg.CodeRateLimited {
		t.Fatalf("a third guess on the login: %v, want 429", err)
	}
	if _, err := accts.AuthenticateBasic(ctx, client, a.Email, secret); err != nil {
		t.Fatalf("the app password while the login is throttled: %v", err)
	}
	if _, err := accts.AuthenticateBasic(ctx, client, a.Email, a.Password); err != nil {
		t.Fatalf("the recently verified password while the login is throttled: %v", err)
	}
	srv.Clock.Advance(account.BasicCacheTTL)
	if _, err := accts.AuthenticateBasic(ctx, client, a.Email, a.Password); aimg.ErrorCode(err) != aimg.CodeRateLimited {
		t.Fatalf("the password once its verification is forgotten: %v, want 429", err)
	}
}

// A verified password is remembered for a few minutes, so a client sending
// it with every request does not cost an argon2id hash each time; a new
// password ends what was remembered (on every replica: entries hold the
// password hash they were verified against).
func TestAuthenticateBasicRemembersAVerifiedPassword(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	ctx := context.Background()
	accts := srv.App.Accounts
	a := testsupport.SignUp(t, srv, "cached@basic.example")
	c := basicCaller("192.0.2.1")
	if _, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password); err != nil {
		t.Fatal(err)
	}
	release := account.TakeHashTurns(accts)
	for range 5 {
		if _, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password); err != nil {
			t.Fatalf("with no hashing turn free, a remembered password: %v", err)
		}
	}
	// Only the exact secret is remembered: anything else is hashed (here: 503).
	if _, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password+"x"); aimg.ErrorCode(err) != aimg.CodeUnavailable {
		t.Fatalf("another secret with no hashing turn free: %v, want 503 (it must be hashed)", err)
	}
	srv.Clock.Advance(account.BasicCacheTTL)
	if _, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password); aimg.ErrorCode(err) != aimg.CodeUnavailable {
		t.Fatalf("after the TTL with no hashing turn free: %v, want 503 (hashed again)", err)
	}
	release()

	if _, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password); err != nil {
		t.Fatal(err)
	}
	newPassword := "Another-Passw0rd!"
	if _, err := accts.SetSelfProperties(ctx, signedInCaller(t, srv, a), account.Properties{Password: &newPassword}); err != nil {
		t.Fatal(err)
	}
	u, err := accts.AuthenticateBasic(ctx, c, a.Email, a.Password)
	expectWrongBasic(t, "the old password after a change", u, err)
	if _, err := accts.AuthenticateBasic(ctx, c, a.Email, newPassword); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

// last_used_at follows use to the minute: written on first use, then at
// most once a minute.
func TestAppPasswordLastUsed(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	ctx := context.Background()
	accts := srv.App.Accounts
	a := testsupport.SignUp(t, srv, "lastused@basic.example")
	_, secret := newAppPassword(t, srv, a)
	lastUsed := func() *time.Time {
		t.Helper()
		list, err := accts.AppPasswords(ctx, signedInCaller(t, srv, a))
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v, %v", list, err)
		}
		return list[0].LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("used before any use")
	}
	use := func() {
		t.Helper()
		if _, err := accts.AuthenticateBasic(ctx, basicCaller("192.0.2.1"), a.Email, secret); err != nil {
			t.Fatal(err)
		}
	}
	first := srv.Clock.Now()
	use()
	if got := lastUsed(); got == nil || !got.Equal(first.Truncate(time.Millisecond)) {
		t.Fatalf("after the first use: %v, want %v", got, first)
	}
	srv.Clock.Advance(30 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(first.Truncate(time.Millisecond)) {
		t.Fatalf("30 s later: %v, want still %v", got, first)
	}
	srv.Clock.Advance(31 * time.Second)
	use()
	if got := lastUsed(); !got.Equal(srv.Clock.Now().Truncate(time.Millisecond)) {
		t.Fatalf("over a minute later: %v, want %v", got, srv.Clock.Now())
	}
}
