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

// An admin mark lives until its expiry or its dropping, only on its own
// session, and goes with the session (sign-out, rotation).
func TestAdminSessions(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "admin@marks.example", false)
		newSession := func() string {
			t.Helper()
			s := &aimg.Session{ID: uuid.NewString(), UserID: u.ID, Authenticated: true, CreatedAt: acctT0, LastSeenAt: acctT0}
			if err := st.CreateSession(ctx, s, acctT0.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			return s.ID
		}
		live := func(id string, at time.Time) bool {
			t.Helper()
			ok, err := st.AdminSessionLive(ctx, id, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		a, b := newSession(), newSession()
		if live(a, acctT0) {
			t.Fatal("an unmarked session is admin")
		}
		if err := st.MarkAdminSession(ctx, a, acctT0, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !live(a, acctT0.Add(59*time.Minute)) || live(b, acctT0) {
			t.Fatal("the mark is not exactly on its session")
		}
		if live(a, acctT0.Add(time.Hour)) {
			t.Fatal("the mark outlived its expiry")
		}
		// Marking again starts the expiry over.
		if err := st.MarkAdminSession(ctx, a, acctT0.Add(2*time.Hour), acctT0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !live(a, acctT0.Add(2*time.Hour+time.Minute)) {
			t.Fatal("marking again did not renew the mark")
		}
		// The purge removes expired marks only.
		if err := st.MarkAdminSession(ctx, b, acctT0, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeleteExpiredAdminSessions(ctx, acctT0.Add(2*time.Hour)); err != nil || n != 1 || !live(a, acctT0.Add(2*time.Hour)) {
			t.Fatalf("purge: %d %v", n, err)
		}
		if err := st.DeleteAdminSession(ctx, a); err != nil || live(a, acctT0.Add(2*time.Hour)) {
			t.Fatalf("dropped mark: %v", err)
		}
		// The mark goes with its session.
		if err := st.MarkAdminSession(ctx, b, acctT0, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DeleteSession(ctx, b); err != nil {
			t.Fatal(err)
		}
		if live(b, acctT0) {
			t.Fatal("the mark outlived its session")
		}
		c := newSession()
		if err := st.MarkAdminSession(ctx, c, acctT0, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		next := &aimg.Session{ID: uuid.NewString(), UserID: u.ID, Authenticated: true, CreatedAt: acctT0, LastSeenAt: acctT0}
		if err := st.RotateSession(ctx, c, next, acctT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if live(c, acctT0) || live(next.ID, acctT0) {
			t.Fatal("the mark survived a rotation")
		}
		// A session that is not stored cannot be marked.
		if err := st.MarkAdminSession(ctx, uuid.NewString(), acctT0, acctT0.Add(time.Hour)); err == nil {
			t.Fatal("marked a session that does not exist")
		}
	})
}

// CompletedJobsSince counts one Model's completed Jobs in the window;
// RunningJobs lists the running ones, longest running first.
func TestCompletedJobsSince(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		for range 3 {
			enqueue(t, st, newJob(u.ID, "m", 0, t0))
		}
		enqueue(t, st, newJob(u.ID, "other", 0, t0))
		done := func(j *aimg.Job, at time.Time) {
			t.Helper()
			if err := st.CompleteJob(ctx, j.Lease(), []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", at); err != nil {
				t.Fatal(err)
			}
		}
		a, b := claim(t, st, "w", t0, "m"), claim(t, st, "w", t0, "m")
		c := claim(t, st, "w", t0.Add(time.Second), "m") // running: not counted
		if running, err := st.RunningJobs(ctx, 10); err != nil || len(running) != 3 || running[2].ID != c.ID || running[0].LeaseOwner != "w" {
			t.Fatalf("running: %+v %v", running, err)
		}
		if running, err := st.RunningJobs(ctx, 1); err != nil || len(running) != 1 {
			t.Fatalf("running, limit 1: %+v %v", running, err)
		}
		done(a, t0.Add(time.Minute))
		done(b, t0.Add(time.Hour))
		done(claim(t, st, "w", t0, "other"), t0.Add(time.Hour))
		if running, err := st.RunningJobs(ctx, 10); err != nil || len(running) != 1 || running[0].ID != c.ID {
			t.Fatalf("running after completions: %+v %v", running, err)
		}
		for _, c := range []struct {
			since time.Time
			want  int64
		}{{t0, 2}, {t0.Add(time.Minute), 2}, {t0.Add(time.Minute + time.Millisecond), 1}, {t0.Add(2 * time.Hour), 0}} {
			if n, err := st.CompletedJobsSince(ctx, "m", c.since); err != nil || n != c.want {
				t.Fatalf("since %v: %d, %v; want %d", c.since, n, err, c.want)
			}
		}
	})
}
