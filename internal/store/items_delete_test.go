package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func change(t *testing.T, st *store.Store, ch aimg.ItemChange) []aimg.ItemChanged {
	t.Helper()
	if ch.At.IsZero() {
		ch.At = itemsBase.Add(time.Hour)
	}
	out, err := st.ChangeItems(context.Background(), ch)
	if err != nil {
		t.Fatalf("change %s: %v", ch.Op, err)
	}
	return out
}

// wantItemCounts checks the stored counters (item_counts) against a
// recount of the items table, and against want.
func wantItemCounts(t *testing.T, st *store.Store, userID string, all, root int64) {
	t.Helper()
	ctx := context.Background()
	n, err := st.CountItems(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CountRootItems(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	ra, rr, err := st.ItemCountsRecount(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if n != ra || r != rr {
		t.Fatalf("user %s: stored counts %d/%d, recount %d/%d", userID, n, r, ra, rr)
	}
	if n != all || r != root {
		t.Fatalf("user %s: counts %d/%d, want %d/%d", userID, n, r, all, root)
	}
}

func refuseProtected(it *aimg.Item, _ bool) error { return it.DeleteBlocker() }

// Deleting is soft and takes the Item out of its Folder; refused Items
// (Check) and unknown ids keep their state; restoring puts the Item in the
// root Folder; the counters equal a recount after each step.
func TestChangeItemsDeleteRestore(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newItemsUser(t, st, false)
		a, b, prot, queued := testItem(u, 0), testItem(u, time.Second), testItem(u, 2*time.Second), testItem(u, 3*time.Second)
		b.FolderID = "f-" + b.ID
		added := itemsBase
		b.FolderAddedAt = &added
		prot.IsProtected = true
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		insertItems(t, st, a, b, prot, queued)
		wantItemCounts(t, st, u, 4, 3)

		out := change(t, st, aimg.ItemChange{Op: aimg.ItemDelete, IDs: []string{b.ID, "no-such-item", prot.ID, queued.ID, a.ID}, Check: refuseProtected})
		wantOutcome(t, out[0].Err, "")
		wantOutcome(t, out[1].Err, "Item not found")
		wantOutcome(t, out[2].Err, "Item is protected")
		wantOutcome(t, out[3].Err, "Item is still queued or generating: cancel it instead")
		wantOutcome(t, out[4].Err, "")
		wantItemCounts(t, st, u, 2, 2)
		got, err := st.ItemByID(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DeletedAt == nil || got.FolderID != "" || got.FolderAddedAt != nil {
			t.Fatalf("deleted Item: deletedAt %v folder %q added %v, want deleted and in no Folder", got.DeletedAt, got.FolderID, got.FolderAddedAt)
		}
		if p, _ := st.ItemByID(ctx, prot.ID); p.DeletedAt != nil {
			t.Fatal("the protected Item was deleted")
		}
		wantOutcome(t, change(t, st, aimg.ItemChange{Op: aimg.ItemDelete, IDs: []string{a.ID}, Check: refuseProtected})[0].Err, "Item is already deleted")

		out = change(t, st, aimg.ItemChange{Op: aimg.ItemRestore, IDs: []string{b.ID}})
		wantOutcome(t, out[0].Err, "")
		wantItemCounts(t, st, u, 3, 3)
		if got, _ := st.ItemByID(ctx, b.ID); got.DeletedAt != nil || got.FolderID != "" {
			t.Fatalf("restored Item: deletedAt %v folder %q, want live in the root Folder", got.DeletedAt, got.FolderID)
		}

		// OwnerID: every live Item for delete, every deleted one for restore, by id.
		out = change(t, st, aimg.ItemChange{Op: aimg.ItemDelete, OwnerID: u, Check: refuseProtected})
		if len(out) != 3 {
			t.Fatalf("delete all: %d outcomes, want the 3 live Items: %+v", len(out), out)
		}
		for i := 1; i < len(out); i++ {
			if out[i-1].ID >= out[i].ID {
				t.Fatalf("delete all: outcomes not in id order: %+v", out)
			}
		}
		wantItemCounts(t, st, u, 2, 2) // the protected and the queued Item stay
		out = change(t, st, aimg.ItemChange{Op: aimg.ItemRestore, OwnerID: u})
		if len(out) != 2 {
			t.Fatalf("restore all: %d outcomes, want the 2 deleted Items: %+v", len(out), out)
		}
		wantItemCounts(t, st, u, 4, 4)
	})
}

// Check sees whether the owner is deleted; toggling protection reports the
// new status; an error from Check leaves the Item alone.
func TestChangeItemsOwnerDeletedAndProtect(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		live, gone := newItemsUser(t, st, false), newItemsUser(t, st, false)
		a, b := testItem(live, 0), testItem(gone, 0)
		insertItems(t, st, a, b)
		change(t, st, aimg.ItemChange{Op: aimg.ItemDelete, IDs: []string{a.ID, b.ID}})
		u, err := st.UserByID(ctx, gone)
		if err != nil {
			t.Fatal(err)
		}
		at := itemsBase.Add(time.Hour)
		u.DeletedAt = &at
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		errOwner := errors.New("owner deleted")
		seen := map[string]bool{}
		out := change(t, st, aimg.ItemChange{Op: aimg.ItemRestore, IDs: []string{a.ID, b.ID}, Check: func(it *aimg.Item, ownerDeleted bool) error {
			seen[it.ID] = ownerDeleted
			if ownerDeleted {
				return errOwner
			}
			return nil
		}})
		if seen[a.ID] || !seen[b.ID] {
			t.Fatalf("ownerDeleted seen %v, want false for %s and true for %s", seen, a.ID, b.ID)
		}
		wantOutcome(t, out[0].Err, "")
		wantOutcome(t, out[1].Err, "owner deleted")
		if it, _ := st.ItemByID(ctx, b.ID); it.DeletedAt == nil {
			t.Fatal("refused restore changed the Item")
		}
		wantItemCounts(t, st, live, 1, 1)
		wantItemCounts(t, st, gone, 0, 0)

		out = change(t, st, aimg.ItemChange{Op: aimg.ItemToggleProtect, IDs: []string{a.ID}})
		if out[0].Err != nil || !out[0].Protected {
			t.Fatalf("protect: %+v, want success and protected", out[0])
		}
		out = change(t, st, aimg.ItemChange{Op: aimg.ItemToggleProtect, IDs: []string{a.ID, "nope"}})
		if out[0].Err != nil || out[0].Protected || out[1].Err == nil {
			t.Fatalf("unprotect: %+v, want success and unprotected, then not found", out)
		}
		if it, _ := st.ItemByID(ctx, a.ID); it.IsProtected {
			t.Fatal("Item still protected after two toggles")
		}
	})
}

// Parallel deletes and restores of overlapping Items: every Item's
// successful deletes minus restores is its final state (0 live, 1
// deleted; no change applied twice), and the counters equal a recount.
func TestChangeItemsConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		u := newItemsUser(t, st, false)
		var items []*aimg.Item
		for i := range 12 {
			it := testItem(u, time.Duration(i)*time.Second)
			if i%3 == 0 {
				it.FolderID = "f-1"
				added := itemsBase
				it.FolderAddedAt = &added
			}
			items = append(items, it)
		}
		insertItems(t, st, items...)
		all := ids(items)
		restoreCheck := func(it *aimg.Item, _ bool) error {
			if it.DeletedAt == nil {
				return errors.New("not deleted")
			}
			return nil
		}
		var mu sync.Mutex
		net := map[string]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 7))
				for range 25 {
					var pick []string
					for _, id := range all {
						if r.IntN(3) == 0 {
							pick = append(pick, id)
						}
					}
					ch := aimg.ItemChange{Op: aimg.ItemDelete, IDs: pick, At: itemsBase.Add(time.Hour), Check: refuseProtected}
					sign := 1
					if r.IntN(2) == 0 {
						ch.Op, ch.Check, sign = aimg.ItemRestore, restoreCheck, -1
					}
					out, err := st.ChangeItems(context.Background(), ch)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					for _, o := range out {
						if o.Err == nil {
							net[o.ID] += sign
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var live int64
		for _, it := range items {
			got, err := st.ItemByID(context.Background(), it.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if got.DeletedAt != nil {
				want = 1
			} else {
				live++
			}
			if net[it.ID] != want {
				t.Fatalf("item %s: deletes minus restores %d, final deleted state %d", it.ID, net[it.ID], want)
			}
		}
		n, err := st.CountItems(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		ra, _, err := st.ItemCountsRecount(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if n != live || ra != live {
			t.Fatalf("stored count %d, recount %d, live Items %d", n, ra, live)
		}
		var stored int64
		for _, f := range []string{aimg.RootFolder, "f-1"} {
			c, err := st.CountFolderItems(context.Background(), u, f)
			if err != nil {
				t.Fatal(err)
			}
			stored += c
		}
		if stored != live {
			t.Fatalf("per-Folder counts add up to %d, want %d", stored, live)
		}
	})
}
