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

func newAppPassword(userID, hash string, at time.Time) *aimg.AppPassword {
	return &aimg.AppPassword{ID: uuid.NewString(), UserID: userID, Name: "phone", SecretHash: hash, CreatedAt: at}
}

func TestAppPasswords(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		alice := newTestUser(t, st, "alice@apppass.example", false)
		bob := newTestUser(t, st, "bob@apppass.example", false)

		first := newAppPassword(alice.ID, "hash-1", acctT0)
		second := newAppPassword(alice.ID, "hash-2", acctT0.Add(time.Second))
		for _, p := range []*aimg.AppPassword{first, second} {
			if err := st.CreateAppPassword(ctx, p, 3); err != nil {
				t.Fatal(err)
			}
		}
		// The hash is unique: two rows never answer one secret.
		if err := st.CreateAppPassword(ctx, newAppPassword(bob.ID, "hash-1", acctT0), 3); err == nil {
			t.Fatal("a second app password with the same hash was stored")
		}
		got, err := st.AppPasswordByHash(ctx, "hash-2")
		if err != nil || got.ID != second.ID || got.UserID != alice.ID || got.LastUsedAt != nil || !got.CreatedAt.Equal(second.CreatedAt) {
			t.Fatalf("by hash: %+v, %v", got, err)
		}
		if _, err := st.AppPasswordByHash(ctx, "no-such-hash"); !aimg.IsNotFound(err) {
			t.Fatalf("unknown hash: %v, want not found", err)
		}

		list, err := st.AppPasswords(ctx, alice.ID, 10)
		if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
			t.Fatalf("alice's list (newest first): %+v, %v", list, err)
		}
		if list, err := st.AppPasswords(ctx, bob.ID, 10); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("bob's list: %v, %v; want an empty list", list, err)
		}

		// last_used_at is written at most once a minute.
		t1 := acctT0.Add(time.Hour)
		for _, at := range []time.Time{t1, t1.Add(30 * time.Second)} {
			if err := st.TouchAppPassword(ctx, first.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		if p, _ := st.AppPasswordByHash(ctx, "hash-1"); p.LastUsedAt == nil || !p.LastUsedAt.Equal(t1) {
			t.Fatalf("after two uses 30 s apart: last used %v, want %v", p.LastUsedAt, t1)
		}
		t2 := t1.Add(2 * time.Minute)
		_ = st.TouchAppPassword(ctx, first.ID, t2)
		if p, _ := st.AppPasswordByHash(ctx, "hash-1"); p.LastUsedAt == nil || !p.LastUsedAt.Equal(t2) {
			t.Fatalf("two minutes later: last used %v, want %v", p.LastUsedAt, t2)
		}

		// One user cannot delete another's.
		if ok, err := st.DeleteAppPassword(ctx, bob.ID, first.ID); err != nil || ok {
			t.Fatalf("bob deleting alice's: %v, %v; want false", ok, err)
		}
		if ok, err := st.DeleteAppPassword(ctx, alice.ID, first.ID); err != nil || !ok {
			t.Fatalf("alice deleting hers: %v, %v", ok, err)
		}
		if ok, _ := st.DeleteAppPassword(ctx, alice.ID, first.ID); ok {
			t.Fatal("deleted twice")
		}
		if err := st.DeleteUserAppPasswords(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AppPasswordByHash(ctx, "hash-2"); !aimg.IsNotFound(err) {
			t.Fatalf("after deleting the user's app passwords: %v", err)
		}
	})
}

// Parallel creations cannot together go past the bound per user.
func TestAppPasswordBoundHoldsUnderParallelCreations(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "many@apppass.example", false)
		const bound, tries = 3, 8
		var wg sync.WaitGroup
		errs := make([]error, tries)
		for i := range tries {
			wg.Go(func() {
				errs[i] = st.CreateAppPassword(ctx, newAppPassword(u.ID, fmt.Sprintf("h-%d", i), acctT0), bound)
			})
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case aimg.ErrorCode(err) != aimg.CodeInvalid:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		list, _ := st.AppPasswords(ctx, u.ID, 100)
		if created != bound || len(list) != bound {
			t.Fatalf("%d created, %d stored; want exactly %d", created, len(list), bound)
		}
		if err := st.CreateAppPassword(ctx, newAppPassword(uuid.NewString(), "h-nouser", acctT0), bound); err == nil {
			t.Fatal("an app password for an unknown user was stored")
		}
	})
}
