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

// items.tag_count (migration 00036) follows every write of item_tags: tag
// add, remove and set, deleteItems by id and by owner (a user's deletion),
// restore, and a cascade when an Item's row goes; the listing reads it as
// Untagged, which lets a page without tagged Items skip the tags query.
func TestItemTagCountFollowsTagWrites(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := tagCountUser(t, st, "tc@example.com")
		items := tagCountItems(t, st, u.ID, 4)
		a, b, c, d := items[0].ID, items[1].ID, items[2].ID, items[3].ID
		tag := func(op, id string, tags ...string) {
			t.Helper()
			if _, err := st.ChangeTags(ctx, aimg.TagChange{Op: op, UserID: u.ID, ItemID: id, Tags: tags, Max: 50, At: t0,
				Check: func(*aimg.Item) error { return nil }}); err != nil {
				t.Fatalf("%s %v on %s: %v", op, tags, id, err)
			}
		}
		change := func(ch aimg.ItemChange) {
			t.Helper()
			ch.At, ch.Check = t0.Add(time.Hour), func(*aimg.Item, bool) error { return nil }
			if _, err := st.ChangeItems(ctx, ch); err != nil {
				t.Fatalf("%s: %v", ch.Op, err)
			}
		}
		expect := func(step string, want map[string]int64) {
			t.Helper()
			for id, n := range want {
				var got int64
				if err := st.QueryRowForTest(ctx, `SELECT tag_count FROM items WHERE id = $1`, id).Scan(&got); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if got != n {
					t.Errorf("%s: tag_count of %s = %d, want %d", step, id[:8], got, n)
				}
			}
			page, err := st.ListCreations(ctx, u.ID, aimg.ItemFilter{}, aimg.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if n, ok := want[it.ID]; ok && it.Untagged != (n == 0) {
					t.Errorf("%s: listed %s Untagged=%v with tag_count %d", step, it.ID[:8], it.Untagged, n)
				}
			}
			if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
				t.Fatalf("%s: drift %v, %v", step, drift, err)
			}
		}
		expect("new Items", map[string]int64{a: 0, b: 0, c: 0, d: 0})
		tag(aimg.TagAdd, a, "red", "fox")
		tag(aimg.TagAdd, b, "red")
		tag(aimg.TagAdd, a, "red", "owl") // red is carried already
		expect("added", map[string]int64{a: 3, b: 1, c: 0})
		tag(aimg.TagRemove, b, "red", "never")
		tag(aimg.TagSet, a, "cat", "fox")
		expect("removed and set", map[string]int64{a: 2, b: 0})
		change(aimg.ItemChange{Op: aimg.ItemDelete, IDs: []string{a}})
		expect("deleted by id", map[string]int64{a: 0})
		change(aimg.ItemChange{Op: aimg.ItemRestore, IDs: []string{a}})
		expect("restored", map[string]int64{a: 0})
		tag(aimg.TagAdd, a, "fox")
		tag(aimg.TagAdd, c, "red", "fox", "owl")
		expect("tagged again", map[string]int64{a: 1, c: 3})
		change(aimg.ItemChange{Op: aimg.ItemDelete, OwnerID: u.ID}) // the owner's deletion (account.DeleteUser)
		expect("deleted by owner", map[string]int64{a: 0, b: 0, c: 0, d: 0})
		// A cascade from the Item's row (no code path deletes rows today).
		change(aimg.ItemChange{Op: aimg.ItemRestore, OwnerID: u.ID})
		tag(aimg.TagAdd, d, "red", "owl")
		expect("before the cascade", map[string]int64{d: 2})
		if err := st.ExecForTest(ctx, `DELETE FROM items WHERE id = $1`, d); err != nil {
			t.Fatalf("delete row: %v", err)
		}
		expect("after the cascade", map[string]int64{})
	})
}

// The migration sets tag_count of the Items tagged before it.
func TestItemTagCountBackfill(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st, err := store.Open(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.MigrateUpToForTest(ctx, 35); err != nil {
			t.Fatal(err)
		}
		u := tagCountUser(t, st, "backfill@example.com")
		items := tagCountItems(t, st, u.ID, 3)
		for _, tg := range []struct{ item, tag string }{{items[0].ID, "red"}, {items[0].ID, "fox"}, {items[1].ID, "red"}} {
			if err := st.ExecForTest(ctx, `INSERT INTO tags (name, usage_count, created_at) VALUES ($1, 0, 0) ON CONFLICT (name) DO NOTHING`, tg.tag); err != nil {
				t.Fatal(err)
			}
			if err := st.ExecForTest(ctx, `INSERT INTO item_tags (item_id, tag) VALUES ($1, $2)`, tg.item, tg.tag); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int64{2, 1, 0} {
			var got int64
			if err := st.QueryRowForTest(ctx, `SELECT tag_count FROM items WHERE id = $1`, items[i].ID).Scan(&got); err != nil || got != want {
				t.Errorf("Item %d: tag_count %d, %v; want %d", i, got, err, want)
			}
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("drift %v, %v", drift, err)
		}
	})
}

func tagCountUser(t *testing.T, st *store.Store, email string) *aimg.User {
	t.Helper()
	u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: email, Username: email[:len(email)-12],
		Roles: []string{aimg.RoleUser}, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func tagCountItems(t *testing.T, st *store.Store, userID string, n int) []*aimg.Item {
	t.Helper()
	var items []*aimg.Item
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		items = append(items, &aimg.Item{ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
			MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", FileID: uuid.NewString(),
			PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: at, UpdatedAt: at, CompletedAt: &at})
	}
	if err := st.InsertItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	return items
}
