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

	// An anonymous session is stored to carry the mark.
	a, b := anonymous("192.0.2.1"), anonymous("192.0.2.1")
	if err := accts.EnterAdminKey(ctx, a, testsupport.AdminKey); err != nil {
		t.Fatal(err)
	}
	if !isAdmin(a) || isAdmin(b) {
		t.Fatalf("marks: a %v, b %v", isAdmin(a), isAdmin(b))
	}
	for range 2 {
		if err := accts.EnterAdminKey(ctx, b, testsupport.AdminKey+"x"); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("wrong key: %v", err)
		}
	}
	if isAdmin(b) {
		t.Fatal("a wrong key marked the session")
	}
	if err := accts.EnterAdminKey(ctx, b, testsupport.AdminKey); aimg.ErrorCode(err) != aimg.CodeRateLimited {
		t.Fatalf("the right key after the address used its tries: %v", err)
	}
	// Another address still may; the right key takes no token.
	c := anonymous("192.0.2.2")
	for range 3 {
		if err := accts.EnterAdminKey(ctx, c, testsupport.AdminKey); err != nil {
			t.Fatal(err)
		}
	}
	if err := accts.EnterAdminKey(ctx, anonymous("192.0.2.3"), ""); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
		t.Fatalf("no key: %v", err)
	}

	if err := accts.EndAdminSession(ctx, a.Session.ID); err != nil || isAdmin(a) {
		t.Fatalf("after the admin sign-out: %v %v", err, isAdmin(a))
	}
	if _, err := accts.SignOut(ctx, c.Session.ID); err != nil || isAdmin(c) {
		t.Fatalf("after signing out of the session: %v %v", err, isAdmin(c))
	}
	// The mark expires.
	d := anonymous("192.0.2.2")
	if err := accts.EnterAdminKey(ctx, d, testsupport.AdminKey); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(12 * time.Hour)
	if isAdmin(d) {
		t.Fatal("the mark outlived its 12 hours")
	}
}
