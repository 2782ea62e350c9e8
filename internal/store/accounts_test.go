package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

var acctT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestUser(t *testing.T, st *store.Store, email string, guest bool) *aimg.User {
	t.Helper()
	u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: email, IsGuest: guest, Roles: []string{"user"},
		CreatedAt: acctT0, UpdatedAt: acctT0}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUserAccountColumnsRoundTrip(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "Round@Trip.example", false)
		got, err := st.UserByID(ctx, u.ID)
		if err != nil || got.Email != "round@trip.example" || got.OTPLogin || got.DeleteItemsRequested {
			t.Fatalf("got %+v, %v", got, err)
		}
		got.OTPLogin, got.DeleteItemsRequested = true, true
		if err := st.UpdateUser(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, _ := st.UserByID(ctx, u.ID)
		if !again.OTPLogin || !again.DeleteItemsRequested {
			t.Fatalf("flags not stored: %+v", again)
		}
		// Another user cannot take the email, whatever its case.
		dup := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: "ROUND@trip.example", CreatedAt: acctT0, UpdatedAt: acctT0}
		if err := st.CreateUser(ctx, dup); aimg.ErrorCode(err) != aimg.CodeConflict {
			t.Fatalf("duplicate email: %v", err)
		}
	})
}

func TestChangeUserEmailArchivesThePreviousOne(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "old@example.com", false)
		other := newTestUser(t, st, "taken@example.com", false)
		list, err := st.ArchivedEmails(ctx, u.ID)
		if err != nil || list == nil || len(list) != 0 {
			t.Fatalf("archived = %v, %v; want an empty list", list, err)
		}
		// A taken email fails and archives nothing (one transaction).
		u.Email = other.Email
		if err := st.ChangeUserEmail(ctx, u, aimg.ArchivedEmail{Email: "old@example.com", ArchivedAt: acctT0}); aimg.ErrorCode(err) != aimg.CodeConflict {
			t.Fatalf("change to a taken email: %v", err)
		}
		if list, _ := st.ArchivedEmails(ctx, u.ID); len(list) != 0 {
			t.Fatalf("a failed change archived %v", list)
		}
		u.Email = "new@example.com"
		if err := st.ChangeUserEmail(ctx, u, aimg.ArchivedEmail{Email: "old@example.com", ArchivedAt: acctT0}); err != nil {
			t.Fatal(err)
		}
		list, _ = st.ArchivedEmails(ctx, u.ID)
		if len(list) != 1 || list[0].Email != "old@example.com" || !list[0].ArchivedAt.Equal(acctT0) {
			t.Fatalf("archived = %+v", list)
		}
		if got, err := st.UserByEmail(ctx, "localhost", "new@example.com"); err != nil || got.ID != u.ID {
			t.Fatalf("by new email: %v", err)
		}
		if _, err := st.UserByEmail(ctx, "localhost", "old@example.com"); !aimg.IsNotFound(err) {
			t.Fatalf("old email still finds the user: %v", err)
		}
	})
}

func TestOTPSingleUseAttemptsAndExpiry(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		exp := acctT0.Add(24 * time.Hour)
		if err := st.PutOTP(ctx, "localhost", "A@b.c", "h1", acctT0, exp); err != nil {
			t.Fatal(err)
		}
		ok, err := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h1", acctT0, 5)
		if err != nil || !ok {
			t.Fatalf("first use: %v, %v", ok, err)
		}
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h1", acctT0, 5); ok {
			t.Fatal("an OTP was used twice")
		}

		// Five wrong tries void it, even for the right code afterwards.
		_ = st.PutOTP(ctx, "localhost", "a@b.c", "h2", acctT0, exp)
		for i := range 5 {
			if ok, err := st.ConsumeOTP(ctx, "localhost", "a@b.c", "wrong", acctT0, 5); ok || err != nil {
				t.Fatalf("wrong try %d: %v, %v", i, ok, err)
			}
		}
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h2", acctT0, 5); ok {
			t.Fatal("OTP still valid after 5 wrong tries")
		}

		// Four wrong tries leave it usable.
		_ = st.PutOTP(ctx, "localhost", "a@b.c", "h3", acctT0, exp)
		for range 4 {
			_, _ = st.ConsumeOTP(ctx, "localhost", "a@b.c", "wrong", acctT0, 5)
		}
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h3", acctT0, 5); !ok {
			t.Fatal("OTP void after 4 wrong tries")
		}

		// Expired: never matches; a new request replaces the old code.
		_ = st.PutOTP(ctx, "localhost", "a@b.c", "h4", acctT0, exp)
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h4", exp, 5); ok {
			t.Fatal("expired OTP accepted")
		}
		_ = st.PutOTP(ctx, "localhost", "a@b.c", "h5", acctT0, exp)
		_ = st.PutOTP(ctx, "localhost", "a@b.c", "h6", acctT0, exp)
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h5", acctT0, 5); ok {
			t.Fatal("a replaced OTP was accepted")
		}
		// Domains are separate.
		if ok, _ := st.ConsumeOTP(ctx, "other", "a@b.c", "h6", acctT0, 5); ok {
			t.Fatal("OTP of another domain accepted")
		}
		if ok, _ := st.ConsumeOTP(ctx, "localhost", "a@b.c", "h6", acctT0, 5); !ok {
			t.Fatal("latest OTP refused")
		}
		_ = st.PutOTP(ctx, "localhost", "old@b.c", "h7", acctT0, acctT0.Add(time.Minute))
		if n, err := st.DeleteExpiredOTPs(ctx, acctT0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("DeleteExpiredOTPs = %d, %v", n, err)
		}
	})
}

func TestUserKVP(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := newTestUser(t, st, "a@example.com", false)
		b := newTestUser(t, st, "b@example.com", false)
		if _, err := st.UserKVP(ctx, a.ID, "k"); !aimg.IsNotFound(err) {
			t.Fatalf("missing key: %v", err)
		}
		if err := st.SetUserKVP(ctx, a.ID, "k", "v1", 2, acctT0); err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserKVP(ctx, a.ID, "k", "v2", 2, acctT0); err != nil { // overwrite
			t.Fatal(err)
		}
		if err := st.SetUserKVP(ctx, b.ID, "k", "b's", 2, acctT0); err != nil {
			t.Fatal(err)
		}
		if v, err := st.UserKVP(ctx, a.ID, "k"); err != nil || v != "v2" {
			t.Fatalf("a's k = %q, %v", v, err)
		}
		if err := st.SetUserKVP(ctx, a.ID, "k2", "", 2, acctT0); err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserKVP(ctx, a.ID, "k3", "x", 2, acctT0); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("third key with a cap of 2: %v", err)
		}
		if err := st.SetUserKVP(ctx, a.ID, "k2", "still fine", 2, acctT0); err != nil {
			t.Fatalf("overwrite at the cap: %v", err)
		}
		if ok, err := st.DeleteUserKVP(ctx, a.ID, "k"); !ok || err != nil {
			t.Fatalf("delete: %v %v", ok, err)
		}
		if ok, _ := st.DeleteUserKVP(ctx, a.ID, "k"); ok {
			t.Fatal("deleted twice")
		}
		if v, err := st.UserKVP(ctx, b.ID, "k"); err != nil || v != "b's" {
			t.Fatalf("b's k = %q, %v", v, err)
		}
	})
}

func TestRotateSessionAndGuestMerge(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		guest := newTestUser(t, st, "", true)
		user := newTestUser(t, st, "u@example.com", false)
		old := &aimg.Session{ID: uuid.NewString(), UserID: guest.ID, CreatedAt: acctT0, LastSeenAt: acctT0}
		if err := st.CreateSession(ctx, old, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		next := &aimg.Session{ID: uuid.NewString(), UserID: user.ID, Authenticated: true, CreatedAt: acctT0, LastSeenAt: acctT0}
		if err := st.RotateSession(ctx, old.ID, next, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SessionByID(ctx, old.ID, acctT0); !aimg.IsNotFound(err) {
			t.Fatalf("old session survived rotation: %v", err)
		}
		if s, err := st.SessionByID(ctx, next.ID, acctT0); err != nil || !s.Authenticated || s.UserID != user.ID {
			t.Fatalf("new session: %+v, %v", s, err)
		}
		if n, err := st.CountUserSessions(ctx, user.ID, acctT0); err != nil || n != 1 {
			t.Fatalf("CountUserSessions = %d, %v", n, err)
		}

		if err := st.MoveGuestData(ctx, guest.ID, user.ID, acctT0); err != nil {
			t.Fatal(err)
		}
		if err := st.MoveGuestData(ctx, guest.ID, user.ID, acctT0.Add(time.Second)); err != nil {
			t.Fatalf("second merge: %v", err)
		}
		if into, err := st.GuestMergedInto(ctx, guest.ID); err != nil || into != user.ID {
			t.Fatalf("merged into %q, %v", into, err)
		}
		g, _ := st.UserByID(ctx, guest.ID)
		if g.DeletedAt == nil || !g.DeletedAt.Equal(acctT0) {
			t.Fatalf("guest not retired at the first merge: %+v", g.DeletedAt)
		}
		if u, _ := st.UserByID(ctx, user.ID); u.Deleted() {
			t.Fatal("the account was retired instead of the guest")
		}
		if _, err := st.GuestMergedInto(ctx, user.ID); !aimg.IsNotFound(err) {
			t.Fatalf("GuestMergedInto of a non-guest: %v", err)
		}
	})
}
