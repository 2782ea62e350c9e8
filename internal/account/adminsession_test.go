package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// The admin key marks the session it is entered on, and nothing else; a
// wrong key takes a token of "adminKey:ip", and an empty bucket refuses
// even the right key; the mark goes with the session.
func TestEnterAdminKey(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{"adminKey:ip": {Requests: 1, Per: time.Hour, Burst: 2}}
	})
	ctx := context.Background()
	accts := srv.App.Accounts
	anonymous := func(ip string) aimg.Caller {
		sess, _, err := accts.ResolveSession(ctx, "localhost", uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		return aimg.Caller{Session: sess, ClientIP: ip, Domain: "localhost"}
	}
	isAdmin := func(c aimg.Caller) bool {
		t.Helper()
		ok, err := accts.IsAdminSession(ctx, c.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// An anonymous session is stored to carry the mark, under a new id.
	enter := func(c aimg.Caller) aimg.Caller {
		t.Helper()
		next, err := accts.EnterAdminKey(ctx, c, testsupport.AdminKey)
		if err != nil {
			t.Fatal(err)
		}
		if next.ID == c.Session.ID || isAdmin(c) {
			t.Fatal("the session id did not rotate")
		}
		c.Session = next
		return c
	}
	a, b := enter(anonymous("192.0.2.1")), anonymous("192.0.2.1")
	if !isAdmin(a) || isAdmin(b) {
		t.Fatalf("marks: a %v, b %v", isAdmin(a), isAdmin(b))
	}
	// A signed-in account keeps its user.
	acct := testsupport.SignUp(t, srv, "admin@marks.example")
	sess, u, err := accts.ResolveSession(ctx, "localhost", acct.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	signed := enter(aimg.Caller{Session: sess, User: u, ClientIP: "192.0.2.1", Domain: "localhost"})
	if again, user, err := accts.ResolveSession(ctx, "localhost", signed.Session.ID); err != nil || user == nil || user.ID != u.ID || !again.Authenticated {
		t.Fatalf("the marked session of an account: %+v %+v %v", again, user, err)
	}
	for range 2 {
		if _, err := accts.EnterAdminKey(ctx, b, testsupport.AdminKey+"x"); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("wrong key: %v", err)
		}
	}
	if isAdmin(b) {
		t.Fatal("a wrong key marked the session")
	}
	if _, err := accts.EnterAdminKey(ctx, b, testsupport.AdminKey); aimg.ErrorCode(err) != aimg.CodeRateLimited {
		t.Fatalf("the right key after the address used its tries: %v", err)
	}
	// Another address still may; the right key takes no token.
	c := anonymous("192.0.2.2")
	for range 3 {
		c = enter(c)
	}
	if _, err := accts.EnterAdminKey(ctx, anonymous("192.0.2.3"), ""); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
		t.Fatalf("no key: %v", err)
	}

	if err := accts.EndAdminSession(ctx, a.Session.ID); err != nil || isAdmin(a) {
		t.Fatalf("after the admin sign-out: %v %v", err, isAdmin(a))
	}
	if _, err := accts.SignOut(ctx, c.Session.ID); err != nil || isAdmin(c) {
		t.Fatalf("after signing out of the session: %v %v", err, isAdmin(c))
	}
	// The mark expires.
	d := enter(anonymous("192.0.2.2"))
	srv.Clock.Advance(12 * time.Hour)
	if isAdmin(d) {
		t.Fatal("the mark outlived its 12 hours")
	}
	if _, _, err := accts.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
}
