package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func newGuest() *aimg.User {
	return &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, Roles: []string{}, CreatedAt: acctT0, UpdatedAt: acctT0}
}

// Parallel first requests of one session agree on one guest record and
// leave no other guest behind.
func TestGuestSessionIsInsertOrGet(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for round := range 5 {
			id := uuid.NewString()
			const n = 8
			got := make([]*aimg.User, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					sess := &aimg.Session{ID: id, CreatedAt: acctT0, LastSeenAt: acctT0}
					got[i], errs[i] = st.GuestSession(ctx, sess, newGuest(), acctT0.Add(time.Hour))
				}()
			}
			close(start)
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("round %d: %v", round, errs[i])
				}
				if got[i].ID != got[0].ID || !got[i].IsGuest {
					t.Fatalf("round %d: request %d got guest %s, request 0 got %s", round, i, got[i].ID, got[0].ID)
				}
			}
			sess, err := st.SessionByID(ctx, id, acctT0)
			if err != nil || sess.UserID != got[0].ID || sess.Authenticated {
				t.Fatalf("round %d: session %+v, %v", round, sess, err)
			}
			var guests int
			if err := st.QueryRowForTest(ctx, `SELECT COUNT(*) FROM users WHERE is_guest`).Scan(&guests); err != nil || guests != round+1 {
				t.Fatalf("round %d: %d guest records (%v), want %d", round, guests, err, round+1)
			}
		}
	})
}

// An expired session under the id is replaced; a live one keeps its user.
func TestGuestSessionReplacesExpiredRows(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id := uuid.NewString()
		first, err := st.GuestSession(ctx, &aimg.Session{ID: id, CreatedAt: acctT0, LastSeenAt: acctT0}, newGuest(), acctT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		again, err := st.GuestSession(ctx, &aimg.Session{ID: id, CreatedAt: acctT0, LastSeenAt: acctT0.Add(time.Minute)}, newGuest(), acctT0.Add(2*time.Hour))
		if err != nil || again.ID != first.ID {
			t.Fatalf("live session: got %v, %v; want %s", again, err, first.ID)
		}
		later := acctT0.Add(2 * time.Hour)
		fresh, err := st.GuestSession(ctx, &aimg.Session{ID: id, CreatedAt: later, LastSeenAt: later}, newGuest(), later.Add(time.Hour))
		if err != nil || fresh.ID == first.ID {
			t.Fatalf("expired session: got %v, %v; want a new guest", fresh, err)
		}
		if s, err := st.SessionByID(ctx, id, later); err != nil || s.UserID != fresh.ID || !s.CreatedAt.Equal(later) {
			t.Fatalf("session %+v, %v", s, err)
		}
	})
}

// Parallel sets of new keys cannot go past the per-user maximum.
func TestSetUserKVPLimitUnderConcurrency(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "kvp@example.com", false)
		const max, n = 3, 12
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = st.SetUserKVP(ctx, u.ID, fmt.Sprintf("k%d", i), "v", max, acctT0)
			}()
		}
		close(start)
		wg.Wait()
		stored := 0
		for _, err := range errs {
			switch {
			case err == nil:
				stored++
			case aimg.ErrorCode(err) != aimg.CodeInvalid:
				t.Fatal(err)
			}
		}
		var count int
		if err := st.QueryRowForTest(ctx, `SELECT COUNT(*) FROM user_kvps WHERE user_id = $1`, u.ID).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != max || stored != max {
			t.Fatalf("%d keys stored (%d sets succeeded), the maximum is %d", count, stored, max)
		}
	})
}

// SessionWithUser reads what SessionByID and UserByID read, in one query,
// for a live session with a user, and finds nothing for any other.
func TestSessionWithUserMatchesTwoReads(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newGuest()
		u.IsGuest, u.Email, u.Username, u.Roles = false, "a@example.com", "alice", []string{"admin"}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		withUser := &aimg.Session{ID: uuid.NewString(), UserID: u.ID, Authenticated: true, CreatedAt: acctT0, LastSeenAt: acctT0.Add(time.Second)}
		if err := st.CreateSession(ctx, withUser, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		sess, got, found, err := st.SessionWithUser(ctx, withUser.ID, acctT0)
		if err != nil || !found {
			t.Fatalf("found %v, %v", found, err)
		}
		wantSess, _ := st.SessionByID(ctx, withUser.ID, acctT0)
		wantUser, _ := st.UserByID(ctx, u.ID)
		if fmt.Sprintf("%+v %+v", *sess, *got) != fmt.Sprintf("%+v %+v", *wantSess, *wantUser) {
			t.Fatalf("one read: %+v %+v\ntwo reads: %+v %+v", *sess, *got, *wantSess, *wantUser)
		}
		for name, id := range map[string]string{"unknown": uuid.NewString(), "expired": withUser.ID} {
			at := acctT0
			if name == "expired" {
				at = acctT0.Add(2 * time.Hour)
			}
			if _, _, found, err := st.SessionWithUser(ctx, id, at); err != nil || found {
				t.Fatalf("%s session: found %v, %v", name, found, err)
			}
		}
	})
}
