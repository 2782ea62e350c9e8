package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

var itemsBase = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newItemsUser(t *testing.T, st *store.Store, guest bool) string {
	t.Helper()
	id := uuid.NewString()
	u := &aimg.User{ID: id, Domain: "localhost", IsGuest: guest, CreatedAt: itemsBase, UpdatedAt: itemsBase}
	if !guest {
		u.Email = id + "@example.com"
		u.Username = "u" + id[:8]
	}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return id
}

// testItem is a completed image Item of userID created at itemsBase+offset.
func testItem(userID string, offset time.Duration) *aimg.Item {
	created := itemsBase.Add(offset)
	return &aimg.Item{
		ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
		MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", Prompt: "a cat",
		Params: aimg.GenerationParams{Steps: 20, Seed: 1, Sampler: "Euler", CFGScale: 7, Width: 512, Height: 512},
		FileID: uuid.NewString(), CreatedAt: created, UpdatedAt: created, CompletedAt: &created,
	}
}

func insertItems(t *testing.T, st *store.Store, items ...*aimg.Item) {
	t.Helper()
	if err := st.InsertItems(context.Background(), items); err != nil {
		t.Fatalf("insert items: %v", err)
	}
}

func ids(items []*aimg.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// walk pages through the listing from index, returning every id in order.
func walk(t *testing.T, st *store.Store, userID string, f aimg.ItemFilter, limit int, reverse bool) []string {
	t.Helper()
	var all []string
	p := aimg.Page{Limit: limit, Reverse: reverse}
	for range 10000 {
		page, err := st.ListCreations(context.Background(), userID, f, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > limit {
			t.Fatalf("page of %d Items, limit %d", len(page.Items), limit)
		}
		all = append(all, ids(page.Items)...)
		if page.Next == nil {
			return all
		}
		if len(page.Items) != limit {
			t.Fatalf("short page (%d < %d) with a next index", len(page.Items), limit)
		}
		p.Index = *page.Next
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestCreatedAtIsUniquePerUser(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, other := newItemsUser(t, st, false), newItemsUser(t, st, false)
		// Four Items of one batch in the same millisecond, then one asking for an earlier time.
		a, b, c, d := testItem(u, 0), testItem(u, 0), testItem(u, 0), testItem(u, 0)
		insertItems(t, st, a, b, c, d)
		late := testItem(u, -time.Hour)
		insertItems(t, st, late)
		want := []time.Time{itemsBase, itemsBase.Add(time.Millisecond), itemsBase.Add(2 * time.Millisecond),
			itemsBase.Add(3 * time.Millisecond), itemsBase.Add(4 * time.Millisecond)}
		for i, it := range []*aimg.Item{a, b, c, d, late} {
			got, err := st.ItemByID(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.CreatedAt.Equal(want[i]) || !it.CreatedAt.Equal(want[i]) {
				t.Errorf("item %d created_at %v (returned %v), want %v", i, got.CreatedAt, it.CreatedAt, want[i])
			}
		}
		// Another user's Items keep their own times.
		o := testItem(other, 0)
		insertItems(t, st, o)
		if !o.CreatedAt.Equal(itemsBase) {
			t.Errorf("other user's Item moved to %v", o.CreatedAt)
		}
		// The unique index rejects an insert that ignores the rule.
		err := st.ExecForTest(ctx, `INSERT INTO items (id, user_id, batch_id, mtype, media_type, status, model_id, prompt,
			created_at, updated_at) VALUES ($1, $2, 'b', 'image', 'StaticImage', 'queued', 'f222', 'p', $3, $3)`,
			uuid.NewString(), u, itemsBase.UnixMilli())
		if err == nil {
			t.Fatal("a duplicate created_at for one user was accepted")
		}
	})
}

func TestCreatedAtConcurrentInserts(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		u := newItemsUser(t, st, false)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				batch := []*aimg.Item{testItem(u, 0), testItem(u, 0), testItem(u, 0)}
				errs <- st.InsertItems(context.Background(), batch)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent insert: %v", err)
			}
		}
		if got := walk(t, st, u, aimg.ItemFilter{}, 7, false); len(got) != 24 {
			t.Fatalf("listed %d Items, want 24", len(got))
		}
	})
}

func TestListCreationsPagesExactly(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, other := newItemsUser(t, st, false), newItemsUser(t, st, false)
		var all []*aimg.Item
		for i := range 53 {
			// Groups of four wanting the same millisecond, as a batch does.
			all = append(all, testItem(u, time.Duration(i/4)*time.Millisecond))
		}
		insertItems(t, st, all...)
		insertItems(t, st, testItem(other, 0), testItem(other, time.Second))
		deleted := testItem(u, time.Minute)
		now := itemsBase.Add(2 * time.Minute)
		deleted.DeletedAt = &now
		insertItems(t, st, deleted)

		newestFirst := ids(all)
		slices.Reverse(newestFirst)
		for _, limit := range []int{1, 4, 5, 52, 53, 54, 1000} {
			if got := walk(t, st, u, aimg.ItemFilter{}, limit, false); !slices.Equal(got, newestFirst) {
				t.Fatalf("limit %d forward: got %d ids %v\nwant %v", limit, len(got), got, newestFirst)
			}
			if got := walk(t, st, u, aimg.ItemFilter{}, limit, true); !slices.Equal(got, ids(all)) {
				t.Fatalf("limit %d reverse: got %v\nwant %v", limit, got, ids(all))
			}
		}

		// Back from a page: reverse from the newest Item of page 3 returns page 2, oldest first.
		p3, err := st.ListCreations(ctx, u, aimg.ItemFilter{}, aimg.Page{Limit: 5, Index: all[43].CreatedAt.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p3.Items); !slices.Equal(got, newestFirst[10:15]) {
			t.Fatalf("page 3 = %v, want %v", got, newestFirst[10:15])
		}
		back, err := st.ListCreations(ctx, u, aimg.ItemFilter{}, aimg.Page{Limit: 5, Reverse: true, Index: p3.Items[0].CreatedAt.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(newestFirst[5:10])
		slices.Reverse(want)
		if got := ids(back.Items); !slices.Equal(got, want) {
			t.Fatalf("reverse page = %v, want %v", got, want)
		}

		// skipCount on top of the keyset.
		sk, err := st.ListCreations(ctx, u, aimg.ItemFilter{}, aimg.Page{Limit: 10, Skip: 48})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(sk.Items); !slices.Equal(got, newestFirst[48:]) || sk.Next != nil {
			t.Fatalf("skip 48 = %v next %v, want %v and no next", got, sk.Next, newestFirst[48:])
		}
		sk, err = st.ListCreations(ctx, u, aimg.ItemFilter{}, aimg.Page{Limit: 10, Skip: 10, Index: all[40].CreatedAt.UnixMilli()})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(sk.Items); !slices.Equal(got, newestFirst[23:33]) || sk.Next == nil || *sk.Next != all[20].CreatedAt.UnixMilli() {
			t.Fatalf("skip 10 below index = %v next %v, want %v", got, sk.Next, newestFirst[23:33])
		}

		// An index older than every Item: empty page, no next.
		empty, err := st.ListCreations(ctx, u, aimg.ItemFilter{}, aimg.Page{Limit: 10, Index: 1})
		if err != nil || len(empty.Items) != 0 || empty.Next != nil {
			t.Fatalf("index 1: %v %v %v", empty.Items, empty.Next, err)
		}
	})
}

func TestListCreationsFilters(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newItemsUser(t, st, false)
		img := testItem(u, 0)
		vid := testItem(u, time.Second)
		vid.MType, vid.MediaType = aimg.MTypeVideo, "Video"
		inFolder := testItem(u, 2*time.Second)
		inFolder.FolderID = "f-1"
		inPublic := testItem(u, 3*time.Second)
		inPublic.FolderID, inPublic.IsPublic, inPublic.PublicApprovalStatus = "p-1", true, aimg.ApprovalApproved
		pending := testItem(u, 4*time.Second)
		pending.PublicApprovalStatus = aimg.ApprovalPending
		queued := testItem(u, 5*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		insertItems(t, st, img, vid, inFolder, inPublic, pending, queued)

		yes, no := true, false
		cases := []struct {
			name string
			f    aimg.ItemFilter
			want []*aimg.Item
		}{
			{"all", aimg.ItemFilter{}, []*aimg.Item{queued, pending, inPublic, inFolder, vid, img}},
			{"video", aimg.ItemFilter{MType: "video"}, []*aimg.Item{vid}},
			{"image", aimg.ItemFilter{MType: "image"}, []*aimg.Item{queued, pending, inPublic, inFolder, img}},
			{"root", aimg.ItemFilter{FolderID: aimg.RootFolder}, []*aimg.Item{queued, pending, vid, img}},
			{"folder", aimg.ItemFilter{FolderID: "f-1"}, []*aimg.Item{inFolder}},
			{"unknown folder", aimg.ItemFilter{FolderID: "nope"}, nil},
			{"public", aimg.ItemFilter{IsPublic: &yes}, []*aimg.Item{inPublic}},
			{"not public", aimg.ItemFilter{IsPublic: &no}, []*aimg.Item{queued, pending, inFolder, vid, img}},
			{"pending", aimg.ItemFilter{Approval: aimg.ApprovalPending}, []*aimg.Item{pending}},
			{"none", aimg.ItemFilter{Approval: aimg.ApprovalNone}, []*aimg.Item{queued, inFolder, vid, img}},
			{"root images not public", aimg.ItemFilter{FolderID: "root", MType: "image", IsPublic: &no}, []*aimg.Item{queued, pending, img}},
		}
		for _, c := range cases {
			page, err := st.ListCreations(ctx, u, c.f, aimg.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(page.Items), ids(c.want); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", c.name, got, want)
			}
		}

		counts := func() [4]int64 {
			t.Helper()
			var out [4]int64
			var err error
			if out[0], err = st.CountItems(ctx, u); err != nil {
				t.Fatal(err)
			}
			if out[1], err = st.CountRootItems(ctx, u); err != nil {
				t.Fatal(err)
			}
			if out[2], err = st.CountFolderItems(ctx, u, "f-1"); err != nil {
				t.Fatal(err)
			}
			if out[3], err = st.CountFolderItems(ctx, u, "p-1"); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := counts(); got != [4]int64{6, 4, 1, 1} {
			t.Fatalf("counts %v, want [6 4 1 1]", got)
		}
		// The trigger follows deletes, Folder moves, restores and hard deletes.
		mustExec(t, st, `UPDATE items SET deleted_at = 1 WHERE id = $1`, img.ID)
		mustExec(t, st, `UPDATE items SET folder_id = 'f-1' WHERE id = $1`, vid.ID)
		if got := counts(); got != [4]int64{5, 2, 2, 1} {
			t.Fatalf("after delete and move: counts %v, want [5 2 2 1]", got)
		}
		mustExec(t, st, `UPDATE items SET deleted_at = NULL, folder_id = NULL WHERE id = $1`, img.ID)
		mustExec(t, st, `DELETE FROM items WHERE id = $1`, inPublic.ID)
		mustExec(t, st, `UPDATE items SET prompt = 'x' WHERE id = $1`, inFolder.ID)
		if got := counts(); got != [4]int64{5, 3, 2, 0} {
			t.Fatalf("after restore and hard delete: counts %v, want [5 3 2 0]", got)
		}
		if n, err := st.CountItems(ctx, uuid.NewString()); err != nil || n != 0 {
			t.Fatalf("unknown user count %d %v", n, err)
		}
	})
}

func mustExec(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	if err := st.ExecForTest(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestLastCompletedAndBatch(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, other := newItemsUser(t, st, false), newItemsUser(t, st, false)
		if _, err := st.LastCompleted(ctx, u, ""); !aimg.IsNotFound(err) {
			t.Fatalf("no Items: %v, want not found", err)
		}
		img := testItem(u, 0)
		vid := testItem(u, time.Second)
		vid.MType = aimg.MTypeVideo
		later := itemsBase.Add(time.Hour)
		img.CompletedAt = &later // finished after the video though created before
		queued := testItem(u, time.Minute)
		queued.Status, queued.CompletedAt = aimg.StatusQueued, nil
		insertItems(t, st, img, vid, queued, testItem(other, 2*time.Hour))
		for mtype, want := range map[string]string{"": img.ID, "image": img.ID, "video": vid.ID} {
			got, err := st.LastCompleted(ctx, u, mtype)
			if err != nil || got.ID != want {
				t.Errorf("last completed %q = %v %v, want %s", mtype, got, err, want)
			}
		}

		batch := uuid.NewString()
		var b []*aimg.Item
		for range 4 {
			it := testItem(u, 3*time.Hour)
			it.BatchID = batch
			b = append(b, it)
		}
		foreign := testItem(other, 3*time.Hour)
		foreign.BatchID = batch
		insertItems(t, st, b...)
		insertItems(t, st, foreign)
		got, err := st.BatchItems(ctx, u, batch)
		if err != nil || !slices.Equal(ids(got), ids(b)) {
			t.Fatalf("batch = %v %v, want %v", ids(got), err, ids(b))
		}
		got, err = st.BatchItems(ctx, "", batch)
		if err != nil || len(got) != 5 {
			t.Fatalf("batch for admins = %v %v, want 5 Items", ids(got), err)
		}
		got, err = st.BatchItems(ctx, u, uuid.NewString())
		if err != nil || len(got) != 0 {
			t.Fatalf("unknown batch = %v %v", got, err)
		}
	})
}

func TestMoveGuestItems(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		guest, user := newItemsUser(t, st, true), newItemsUser(t, st, false)
		mine := []*aimg.Item{testItem(user, 0), testItem(user, time.Millisecond), testItem(user, 5*time.Millisecond)}
		theirs := []*aimg.Item{testItem(guest, 0), testItem(guest, time.Millisecond), testItem(guest, 2*time.Millisecond), testItem(guest, time.Hour)}
		insertItems(t, st, mine...)
		insertItems(t, st, theirs...)
		mustExec(t, st, `INSERT INTO jobs (id, queue_id, model_id, user_id, batch_id, kind, status, enqueued_at)
			VALUES ('j1', 'f222-p0-gen', 'f222', $1, $2, 'image', 'queued', 1)`, guest, theirs[0].BatchID)
		mustExec(t, st, `INSERT INTO idempotency_keys (user_id, key, response, created_at) VALUES
			($1, 'guest-only', '{"g":1}', 1), ($1, 'both', '{"g":2}', 1), ($2, 'both', '{"u":2}', 1)`, guest, user)

		for range 2 { // the second move finds nothing to do
			if err := st.MoveGuestItemsForTest(ctx, guest, user); err != nil {
				t.Fatal(err)
			}
		}
		got := walk(t, st, user, aimg.ItemFilter{}, 3, false)
		if len(got) != 7 {
			t.Fatalf("user lists %d Items after the move, want 7", len(got))
		}
		seen := map[int64]bool{}
		for _, id := range got {
			it, err := st.ItemByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if it.UserID != user || seen[it.CreatedAt.UnixMilli()] {
				t.Fatalf("Item %s: owner %s, created_at %v repeated=%v", id, it.UserID, it.CreatedAt, seen[it.CreatedAt.UnixMilli()])
			}
			seen[it.CreatedAt.UnixMilli()] = true
		}
		// Colliding guest Items moved to the next free milliseconds, in their order.
		for i, wantMS := range []int64{2, 3, 4, 3600000} {
			it, _ := st.ItemByID(ctx, theirs[i].ID)
			if d := it.CreatedAt.Sub(itemsBase).Milliseconds(); d != wantMS {
				t.Errorf("guest Item %d at +%dms, want +%dms", i, d, wantMS)
			}
		}
		if n, _ := st.CountItems(ctx, user); n != 7 {
			t.Errorf("user count %d, want 7", n)
		}
		if n, _ := st.CountItems(ctx, guest); n != 0 {
			t.Errorf("guest count %d, want 0", n)
		}
		if page, _ := st.ListCreations(ctx, guest, aimg.ItemFilter{}, aimg.Page{Limit: 10}); len(page.Items) != 0 {
			t.Errorf("guest still lists %d Items", len(page.Items))
		}
		if n, err := st.UserJobCountForTest(ctx, user); err != nil || n != 1 {
			t.Errorf("jobs moved to the user: %d %v, want 1", n, err)
		}
		if n, err := st.UserJobCountForTest(ctx, guest); err != nil || n != 0 {
			t.Errorf("jobs left with the guest: %d %v, want 0", n, err)
		}
		// Idempotency keys follow, except one the account already has.
		for _, k := range []struct{ user, key, want string }{
			{user, "guest-only", `{"g":1}`}, {user, "both", `{"u":2}`}, {guest, "both", `{"g":2}`},
		} {
			var resp string
			if err := st.QueryRowForTest(ctx, `SELECT response FROM idempotency_keys WHERE user_id = $1 AND key = $2`, k.user, k.key).Scan(&resp); err != nil || resp != k.want {
				t.Errorf("key %s of %s: %q %v, want %s", k.key, k.user, resp, err, k.want)
			}
		}
	})
}
