package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/testsupport"
)

func TestPurgeExpiredRemovesOnlyExpiredSessionsAndOTPs(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		ctx := context.Background()
		// Sessions are stored once they own something: here the guest
		// record that remembers the 18+ confirmation.
		guestSession := func() testsupport.SelfUser {
			env := srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", uuid.NewString())
			var s testsupport.SelfUser
			env.Decode(t, &s)
			if s.UserID == "" {
				t.Fatalf("no guest record: %s", env.Raw)
			}
			return s
		}
		guestSession()
		testsupport.RequestOTP(t, srv, "purge@example.com", true)

		srv.Clock.Advance(srv.App.Config.Service.Accounts.SessionTTL / 2)
		s := guestSession()

		// Half the session TTL is past the OTP's 24 h: only the OTP goes.
		if n, m, err := srv.App.Accounts.PurgeExpired(ctx); err != nil || n != 0 || m != 1 {
			t.Fatalf("purged %d sessions, %d OTPs, %v; want 0 and 1", n, m, err)
		}
		srv.Clock.Advance(srv.App.Config.Service.Accounts.SessionTTL/2 + time.Minute)
		if n, m, err := srv.App.Accounts.PurgeExpired(ctx); err != nil || n != 1 || m != 0 {
			t.Fatalf("purged %d sessions, %d OTPs, %v; want 1 and 0", n, m, err)
		}
		// The session that had not expired still works.
		if again := testsupport.Self(t, srv, s.SessionID); again.SessionID != s.SessionID || again.UserID != s.UserID {
			t.Fatalf("live session replaced: %+v -> %+v", s, again)
		}
	})
}
