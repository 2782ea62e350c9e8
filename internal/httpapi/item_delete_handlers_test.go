package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// bulkOK decodes a 200 bulk answer into outcomes by id, checking there is
// one per distinct id.
func bulkOK(t *testing.T, env *testsupport.Envelope, n int) map[string]outcome {
	t.Helper()
	testsupport.ExpectOK(t, env)
	var list []outcome
	env.Decode(t, &list)
	if n >= 0 && len(list) != n {
		t.Fatalf("%d outcomes, want %d: %s", len(list), n, env.Payload)
	}
	out := map[string]outcome{}
	for _, o := range list {
		out[o.ID] = o
	}
	return out
}

func deleteItems(t *testing.T, srv *testsupport.Server, session, adminKey, query string) *testsupport.Envelope {
	t.Helper()
	return srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteItems?" + query, SessionID: session, AdminKey: adminKey})
}

func idsQuery(ids ...string) string { return "imageIDs=" + strings.Join(ids, ",") }

// wantLiveCounts checks the user's itemCount and rootFolderItemCount as
// stored (item_counts, what getSelfUser shows) against a recount of the
// items table and against want.
func wantLiveCounts(t *testing.T, srv *testsupport.Server, userID string, all, root int64) {
	t.Helper()
	ctx := context.Background()
	st := srv.App.Store
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
	if n != ra || r != rr || n != all || r != root {
		t.Fatalf("user %s: stored counts %d/%d, recount %d/%d, want %d/%d", userID, n, r, ra, rr, all, root)
	}
}

func selfCounts(t *testing.T, srv *testsupport.Server, session string) (all, root int64) {
	t.Helper()
	env := srv.Get(t, "/api/getSelfUser", session)
	testsupport.ExpectOK(t, env)
	var v struct {
		ItemCount           int64 `json:"itemCount"`
		RootFolderItemCount int64 `json:"rootFolderItemCount"`
	}
	env.Decode(t, &v)
	return v.ItemCount, v.RootFolderItemCount
}

func storedItem(t *testing.T, srv *testsupport.Server, id string) *aimg.Item {
	t.Helper()
	it, err := srv.App.Store.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// The owner deletes their Items: the completed one goes (out of its Folder,
// off getItem and getMyCreations, off the counters), and each Item that
// cannot go says why: protected, queued, generating, already deleted,
// unknown; nothing else changes.
func TestDeleteItemsOwn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		done, foldered, prot := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second), apiItem(a.UserID, 2*time.Second)
		foldered.FolderID = uuid.NewString()
		added := itemTime
		foldered.FolderAddedAt = &added
		prot.IsProtected = true
		queued, running := apiItem(a.UserID, 3*time.Second), apiItem(a.UserID, 4*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		running.Status, running.CompletedAt, running.FileID = aimg.StatusProcessing, nil, ""
		deleted := apiItem(a.UserID, 5*time.Second)
		gone := itemTime.Add(time.Hour)
		deleted.DeletedAt = &gone
		putItems(t, srv, done, foldered, prot, queued, running, deleted)
		wantLiveCounts(t, srv, a.UserID, 5, 4)
		unknown := uuid.NewString()

		got := bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(done.ID, foldered.ID, prot.ID, queued.ID, running.ID, deleted.ID, unknown, "not-an-id", done.ID)), 8)
		wantResult(t, got, done.ID, "")
		wantResult(t, got, foldered.ID, "")
		wantResult(t, got, prot.ID, "Item is protected")
		wantResult(t, got, queued.ID, "Item is still queued or generating: cancel it instead")
		wantResult(t, got, running.ID, "Item is still queued or generating: cancel it instead")
		wantResult(t, got, deleted.ID, "Item is already deleted")
		wantResult(t, got, unknown, "Item not found")
		wantResult(t, got, "not-an-id", "Item not found")

		wantLiveCounts(t, srv, a.UserID, 3, 3)
		if all, root := selfCounts(t, srv, a.SessionID); all != 3 || root != 3 {
			t.Fatalf("getSelfUser: itemCount %d rootFolderItemCount %d, want 3 3", all, root)
		}
		for _, id := range []string{done.ID, foldered.ID} {
			testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+id, a.SessionID), 404, "Item not found")
			if it := storedItem(t, srv, id); it.DeletedAt == nil || it.FolderID != "" {
				t.Fatalf("%s: deletedAt %v folder %q, want deleted out of its Folder", id, it.DeletedAt, it.FolderID)
			}
		}
		imgs, _ := creations(t, srv, a.SessionID, "")
		for _, img := range imgs {
			if img.ID == done.ID || img.ID == foldered.ID {
				t.Fatalf("getMyCreations still lists the deleted Item %s", img.ID)
			}
		}
		if len(imgs) != 3 {
			t.Fatalf("getMyCreations lists %d Items, want 3", len(imgs))
		}
		for _, it := range []*aimg.Item{prot, queued, running} {
			if storedItem(t, srv, it.ID).DeletedAt != nil {
				t.Fatalf("refused Item %s was deleted", it.ID)
			}
		}
		// Admins still see the deleted Item (to restore it).
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getItem?imageID=" + done.ID, AdminKey: testsupport.AdminKey}))
	})
}

// B cannot delete A's Items: a private one is "not found" (its existence
// does not leak), a publicly visible one needs its owner; nothing changes.
func TestDeleteItemsOtherUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		private, public := apiItem(a.UserID, 0), publicItem(a.UserID, time.Second)
		putItems(t, srv, private, public)

		got := bulkOK(t, deleteItems(t, srv, b.SessionID, "", idsQuery(private.ID, public.ID)), 2)
		wantResult(t, got, private.ID, "Item not found")
		wantResult(t, got, public.ID, "Only the Item's owner can delete it")
		for _, it := range []*aimg.Item{private, public} {
			if s := storedItem(t, srv, it.ID); s.DeletedAt != nil || s.FolderID != it.FolderID {
				t.Fatalf("%s changed by another user's deleteItems", it.ID)
			}
		}
		wantLiveCounts(t, srv, a.UserID, 2, 1)
		// B may not delete all of A's Items either.
		testsupport.ExpectError(t, deleteItems(t, srv, b.SessionID, "", "userID="+a.UserID), 403, "userID: only Admins")
		wantLiveCounts(t, srv, a.UserID, 2, 1)
	})
}

// Bad lists are a 400 naming imageIDs and change nothing.
func TestDeleteItemsBadLists(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		it := apiItem(a.UserID, 0)
		putItems(t, srv, it)
		testsupport.ExpectError(t, deleteItems(t, srv, a.SessionID, "", ""), 400, "imageIDs: is required")
		testsupport.ExpectError(t, deleteItems(t, srv, a.SessionID, "", "imageIDs=,%20,"), 400, "imageIDs: is required")
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		many[0] = it.ID
		testsupport.ExpectError(t, deleteItems(t, srv, a.SessionID, "", idsQuery(many...)), 400, "imageIDs: at most 1000 Items per call (got 1001)")
		bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(many[1:]...)), 1000) // 1,000 unknown ids: fine
		if storedItem(t, srv, it.ID).DeletedAt != nil {
			t.Fatal("a refused call deleted an Item")
		}
		for _, body := range []any{map[string]any{}, map[string]any{"imageIDs": 5}, map[string]any{"imageIDs": many}} {
			env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setProtected", AdminKey: testsupport.AdminKey, Body: body})
			if env.Status != 400 || !strings.Contains(env.ErrorMessage, "imageIDs") {
				t.Fatalf("setProtected %v: status %d %q, want 400 naming imageIDs", body, env.Status, env.ErrorMessage)
			}
		}
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{}), 400, "imageIDs: is required")
		if s := storedItem(t, srv, it.ID); s.IsProtected || s.DeletedAt != nil {
			t.Fatal("a refused call changed an Item")
		}
	})
}

// deleteItems with userID: the caller's own Items only with a PRO tier
// above 2 (protected, queued Items stay), any user's for Admins.
func TestDeleteAllItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y, prot, queued := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second), apiItem(a.UserID, 2*time.Second), apiItem(a.UserID, 3*time.Second)
		prot.IsProtected = true
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		bx := apiItem(b.UserID, 0)
		putItems(t, srv, x, y, prot, queued, bx)

		testsupport.ExpectError(t, deleteItems(t, srv, a.SessionID, "", "userID="+a.UserID+"&"+idsQuery(x.ID)), 403, "PRO tier above 2")
		wantLiveCounts(t, srv, a.UserID, 4, 4)
		setTier(t, srv, a.UserID, 3, nil)
		got := bulkOK(t, deleteItems(t, srv, a.SessionID, "", "userID="+a.UserID+"&imageIDs="+bx.ID), 4)
		wantResult(t, got, x.ID, "")
		wantResult(t, got, y.ID, "")
		wantResult(t, got, prot.ID, "Item is protected")
		wantResult(t, got, queued.ID, "Item is still queued or generating: cancel it instead")
		wantLiveCounts(t, srv, a.UserID, 2, 2)
		wantLiveCounts(t, srv, b.UserID, 1, 1) // imageIDs was ignored

		got = bulkOK(t, deleteItems(t, srv, "", testsupport.AdminKey, "userID="+b.UserID), 1)
		wantResult(t, got, bx.ID, "")
		wantLiveCounts(t, srv, b.UserID, 0, 0)
		testsupport.ExpectError(t, deleteItems(t, srv, "", testsupport.AdminKey, "userID="+uuid.NewString()), 404, "User not found")
	})
}

// Admins delete anyone's Items by id, restore them (into the root Folder)
// by id or by user, except an Item that is not deleted or whose owner is
// deleted; setProtected toggles and says the new status, and a protected
// Item cannot be deleted by its owner or an Admin.
func TestAdminDeleteRestoreProtect(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		ctx := context.Background()
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second)
		y.FolderID = uuid.NewString()
		added := itemTime
		y.FolderAddedAt = &added
		bx := apiItem(b.UserID, 0)
		putItems(t, srv, x, y, bx)

		got := bulkOK(t, deleteItems(t, srv, b.SessionID, testsupport.AdminKey, idsQuery(x.ID, y.ID, bx.ID)), 3)
		for _, id := range []string{x.ID, y.ID, bx.ID} {
			wantResult(t, got, id, "")
		}
		wantLiveCounts(t, srv, a.UserID, 0, 0)

		got = bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"imageIDs": []string{y.ID, "nope"}}), 2)
		wantResult(t, got, y.ID, "")
		wantResult(t, got, "nope", "Item not found")
		if it := storedItem(t, srv, y.ID); it.DeletedAt != nil || it.FolderID != "" {
			t.Fatalf("restored Item: deletedAt %v folder %q, want live in the root Folder", it.DeletedAt, it.FolderID)
		}
		wantLiveCounts(t, srv, a.UserID, 1, 1)
		testsupport.ExpectOK(t, srv.Get(t, "/api/getItem?imageID="+y.ID, a.SessionID))
		wantResult(t, bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"imageIDs": y.ID}), 1), y.ID, "Item is not deleted")

		// By user: every deleted Item of that user (imageIDs ignored).
		got = bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"userID": a.UserID, "imageIDs": []string{bx.ID}}), 1)
		wantResult(t, got, x.ID, "")
		wantLiveCounts(t, srv, a.UserID, 2, 2)
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"userID": uuid.NewString()}), 404, "User not found")

		// The owner deleted: restore refused, by id and by user.
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteUser", SessionID: b.SessionID}))
		wantResult(t, bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"imageIDs": []string{bx.ID}}), 1), bx.ID, "The Item's owner is deleted: restore the owner first")
		wantResult(t, bulkOK(t, srv.AdminPost(t, "/api/restoreItems", map[string]any{"userID": b.UserID}), 1), bx.ID, "The Item's owner is deleted: restore the owner first")
		if storedItem(t, srv, bx.ID).DeletedAt == nil {
			t.Fatal("an Item of a deleted user was restored")
		}

		// setProtected toggles; the new status is the message.
		env := srv.AdminPost(t, "/api/setProtected", map[string]any{"imageIDs": []string{x.ID, "nope"}})
		testsupport.ExpectOK(t, env)
		var prot []outcome
		env.Decode(t, &prot)
		if len(prot) != 2 || !prot[0].Success || prot[0].Message == nil || *prot[0].Message != "true" ||
			prot[1].Success || prot[1].Message == nil || *prot[1].Message != "Item not found" {
			t.Fatalf("setProtected: %s", env.Payload)
		}
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(x.ID)), 1), x.ID, "Item is protected")
		wantResult(t, bulkOK(t, deleteItems(t, srv, "", testsupport.AdminKey, idsQuery(x.ID)), 1), x.ID, "Item is protected")
		if !storedItem(t, srv, x.ID).IsProtected || storedItem(t, srv, x.ID).DeletedAt != nil {
			t.Fatal("protected Item changed")
		}
		env = srv.AdminPost(t, "/api/setProtected", map[string]any{"imageIDs": x.ID})
		env.Decode(t, &prot)
		if len(prot) != 1 || !prot[0].Success || *prot[0].Message != "false" {
			t.Fatalf("setProtected again: %s", env.Payload)
		}
		wantResult(t, bulkOK(t, deleteItems(t, srv, a.SessionID, "", idsQuery(x.ID)), 1), x.ID, "")
		_ = ctx
	})
}

// deleteUser with deleteItems=true soft-deletes the user's Items (not the
// protected ones); without it the Items stay.
func TestDeleteUserDeletesItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y, prot := apiItem(a.UserID, 0), apiItem(a.UserID, time.Second), apiItem(a.UserID, 2*time.Second)
		prot.IsProtected = true
		bx := apiItem(b.UserID, 0)
		putItems(t, srv, x, y, prot, bx)

		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteUser?deleteItems=true", SessionID: a.SessionID}))
		for _, it := range []*aimg.Item{x, y} {
			if storedItem(t, srv, it.ID).DeletedAt == nil {
				t.Fatalf("%s not deleted with its user", it.ID)
			}
		}
		if storedItem(t, srv, prot.ID).DeletedAt != nil {
			t.Fatal("protected Item deleted with its user")
		}
		wantLiveCounts(t, srv, a.UserID, 1, 1)

		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteUser?deleteItems=false", SessionID: b.SessionID}))
		if storedItem(t, srv, bx.ID).DeletedAt != nil {
			t.Fatal("deleteItems=false deleted the Item")
		}
		wantLiveCounts(t, srv, b.UserID, 1, 1)
	})
}

// A guest deletes its own Items like any user; an anonymous session that
// owns nothing deletes nothing; neither may use restoreItems or setProtected.
func TestDeleteItemsGuests(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		ctx := context.Background()
		a := testsupport.SignUp(t, srv, "ada@example.com")
		adas := apiItem(a.UserID, 0)
		session, now := uuid.NewString(), srv.Clock.Now()
		guest := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: itemTime, UpdatedAt: itemTime}
		if _, err := srv.App.Store.GuestSession(ctx, &aimg.Session{ID: session, CreatedAt: now, LastSeenAt: now}, guest, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mine, kept := apiItem(guest.ID, 0), apiItem(guest.ID, time.Second)
		putItems(t, srv, adas, mine, kept)

		anonymous := uuid.NewString()
		wantResult(t, bulkOK(t, deleteItems(t, srv, anonymous, "", idsQuery(kept.ID)), 1), kept.ID, "Item not found")
		got := bulkOK(t, deleteItems(t, srv, session, "", idsQuery(mine.ID, adas.ID)), 2)
		wantResult(t, got, mine.ID, "")
		wantResult(t, got, adas.ID, "Item not found")
		wantLiveCounts(t, srv, guest.ID, 1, 1)
		wantLiveCounts(t, srv, a.UserID, 1, 1)
		for _, op := range []string{"restoreItems", "setProtected"} {
			env := srv.Post(t, "/api/"+op, session, map[string]any{"imageIDs": []string{mine.ID}})
			if env.Status != 401 && env.Status != 403 {
				t.Fatalf("%s by a guest: status %d, want 401 or 403", op, env.Status)
			}
		}
		if it := storedItem(t, srv, mine.ID); it.DeletedAt == nil || it.IsProtected {
			t.Fatal("a guest's restoreItems or setProtected changed the Item")
		}
	})
}
