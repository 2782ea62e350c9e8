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
