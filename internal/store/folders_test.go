package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// Concurrent adds, removes and Folder deletions: afterwards no Item is in
// a Folder that does not exist, and every Folder's count, the user's
// count and the root count equal a recount of the items table.
func TestFoldersConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newItemsUser(t, st, false)
		var items []*aimg.Item
		for i := range 20 {
			items = append(items, testItem(u, time.Duration(i)*time.Second))
		}
		insertItems(t, st, items...)
		all := ids(items)
		var folders []string
		for i := range 4 {
			f := &aimg.Folder{ID: uuid.NewString(), UserID: u, Name: "f", CreatedAt: itemsBase.Add(time.Duration(i) * time.Millisecond)}
			if err := st.CreateFolder(ctx, f); err != nil {
				t.Fatal(err)
			}
			folders = append(folders, f.ID)
		}
		ok := func(*aimg.Item, int) error { return nil }
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 9))
				for n := range 20 {
					var pick []string
					for _, id := range all {
						if r.IntN(3) == 0 {
							pick = append(pick, id)
						}
					}
					f := folders[r.IntN(len(folders))]
					var err error
					switch {
					case g == 0 && n == 10:
						err = st.DeleteFolder(ctx, u, folders[0])
					case r.IntN(3) == 0:
						_, err = st.MoveItems(ctx, u, aimg.FolderMove{IDs: pick, From: f, At: itemsBase, Check: ok})
					default:
						_, err = st.MoveItems(ctx, u, aimg.FolderMove{IDs: pick, To: f, At: itemsBase, Check: ok})
					}
					if err != nil && !errors.Is(err, store.ErrFolderNotFound) {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := st.FolderByID(ctx, u, folders[0]); !errors.Is(err, store.ErrFolderNotFound) {
			t.Fatalf("deleted Folder: %v", err)
		}
		var root int64
		for _, it := range items {
			got, err := st.ItemByID(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.FolderID == folders[0] {
				t.Fatalf("Item %s is in the deleted Folder", it.ID)
			}
			if got.FolderID == "" {
				root++
			}
		}
		for _, id := range folders[1:] {
			f, err := st.FolderByID(ctx, u, id)
			if err != nil {
				t.Fatal(err)
			}
			n, err := st.FolderItemsRecount(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if f.ImageCount != n {
				t.Fatalf("Folder %s: imageCount %d, recount %d", id, f.ImageCount, n)
			}
		}
		wantItemCounts(t, st, u, 20, root)
	})
}

// Moves between Public Folders and the root racing with Admin rejections
// and approvals (SetApproval without Owner): no deadlock (the owner's row
// is locked before the Items on both sides), no private Item left in a
// Public Folder, and every count equal to a recount.
func TestPublicFoldersRejectionConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newItemsUser(t, st, false)
		var items []*aimg.Item
		for i := range 20 {
			it := testItem(u, time.Duration(i)*time.Second)
			it.IsPublic, it.PublicApprovalStatus = true, aimg.ApprovalApproved
			items = append(items, it)
		}
		insertItems(t, st, items...)
		all := ids(items)
		var folders []string
		for i := range 3 {
			f := &aimg.Folder{ID: aimg.PublicFolderPrefix + uuid.NewString(), UserID: u, Name: "p", CreatedAt: itemsBase.Add(time.Duration(i) * time.Millisecond)}
			if err := st.CreateFolder(ctx, f); err != nil {
				t.Fatal(err)
			}
			folders = append(folders, f.ID)
		}
		onlyPublic := func(it *aimg.Item, _ int) error {
			if !it.IsPublic {
				return errors.New("private")
			}
			return nil
		}
		flip := func(it *aimg.Item, _, _ int) (bool, string, error) {
			if it.IsPublic {
				return false, aimg.ApprovalRejected, nil
			}
			return true, aimg.ApprovalApproved, nil
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 11))
				for range 15 {
					var pick []string
					for _, id := range all {
						if r.IntN(3) == 0 {
							pick = append(pick, id)
						}
					}
					var err error
					switch {
					case g < 2:
						_, err = st.SetApproval(ctx, aimg.ApprovalChange{IDs: pick, At: itemsBase, Decide: flip})
					case r.IntN(4) == 0:
						_, err = st.MoveItems(ctx, u, aimg.FolderMove{IDs: pick, From: folders[r.IntN(3)], At: itemsBase, Check: func(*aimg.Item, int) error { return nil }})
					default:
						_, err = st.MoveItems(ctx, u, aimg.FolderMove{IDs: pick, To: folders[r.IntN(3)], At: itemsBase, Check: onlyPublic})
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var root, public int64
		for _, it := range items {
			got, err := st.ItemByID(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if aimg.IsPublicFolderID(got.FolderID) {
				public++
				if !got.IsPublic {
					t.Fatalf("private Item %s in Public Folder %s", got.ID, got.FolderID)
				}
			}
			if got.FolderID == "" {
				root++
			}
		}
		for _, id := range folders {
			f, err := st.FolderByID(ctx, u, id)
			if err != nil {
				t.Fatal(err)
			}
			n, err := st.FolderItemsRecount(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if f.ImageCount != n {
				t.Fatalf("Folder %s: imageCount %d, recount %d", id, f.ImageCount, n)
			}
		}
		n, err := st.CountUserPublicItems(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		recount, err := st.PublicItemsRecount(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if n != public || recount != public {
			t.Fatalf("publicItemCount %d, recount %d, Items in Public Folders %d", n, recount, public)
		}
		wantItemCounts(t, st, u, 20, root)
	})
}
