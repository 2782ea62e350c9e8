package account_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/testsupport"
)

func TestPurgeExpiredRemovesOnlyExpiredSessionsAndOTPs(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		ctx := context.Background()
		old := srv.Get(t, "/api/getSelfUser", "") // an anonymous session
		testsupport.ExpectOK(t, old)
		testsupport.RequestOTP(t, srv, "purge@example.com", true)

		srv.Clock.Advance(srv.App.Config.Service.Accounts.SessionTTL / 2)
		fresh := srv.Get(t, "/api/getSelfUser", "")
		var s struct{ SessionID string }
		fresh.Decode(t, &s)

		// Half the session TTL is past the OTP's 24 h: only the OTP goes.
		if n, m, err := srv.App.Accounts.PurgeExpired(ctx); err != nil || n != 0 || m != 1 {
			t.Fatalf("purged %d sessions, %d OTPs, %v; want 0 and 1", n, m, err)
		}
		srv.Clock.Advance(srv.App.Config.Service.Accounts.SessionTTL/2 + time.Minute)
		if n, m, err := srv.App.Accounts.PurgeExpired(ctx); err != nil || n != 1 || m != 0 {
			t.Fatalf("purged %d sessions, %d OTPs, %v; want 1 and 0", n, m, err)
		}
		// The session that had not expired still works.
		again := srv.Get(t, "/api/getSelfUser", s.SessionID)
		var s2 struct{ SessionID string }
		again.Decode(t, &s2)
		if s2.SessionID != s.SessionID {
			t.Fatalf("live session replaced: %s -> %s", s.SessionID, s2.SessionID)
		}
	})
}
