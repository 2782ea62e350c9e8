package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// An insert of Items locks each user's row once per transaction: Enqueue
// locked it for its limits and assignCreatedAt locked it again. (PostgreSQL
// only: SQLite takes no row locks, its single writer serialises.)
func TestUserRowLockedOncePerTransaction(t *testing.T) {
	url := testsupport.FreshPostgres(t)
	testsupport.OpenStore(t, url) // migrated
	ctx := context.Background()
	var locks atomic.Int64
	st, err := store.OpenPostgresCountingForTest(ctx, url, "FROM users WHERE id = $1 FOR NO KEY UPDATE", &locks)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := newUser(t, st)

	locks.Store(0)
	nj := newJob(u.ID, "m", 0, t0)
	nj.MaxActive, nj.HourlyLimit = 5, 5 // the limit checks run too
	enqueue(t, st, nj)
	if n := locks.Load(); n != 1 {
		t.Fatalf("Enqueue took %d row locks, want 1", n)
	}

	v := newUser(t, st)
	locks.Store(0)
	var items []*aimg.Item
	for i := range 3 {
		for _, owner := range []string{u.ID, v.ID} {
			items = append(items, &aimg.Item{ID: uuid.NewString(), UserID: owner, MType: aimg.MTypeImage,
				MediaType: aimg.MediaStaticImage, ModelID: "m", Prompt: "p", Status: aimg.StatusCompleted,
				CreatedAt: t0.Add(time.Duration(i)), UpdatedAt: t0})
		}
	}
	if err := st.InsertItems(ctx, items); err != nil {
		t.Fatal(err)
	}
	if n := locks.Load(); n != 2 {
		t.Fatalf("InsertItems for 2 users took %d row locks, want 2", n)
	}
	// Unknown users are refused as before.
	err = st.InsertItems(ctx, []*aimg.Item{{ID: uuid.NewString(), UserID: uuid.NewString(), ModelID: "m"}})
	if !aimg.IsNotFound(err) {
		t.Fatalf("insert for an unknown user: %v", err)
	}
}
