package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// publicFolder stores a Public Folder of userID and returns its id.
func publicFolder(t *testing.T, srv *testsupport.Server, userID string) string {
	t.Helper()
	f := &aimg.Folder{ID: "p-" + uuid.NewString(), UserID: userID, Name: "gallery", CreatedAt: itemTime}
	if err := srv.App.Store.CreateFolder(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return f.ID
}

// publishedItem is an approved, public Item of userID inside folderID,
// put there at itemTime+published.
func publishedItem(userID, folderID string, offset, published time.Duration) *aimg.Item {
	it := approvalItem(userID, offset, aimg.ApprovalApproved, true)
	at := itemTime.Add(published)
	it.FolderID, it.FolderAddedAt = folderID, &at
	return it
}

type feedMeta struct {
	TotalCount          *int64  `json:"totalCount"`
	NextPaginationIndex *string `json:"nextPaginationIndex"`
	Count               int     `json:"count"`
}

func feed(t *testing.T, srv *testsupport.Server, path, session string) ([]string, feedMeta) {
	t.Helper()
	env := srv.Get(t, path, session)
	if env.Status != http.StatusOK || env.HasError {
		t.Fatalf("%s: %d %s", path, env.Status, env.Raw)
	}
	var items []apiImage
	env.Decode(t, &items)
	var meta feedMeta
	if len(env.Metadata) > 0 {
		if err := json.Unmarshal(env.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
		if !it.IsPublic || !it.IsPubliclyVisible || it.PublicApprovalStatus != nil && session == "" {
			t.Errorf("%s: Item %s shown as %+v", path, it.ID, it)
		}
	}
	return ids, meta
}

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

// The public feeds show exactly the publicly visible Items (public and in
// a Public Folder, not deleted) of users who are neither deleted nor at
// abuse level >= 2, to anyone, without a session; totalCount follows
// DECISIONS.md and ignores mtype.
func TestPublicCreationsShowOnlyPubliclyVisibleItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ada := testsupport.SignUp(t, srv, "ada@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")   // abuse level 2
		cleo := testsupport.SignUp(t, srv, "cleo@example.com") // deleted
		adaGallery, adaOther := publicFolder(t, srv, ada.UserID), publicFolder(t, srv, ada.UserID)
		bobGallery, cleoGallery := publicFolder(t, srv, bob.UserID), publicFolder(t, srv, cleo.UserID)

		a1 := publishedItem(ada.UserID, adaGallery, 1*time.Second, 30*time.Second)
		a2 := publishedItem(ada.UserID, adaGallery, 2*time.Second, 10*time.Second)
		a3 := publishedItem(ada.UserID, adaOther, 3*time.Second, 20*time.Second)
		a3.MType, a3.MediaType = aimg.MTypeVideo, "Video"
		notInFolder := approvalItem(ada.UserID, 4*time.Second, aimg.ApprovalApproved, true)
		private := approvalItem(ada.UserID, 5*time.Second, aimg.ApprovalPending, false)
		deleted := publishedItem(ada.UserID, adaGallery, 6*time.Second, 40*time.Second)
		bobs := publishedItem(bob.UserID, bobGallery, 7*time.Second, 50*time.Second)
		cleos := publishedItem(cleo.UserID, cleoGallery, 8*time.Second, 60*time.Second)
		putItems(t, srv, a1, a2, a3, notInFolder, private, deleted, bobs, cleos)
		if env := srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteItems?imageIDs=" + deleted.ID, SessionID: ada.SessionID}); env.HasError {
			t.Fatalf("deleteItems: %s", env.Raw)
		}
		if env := srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": bob.UserID, "abuse": 2}); env.HasError {
			t.Fatalf("setUserAbuseLevel: %s", env.Raw)
		}
		if env := srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteUser", SessionID: cleo.SessionID}); env.HasError {
			t.Fatalf("deleteUser: %s", env.Raw)
		}

		ids, meta := feed(t, srv, "/api/getPublicCreations", "")
		wantIDs(t, "every public Item, newest first", ids, a3.ID, a2.ID, a1.ID)
		if meta.TotalCount == nil || *meta.TotalCount != 3 {
			t.Fatalf("totalCount %v, want 3", *meta.TotalCount)
		}
		ids, meta = feed(t, srv, "/api/getPublicCreations?mtype=image", ada.SessionID)
		wantIDs(t, "images", ids, a2.ID, a1.ID)
		if *meta.TotalCount != 3 {
			t.Fatalf("totalCount with mtype %d, want 3 (mtype is not counted)", *meta.TotalCount)
		}
		ids, meta = feed(t, srv, "/api/getPublicCreations?folderID="+adaGallery, "")
		wantIDs(t, "one Public Folder", ids, a2.ID, a1.ID)
		if *meta.TotalCount != 2 {
			t.Fatalf("Folder totalCount %d, want its imageCount 2", *meta.TotalCount)
		}
		ids, meta = feed(t, srv, "/api/getPublicCreations?userID="+ada.UserID, "")
		wantIDs(t, "one user", ids, a3.ID, a2.ID, a1.ID)
		if *meta.TotalCount != 3 {
			t.Fatalf("user totalCount %d, want publicItemCount 3", *meta.TotalCount)
		}
		for _, hidden := range []string{"userID=" + bob.UserID, "folderID=" + bobGallery, "folderID=" + cleoGallery} {
			ids, meta = feed(t, srv, "/api/getPublicCreations?"+hidden, "")
			wantIDs(t, hidden, ids)
			if *meta.TotalCount != 0 {
				t.Fatalf("%s: totalCount %d, want 0", hidden, *meta.TotalCount)
			}
		}
		// Latest: by publication time, without totalCount or Folder fields.
		ids, meta = feed(t, srv, "/api/getLatestItems", "")
		wantIDs(t, "latest", ids, a1.ID, a3.ID, a2.ID)
		if meta.TotalCount != nil {
			t.Fatalf("getLatestItems has totalCount %d", *meta.TotalCount)
		}
		env := srv.Get(t, "/api/getLatestItems?limit=1", "")
		var tiles []apiImage
		env.Decode(t, &tiles)
		if tiles[0].FolderID != nil || tiles[0].FolderAddedDate != nil {
			t.Fatalf("a latest Item shows its Folder: %s", env.Raw)
		}
		// Samples: only public Items, as many as asked.
		ids, _ = feed(t, srv, "/api/getSampleItems?limit=2", "")
		if len(ids) != 2 {
			t.Fatalf("getSampleItems?limit=2: %v", ids)
		}
		for _, id := range ids {
			if !slices.Contains([]string{a1.ID, a2.ID, a3.ID}, id) {
				t.Fatalf("sample %s is not a public Item", id)
			}
		}
		ids, _ = feed(t, srv, "/api/getSampleItems", "")
		slices.Sort(ids)
		want := []string{a1.ID, a2.ID, a3.ID}
		slices.Sort(want)
		wantIDs(t, "every sample", ids, want...)
	})
}

// Bad parameters are 400s naming them; an unknown Folder or user is 404.
func TestPublicFeedsBadInput(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"/api/getPublicCreations?folderID=" + uuid.NewString(), 400, "folderID"},
			{"/api/getPublicCreations?folderID=p-" + uuid.NewString(), 404, "Public Folder not found"},
			{"/api/getPublicCreations?userID=" + uuid.NewString(), 404, "not found"},
			{"/api/getPublicCreations?mtype=gif", 400, "mtype"},
			{"/api/getPublicCreations?limit=1001", 400, "limit"},
			{"/api/getLatestItems?paginationIndex=yesterday", 400, "paginationIndex"},
			{"/api/getSampleItems?limit=0", 400, "limit"},
			{"/api/getSampleItems?limit=101", 400, "limit"},
			{"/api/getSampleItems?limit=x", 400, "limit"},
		} {
			testsupport.ExpectError(t, srv.Get(t, tc.path, ""), tc.status, tc.want)
		}
	})
}

// Pages follow each other without losing or repeating an Item, also when
// Items of two users share a millisecond at a page boundary.
func TestPublicCreationsPagination(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ada := testsupport.SignUp(t, srv, "ada@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		fa, fb := publicFolder(t, srv, ada.UserID), publicFolder(t, srv, bob.UserID)
		var all []*aimg.Item
		for i := range 7 {
			// Ada's and Bob's Items pairwise in the same millisecond.
			all = append(all, publishedItem(ada.UserID, fa, time.Duration(i)*time.Second, time.Duration(i)*time.Second),
				publishedItem(bob.UserID, fb, time.Duration(i)*time.Second, time.Duration(i)*time.Second))
		}
		putItems(t, srv, all...)
		for _, path := range []string{"/api/getPublicCreations", "/api/getLatestItems"} {
			seen := map[string]bool{}
			index := ""
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("%s: no last page", path)
				}
				ids, meta := feed(t, srv, path+"?limit=3&paginationIndex="+index, "")
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("%s: %s on two pages", path, id)
					}
					seen[id] = true
				}
				if meta.NextPaginationIndex == nil {
					break
				}
				index = *meta.NextPaginationIndex
			}
			if len(seen) != len(all) {
				t.Fatalf("%s: paged through %d Items, want %d", path, len(seen), len(all))
			}
		}
	})
}

// getItems lists every user's live Items for Admins, with filters; the
// pending filter is the review queue.
func TestGetItemsAdmin(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ada := testsupport.SignUp(t, srv, "ada@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		a1 := approvalItem(ada.UserID, time.Second, aimg.ApprovalPending, false)
		a2 := apiItem(ada.UserID, 2*time.Second)
		b1 := approvalItem(bob.UserID, 3*time.Second, aimg.ApprovalPending, false)
		b2 := apiItem(bob.UserID, 4*time.Second)
		b2.FolderID = uuid.NewString()
		gone := apiItem(bob.UserID, 5*time.Second)
		putItems(t, srv, a1, a2, b1, b2, gone)
		srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteItems?imageIDs=" + gone.ID, SessionID: bob.SessionID})
		get := func(query string) []string {
			env := srv.AdminGet(t, "/api/getItems"+query)
			if env.HasError {
				t.Fatalf("getItems%s: %s", query, env.Raw)
			}
			var items []apiImage
			env.Decode(t, &items)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
				if it.PublicApprovalStatus == nil {
					t.Fatalf("an Admin is not shown publicApprovalStatus: %+v", it)
				}
			}
			return ids
		}
		wantIDs(t, "every live Item", get(""), b2.ID, b1.ID, a2.ID, a1.ID)
		wantIDs(t, "one user", get("?userID="+ada.UserID), a2.ID, a1.ID)
		wantIDs(t, "review queue", get("?publicApprovalStatus=pending"), b1.ID, a1.ID)
		wantIDs(t, "root Folder", get("?folderID=root"), b1.ID, a2.ID, a1.ID)
		wantIDs(t, "a Folder", get("?folderID="+b2.FolderID), b2.ID)
		wantIDs(t, "page", get("?limit=1&paginationIndex="+strconv.FormatInt(b1.CreatedAt.UnixMilli(), 10)), a2.ID)
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getItems?isPublic=maybe"), 400, "isPublic")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getItems?publicApprovalStatus=done"), 400, "publicApprovalStatus")
		testsupport.ExpectError(t, srv.Get(t, "/api/getItems", ada.SessionID), 403, "X-Administration-Key")
	})
}

// A view counts once per viewer and hour, never the owner's; an Item
// nobody else may see counts no views.
func TestViewCount(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ada := testsupport.SignUp(t, srv, "ada@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		cleo := testsupport.SignUp(t, srv, "cleo@example.com")
		pub := publishedItem(ada.UserID, publicFolder(t, srv, ada.UserID), time.Second, time.Second)
		putItems(t, srv, pub)
		views := func(session, path string) int64 {
			env := srv.Get(t, path+"?imageID="+pub.ID, session)
			var v struct {
				ViewCount int64 `json:"viewCount"`
			}
			env.Decode(t, &v)
			return v.ViewCount
		}
		for _, step := range []struct {
			session, path string
			want          int64
		}{
			{ada.SessionID, "/api/getItem", 0},
			{bob.SessionID, "/api/getItem", 1},
			{bob.SessionID, "/api/getItemDetails", 1},
			{cleo.SessionID, "/api/getItemDetails", 2},
			{ada.SessionID, "/api/getItemDetails", 2},
		} {
			if got := views(step.session, step.path); got != step.want {
				t.Fatalf("%s by %s: viewCount %d, want %d", step.path, step.session, got, step.want)
			}
		}
		if got := storedItem(t, srv, pub.ID).ViewCount; got != 2 {
			t.Fatalf("stored viewCount %d, want 2", got)
		}
	})
}

// migrateLibrary moves the live Items and the Folders to another user;
// deleted Items stay; counters follow; created_at stays unique for the
// receiver.
func TestMigrateLibrary(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		ctx := context.Background()
		ada := testsupport.SignUp(t, srv, "ada@example.com")
		bob := testsupport.SignUp(t, srv, "bob@example.com")
		folder := &aimg.Folder{ID: uuid.NewString(), UserID: ada.UserID, Name: "cats", CreatedAt: itemTime}
		if err := srv.App.Store.CreateFolder(ctx, folder); err != nil {
			t.Fatal(err)
		}
		a1, a2, gone := apiItem(ada.UserID, time.Second), apiItem(ada.UserID, 2*time.Second), apiItem(ada.UserID, 3*time.Second)
		a2.FolderID = folder.ID
		b1 := apiItem(bob.UserID, time.Second) // the same created_at as a1
		putItems(t, srv, a1, a2, gone, b1)
		srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteItems?imageIDs=" + gone.ID, SessionID: ada.SessionID})

		for _, tc := range []struct {
			body   map[string]any
			status int
			want   string
		}{
			{map[string]any{"destinationUserID": bob.UserID}, 400, "sourceUserID"},
			{map[string]any{"sourceUserID": ada.UserID}, 400, "destinationUserID"},
			{map[string]any{"sourceUserID": ada.UserID, "destinationUserID": ada.UserID}, 400, "destinationUserID"},
			{map[string]any{"sourceUserID": uuid.NewString(), "destinationUserID": bob.UserID}, 404, "sourceUserID"},
			{map[string]any{"sourceUserID": ada.UserID, "destinationUserID": uuid.NewString()}, 404, "destinationUserID"},
		} {
			testsupport.ExpectError(t, srv.AdminPost(t, "/api/migrateLibrary", tc.body), tc.status, tc.want)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/migrateLibrary", bob.SessionID,
			map[string]any{"sourceUserID": ada.UserID, "destinationUserID": bob.UserID}), 403, "X-Administration-Key")

		env := srv.AdminPost(t, "/api/migrateLibrary", map[string]any{"sourceUserID": ada.UserID, "destinationUserID": bob.UserID})
		var res struct {
			Success bool   `json:"success"`
			Message string `json:"message"`
		}
		env.Decode(t, &res)
		if !res.Success || res.Message != "Moved 2 Items and 1 Folders" {
			t.Fatalf("migrateLibrary: %s", env.Raw)
		}
		for _, id := range []string{a1.ID, a2.ID} {
			if it := storedItem(t, srv, id); it.UserID != bob.UserID {
				t.Fatalf("%s still belongs to %s", id, it.UserID)
			}
		}
		if it := storedItem(t, srv, gone.ID); it.UserID != ada.UserID {
			t.Fatal("a deleted Item moved")
		}
		if storedItem(t, srv, a1.ID).CreatedAt.Equal(b1.CreatedAt) {
			t.Fatal("two of Bob's Items share created_at")
		}
		if _, err := srv.App.Store.FolderByID(ctx, bob.UserID, folder.ID); err != nil {
			t.Fatalf("the Folder did not move: %v", err)
		}
		for user, want := range map[string]int64{ada.UserID: 0, bob.UserID: 3} {
			if n, _ := srv.App.Store.CountItems(ctx, user); n != want {
				t.Fatalf("itemCount of %s: %d, want %d", user, n, want)
			}
		}
		if n, _ := srv.App.Store.CountFolderItems(ctx, bob.UserID, folder.ID); n != 1 {
			t.Fatalf("the moved Folder's imageCount %d, want 1", n)
		}
	})
}

// The public feeds are rate limited per client address, Admins aside.
func TestPublicFeedsRateLimited(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{"publicFeeds:ip": {Requests: 3, Per: time.Hour, Burst: 3}}
	})
	for i, path := range []string{"/api/getPublicCreations", "/api/getLatestItems", "/api/getSampleItems"} {
		if env := srv.Get(t, path, ""); env.HasError {
			t.Fatalf("request %d: %s", i, env.Raw)
		}
	}
	testsupport.ExpectError(t, srv.Get(t, "/api/getLatestItems", ""), 429, "")
	if env := srv.AdminGet(t, "/api/getPublicCreations"); env.HasError {
		t.Fatalf("an Admin is limited: %s", env.Raw)
	}
}
