package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

func createPublicFolder(t *testing.T, srv *testsupport.Server, session, name string) apiFolder {
	t.Helper()
	env := srv.Post(t, "/api/createPublicFolder", session, map[string]any{"name": name})
	testsupport.ExpectOK(t, env)
	var f apiFolder
	env.Decode(t, &f)
	return f
}

func publicFolders(t *testing.T, srv *testsupport.Server, session, query string) ([]apiFolder, pageMeta) {
	t.Helper()
	env := srv.Get(t, "/api/getPublicFolders?"+query, session)
	testsupport.ExpectOK(t, env)
	var fs []apiFolder
	env.Decode(t, &fs)
	var m pageMeta
	if err := json.Unmarshal(env.Metadata, &m); err != nil {
		t.Fatal(err)
	}
	if fs == nil || m.TotalCount == nil {
		t.Fatalf("getPublicFolders %s: payload %s metadata %s", query, env.Payload, env.Metadata)
	}
	return fs, m
}

func publicFolderByID(t *testing.T, srv *testsupport.Server, session, id string) apiFolder {
	t.Helper()
	fs, _ := publicFolders(t, srv, session, "folderIDs="+id)
	if len(fs) != 1 {
		t.Fatalf("getPublicFolders folderIDs=%s: %d Folders", id, len(fs))
	}
	return fs[0]
}

// approvedItem is a completed, approved, public Item of userID.
func approvedItem(userID string, offset time.Duration) *aimg.Item {
	return approvalItem(userID, offset, aimg.ApprovalApproved, true)
}

func moveCall(t *testing.T, srv *testsupport.Server, session string, body map[string]any) *testsupport.Envelope {
	t.Helper()
	return srv.Post(t, "/api/moveItemsBetweenFolders", session, body)
}

func moveOK(t *testing.T, srv *testsupport.Server, session string, from, to any, ids ...string) map[string]string {
	t.Helper()
	env := moveCall(t, srv, session, map[string]any{"sourceFolderID": from, "destinationFolderID": to, "imageIDs": ids})
	testsupport.ExpectOK(t, env)
	var out []apiReactionOutcome
	env.Decode(t, &out)
	return outcomeMessages(folderItemsAnswer{Items: out})
}

// wantPublicCounts checks each Public Folder's imageCount and the user's
// publicItemCount (getUser, Admin) against recounts of the items table,
// and the user's itemCount and rootFolderItemCount.
func wantPublicCounts(t *testing.T, srv *testsupport.Server, userID string, folders map[string]int64, public, all, root int64) {
	t.Helper()
	ctx := context.Background()
	for id, n := range folders {
		// As an Admin: the Folders of an owner at abuse level 2 too.
		env := srv.AdminGet(t, "/api/getPublicFolders?folderIDs="+id)
		testsupport.ExpectOK(t, env)
		var fs []apiFolder
		env.Decode(t, &fs)
		var got int64 = -1
		if len(fs) == 1 {
			got = fs[0].ImageCount
		}
		recount, err := srv.App.Store.FolderItemsRecount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got != n || recount != n {
			t.Fatalf("Public Folder %s: imageCount %d, recount %d, want %d", id, got, recount, n)
		}
	}
	u := acctAdminUser(t, srv, "userID="+userID)
	recount, err := srv.App.Store.PublicItemsRecount(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(u["publicItemCount"].(float64)); got != public || recount != public {
		t.Fatalf("publicItemCount %d, recount %d, want %d", got, recount, public)
	}
	if got := int64(u["rootFolderItemCount"].(float64)); got != root {
		t.Fatalf("getUser rootFolderItemCount %d, want %d", got, root)
	}
	wantLiveCounts(t, srv, userID, all, root)
}

func itemSeenBy(t *testing.T, srv *testsupport.Server, session, id string) (apiImage, int) {
	t.Helper()
	env := srv.Get(t, "/api/getItem?imageID="+id, session)
	var img apiImage
	if env.Status == 200 {
		env.Decode(t, &img)
	}
	return img, env.Status
}

// Create, list (anyone, without a session), page, rename, delete; each
// call refuses the other kind's ids; Private and Public listings stay
// apart; guests get 401.
func TestPublicFolderLifecycle(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		f1 := createPublicFolder(t, srv, a.SessionID, " Foxes ")
		if !strings.HasPrefix(f1.ID, "p-") || uuid.Validate(strings.TrimPrefix(f1.ID, "p-")) != nil || !f1.IsPublic ||
			f1.Name != "Foxes" || f1.UserID != a.UserID || f1.ImageCount != 0 || f1.SampleImages == nil || f1.Thumbnails == nil ||
			f1.Tags == nil || len(f1.Tags) != 0 || f1.CreatedDate == "" {
			t.Fatalf("created: %+v", f1)
		}
		srv.Clock.Advance(time.Second)
		f2 := createPublicFolder(t, srv, a.SessionID, "Owls")
		srv.Clock.Advance(time.Second)
		fb := createPublicFolder(t, srv, b.SessionID, "Bob's")
		private := createFolder(t, srv, a.SessionID, "private")

		// Anyone lists them, newest first, without a session.
		for _, session := range []string{"", b.SessionID, a.SessionID} {
			fs, meta := publicFolders(t, srv, session, "")
			if got := folderIDs(fs); !slices.Equal(got, []string{fb.ID, f2.ID, f1.ID}) || *meta.TotalCount != 3 {
				t.Fatalf("list (session %q): %v %+v", session, got, meta)
			}
		}
		fs, meta := publicFolders(t, srv, "", "userID="+a.UserID)
		if got := folderIDs(fs); !slices.Equal(got, []string{f2.ID, f1.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("userID: %v %+v", got, meta)
		}
		fs, meta = publicFolders(t, srv, "", "limit=2")
		if got := folderIDs(fs); !slices.Equal(got, []string{fb.ID, f2.ID}) || meta.NextPaginationIndex == nil || *meta.TotalCount != 3 {
			t.Fatalf("limit 2: %v %+v", got, meta)
		}
		fs, _ = publicFolders(t, srv, "", "limit=2&paginationIndex="+*meta.NextPaginationIndex)
		if got := folderIDs(fs); !slices.Equal(got, []string{f1.ID}) {
			t.Fatalf("next page: %v", got)
		}
		fs, _ = publicFolders(t, srv, "", "reversePagination=true&limit=2")
		if got := folderIDs(fs); !slices.Equal(got, []string{f1.ID, f2.ID}) {
			t.Fatalf("reverse: %v", got)
		}
		fs, _ = publicFolders(t, srv, "", "skipCount=1&limit=1")
		if got := folderIDs(fs); !slices.Equal(got, []string{f2.ID}) {
			t.Fatalf("skip: %v", got)
		}
		fs, meta = publicFolders(t, srv, "", "folderIDs="+f1.ID+","+fb.ID)
		if got := folderIDs(fs); !slices.Equal(got, []string{fb.ID, f1.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("folderIDs: %v %+v", got, meta)
		}
		// The kinds stay apart.
		if fs, _ := selfFolders(t, srv, a.SessionID, ""); !slices.Equal(folderIDs(fs), []string{private.ID}) {
			t.Fatalf("getSelfFolders lists %v", folderIDs(fs))
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getPublicFolders?folderIDs="+private.ID, ""), 400, "folderIDs")
		testsupport.ExpectError(t, srv.Get(t, "/api/getPublicFolders?folderIDs=p-nope", ""), 400, "folderIDs")
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfFolders?folderIDs="+f1.ID, a.SessionID), 400, "folderIDs")

		// Rename, clear the description.
		srv.Clock.Advance(time.Second)
		env := srv.Post(t, "/api/setPublicFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID, "folderName": "Red foxes", "folderDescription": "d"})
		testsupport.ExpectOK(t, env)
		var got apiFolder
		env.Decode(t, &got)
		if got.Name != "Red foxes" || got.Description == nil || *got.Description != "d" || !got.IsPublic || got.UpdatedDate == f1.UpdatedDate {
			t.Fatalf("renamed: %+v", got)
		}
		if f := publicFolderByID(t, srv, "", f1.ID); f.Name != "Red foxes" {
			t.Fatalf("listed after rename: %+v", f)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setPublicFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID}), 400, "folderName")
		testsupport.ExpectError(t, srv.Post(t, "/api/setPublicFolderProperties", b.SessionID, map[string]any{"folderID": f1.ID, "folderName": "x"}), 404, "Folder not found")
		testsupport.ExpectError(t, srv.Post(t, "/api/createPublicFolder", a.SessionID, map[string]any{"name": " "}), 400, "name")

		// Wrong kinds of ids: 400 naming the field, for every call.
		del := func(op, session, id string) *testsupport.Envelope {
			return srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/" + op + "?folderID=" + id, SessionID: session})
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setPublicFolderProperties", a.SessionID, map[string]any{"folderID": private.ID, "folderName": "x"}), 400, "folderID: is a Private Folder id")
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID, "folderName": "x"}), 400, "folderID: is a Public Folder id")
		testsupport.ExpectError(t, del("deletePublicFolder", a.SessionID, private.ID), 400, "folderID")
		testsupport.ExpectError(t, del("deleteSelfFolder", a.SessionID, f1.ID), 400, "folderID")
		testsupport.ExpectError(t, del("deletePublicFolder", a.SessionID, "p-x"), 400, "folderID")
		testsupport.ExpectError(t, del("deletePublicFolder", a.SessionID, ""), 400, "folderID")
		it := approvedItem(a.UserID, 0)
		putItems(t, srv, it)
		for _, op := range []string{"addImagesToPublicFolder", "removeImagesFromPublicFolder", "addThumbnailImagesForPublicFolder", "removeThumbnailImagesForPublicFolder", "setThumbnailImagesForPublicFolder"} {
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, private.ID, []string{it.ID}), 400, "folderID: is a Private Folder id")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, "p-"+private.ID+"x", []string{it.ID}), 400, "folderID")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, f1.ID, []string{}), 400, "imageIDs")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, "p-"+uuid.NewString(), []string{it.ID}), 404, "Folder not found")
			testsupport.ExpectError(t, folderCall(t, srv, op, b.SessionID, f1.ID, []string{it.ID}), 404, "Folder not found")
			selfOp := strings.Replace(op, "PublicFolder", "SelfFolder", 1)
			testsupport.ExpectError(t, folderCall(t, srv, selfOp, a.SessionID, f1.ID, []string{it.ID}), 400, "folderID: is a Public Folder id")
		}
		// generateImage cannot put a new (private) Item in a Public Folder.
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", a.SessionID, map[string]any{"prompt": "a red sun", "modelName": "sketch",
			"steps": 2, "width": 128, "height": 128, "folderID": f1.ID}), 400, "folderID")

		// Guests (no session, or an anonymous one) cannot change Folders.
		anon := uuid.NewString()
		for _, session := range []string{"", anon} {
			for _, c := range []struct{ op, body string }{
				{"createPublicFolder", `{"name":"x"}`},
				{"setPublicFolderProperties", `{"folderID":"` + f1.ID + `","folderName":"x"}`},
				{"addImagesToPublicFolder", `{"folderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"removeImagesFromPublicFolder", `{"folderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"addThumbnailImagesForPublicFolder", `{"folderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"removeThumbnailImagesForPublicFolder", `{"folderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"setThumbnailImagesForPublicFolder", `{"folderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"moveItemsBetweenFolders", `{"sourceFolderID":null,"destinationFolderID":"` + f1.ID + `","imageIDs":["` + it.ID + `"]}`},
				{"moveItemsBetweenFolders", `{}`},
			} {
				env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/" + c.op, SessionID: session, Body: c.body})
				if env.Status != 401 {
					t.Fatalf("%s by a guest (session %q): %d %s", c.op, session, env.Status, env.ErrorMessage)
				}
			}
			if env := del("deletePublicFolder", session, f1.ID); env.Status != 401 {
				t.Fatalf("deletePublicFolder by a guest: %d", env.Status)
			}
			fs, _ := publicFolders(t, srv, session, "")
			if len(fs) != 3 {
				t.Fatalf("a guest lists %d Public Folders", len(fs))
			}
		}

		// Delete a Public Folder holding an Item: it goes to the root.
		folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, f1.ID, []string{it.ID})
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f1.ID: 1, f2.ID: 0}, 1, 1, 0)
		testsupport.ExpectError(t, del("deletePublicFolder", b.SessionID, f1.ID), 404, "Folder not found")
		env = del("deletePublicFolder", a.SessionID, f1.ID)
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":true`) {
			t.Fatalf("delete: %s", env.Payload)
		}
		if got := storedItem(t, srv, it.ID); got.FolderID != "" || got.FolderAddedAt != nil || !got.IsPublic {
			t.Fatalf("Item of a deleted Public Folder: folder %q isPublic %v", got.FolderID, got.IsPublic)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f2.ID: 0}, 0, 1, 1)
		if fs, meta := publicFolders(t, srv, "", ""); !slices.Equal(folderIDs(fs), []string{fb.ID, f2.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("after delete: %v", folderIDs(fs))
		}
		testsupport.ExpectError(t, del("deletePublicFolder", a.SessionID, f1.ID), 404, "Folder not found")
	})
}

// Adding to a Public Folder: only public, completed, live, own Items; an
// owner at abuse level 2 adds none. The Item is then publicly visible
// (isPubliclyVisible, another user reads it); removing makes it private
// to its owner again. Thumbnails work as in Private Folders.
func TestPublicFolderItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		var pub []*aimg.Item
		for i := range 6 {
			pub = append(pub, approvedItem(a.UserID, time.Duration(i)*time.Second))
		}
		priv := apiItem(a.UserID, 10*time.Second)
		pending := approvalItem(a.UserID, 11*time.Second, aimg.ApprovalPending, false)
		queued := approvedItem(a.UserID, 12*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		deleted := approvedItem(a.UserID, 13*time.Second)
		now := itemTime.Add(time.Hour)
		deleted.DeletedAt = &now
		theirs := approvedItem(b.UserID, 0)
		putItems(t, srv, append(pub, priv, pending, queued, deleted, theirs)...)
		f := createPublicFolder(t, srv, a.SessionID, "pub")
		other := createPublicFolder(t, srv, a.SessionID, "other")

		if img, _ := itemSeenBy(t, srv, a.SessionID, pub[0].ID); img.IsPubliclyVisible {
			t.Fatal("public Item outside a Public Folder is publicly visible")
		}
		if _, status := itemSeenBy(t, srv, b.SessionID, pub[0].ID); status != 404 {
			t.Fatalf("another user reads a public Item outside a Public Folder: %d", status)
		}
		unknown := uuid.NewString()
		ans := folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, f.ID,
			[]string{pub[0].ID, pub[1].ID, pub[2].ID, pub[3].ID, pub[4].ID, priv.ID, pending.ID, queued.ID, deleted.ID, theirs.ID, unknown})
		notPublic := "Only public Items (isPublic true) can be put in a Public Folder"
		want := map[string]string{pub[0].ID: "ok", pub[1].ID: "ok", pub[2].ID: "ok", pub[3].ID: "ok", pub[4].ID: "ok",
			priv.ID: notPublic, pending.ID: notPublic, queued.ID: "Only completed Items can be put in a Folder",
			deleted.ID: "Item is deleted", theirs.ID: "Item not found", unknown: "Item not found"}
		if got := outcomeMessages(ans); !ans.Success || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("add: %v\nwant %v", got, want)
		}
		if got := storedItem(t, srv, theirs.ID); got.FolderID != "" {
			t.Fatal("another user's Item was moved")
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 5, other.ID: 0}, 5, 9, 4)
		// Publicly visible now: to the owner, to others, without a session.
		img, _ := itemSeenBy(t, srv, a.SessionID, pub[0].ID)
		if !img.IsPubliclyVisible || img.FolderID == nil || *img.FolderID != f.ID {
			t.Fatalf("owner's view: %+v", img)
		}
		if img, status := itemSeenBy(t, srv, b.SessionID, pub[0].ID); status != 200 || !img.IsPubliclyVisible {
			t.Fatalf("another user's view: %d %+v", status, img)
		}
		imgs, _ := creations(t, srv, a.SessionID, "folderID="+f.ID)
		if len(imgs) != 5 || !imgs[0].IsPubliclyVisible {
			t.Fatalf("getMyCreations of the Public Folder: %d Items, %+v", len(imgs), imgs)
		}
		// sampleImages, for anyone.
		pf := publicFolderByID(t, srv, "", f.ID)
		var samples []string
		for _, s := range pf.SampleImages {
			samples = append(samples, s.ImageID)
		}
		if !slices.Equal(samples, []string{pub[4].ID, pub[3].ID, pub[2].ID, pub[1].ID}) || pf.ImageCount != 5 {
			t.Fatalf("sampleImages %v, imageCount %d", samples, pf.ImageCount)
		}

		// Moving between Public Folders with add; success false when nothing changes.
		ans = folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, other.ID, []string{pub[4].ID})
		if !ans.Success || storedItem(t, srv, pub[4].ID).FolderID != other.ID {
			t.Fatalf("move to other: %+v", ans)
		}
		ans = folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, other.ID, []string{pub[4].ID, priv.ID})
		if ans.Success || outcomeMessages(ans)[pub[4].ID] != "Item is already in this Folder" {
			t.Fatalf("add again: %+v", ans)
		}

		// Thumbnails.
		ans = folderOK(t, srv, "addThumbnailImagesForPublicFolder", a.SessionID, f.ID, []string{pub[0].ID, pub[1].ID, pub[4].ID, theirs.ID})
		if !ans.Success || !slices.Equal(ans.Actual, []string{pub[0].ID, pub[1].ID}) {
			t.Fatalf("thumbnails: %+v", ans)
		}
		if m := outcomeMessages(ans); m[pub[4].ID] != "Item is not in this Folder" || m[theirs.ID] != "Item not found" {
			t.Fatalf("thumbnail reasons: %v", m)
		}
		ans = folderOK(t, srv, "setThumbnailImagesForPublicFolder", a.SessionID, f.ID, []string{pub[2].ID, pub[0].ID})
		if !slices.Equal(ans.Actual, []string{pub[2].ID, pub[0].ID}) {
			t.Fatalf("set thumbnails: %+v", ans)
		}
		ans = folderOK(t, srv, "removeThumbnailImagesForPublicFolder", a.SessionID, f.ID, []string{pub[2].ID})
		if !ans.Success || !slices.Equal(ans.Actual, []string{pub[0].ID}) {
			t.Fatalf("remove thumbnail: %+v", ans)
		}
		if th := publicFolderByID(t, srv, b.SessionID, f.ID).Thumbnails; len(th) != 1 || th[0].ImageID != pub[0].ID || th[0].URL == "" {
			t.Fatalf("thumbnails seen by another user: %+v", th)
		}

		// Remove: to the root, private to its owner again.
		ans = folderOK(t, srv, "removeImagesFromPublicFolder", a.SessionID, f.ID, []string{pub[1].ID, pub[4].ID, theirs.ID})
		want = map[string]string{pub[1].ID: "ok", pub[4].ID: "Item is not in this Folder", theirs.ID: "Item not found"}
		if got := outcomeMessages(ans); !ans.Success || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("remove: %v", got)
		}
		if _, status := itemSeenBy(t, srv, b.SessionID, pub[1].ID); status != 404 {
			t.Fatalf("another user reads an Item taken out of the Public Folder: %d", status)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 3, other.ID: 1}, 4, 9, 5)

		// Abuse level 2: no Item enters a Public Folder; taking them out still works.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 2}))
		ans = folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, f.ID, []string{pub[5].ID, pub[1].ID})
		if m := outcomeMessages(ans); ans.Success || m[pub[5].ID] != "This account cannot put Items in a Public Folder" || m[pub[1].ID] != m[pub[5].ID] {
			t.Fatalf("add at abuse 2: %+v", ans)
		}
		ans = folderOK(t, srv, "removeImagesFromPublicFolder", a.SessionID, f.ID, []string{pub[2].ID})
		if !ans.Success {
			t.Fatalf("remove at abuse 2: %+v", ans)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 2, other.ID: 1}, 3, 9, 6)
	})
}

// A Public Folder holds only public Items: the owner turning isPublic off,
// or an Admin rejecting the Item, moves it to the root Folder in the same
// call; imageCount, publicItemCount and rootFolderItemCount follow (against
// a recount). An Item in a Private Folder stays there.
func TestPublicFolderItemMadePrivate(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		x, y, z, w := approvedItem(a.UserID, 0), approvedItem(a.UserID, time.Second), approvedItem(a.UserID, 2*time.Second), approvedItem(a.UserID, 3*time.Second)
		theirs := approvedItem(b.UserID, 0)
		putItems(t, srv, x, y, z, w, theirs)
		f := createPublicFolder(t, srv, a.SessionID, "pub")
		fb := createPublicFolder(t, srv, b.SessionID, "bob")
		priv := createFolder(t, srv, a.SessionID, "priv")
		folderOK(t, srv, "addImagesToPublicFolder", a.SessionID, f.ID, []string{x.ID, y.ID, z.ID})
		folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, priv.ID, []string{w.ID})
		folderOK(t, srv, "addImagesToPublicFolder", b.SessionID, fb.ID, []string{theirs.ID})
		folderOK(t, srv, "addThumbnailImagesForPublicFolder", a.SessionID, f.ID, []string{x.ID})
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 3}, 3, 4, 0)

		// The owner turns isPublic off: x leaves the Public Folder.
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": x.ID, "isPublic": false}))
		if it := storedItem(t, srv, x.ID); it.FolderID != "" || it.FolderAddedAt != nil || it.IsPublic {
			t.Fatalf("x after isPublic false: folder %q isPublic %v", it.FolderID, it.IsPublic)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 2}, 2, 4, 1)
		if th := publicFolderByID(t, srv, "", f.ID).Thumbnails; len(th) != 0 {
			t.Fatalf("a private Item is still a Thumbnail: %+v", th)
		}
		if img, _ := itemSeenBy(t, srv, a.SessionID, x.ID); img.IsPubliclyVisible || img.FolderID != nil {
			t.Fatalf("x seen by its owner: %+v", img)
		}
		// Turned on again, it stays in the root until moved.
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": x.ID, "isPublic": true}))
		if it := storedItem(t, srv, x.ID); it.FolderID != "" || !it.IsPublic {
			t.Fatalf("x after isPublic true: folder %q", it.FolderID)
		}

		// An Admin rejects y (and b's Item) in one call: both leave.
		testsupport.ExpectOK(t, setApproval(t, srv, []string{y.ID, theirs.ID}, aimg.ApprovalRejected))
		if it := storedItem(t, srv, y.ID); it.FolderID != "" || it.IsPublic || it.PublicApprovalStatus != aimg.ApprovalRejected {
			t.Fatalf("y after rejection: folder %q isPublic %v %s", it.FolderID, it.IsPublic, it.PublicApprovalStatus)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{f.ID: 1}, 1, 4, 2)
		wantPublicCounts(t, srv, b.UserID, map[string]int64{fb.ID: 0}, 0, 1, 1)
		if _, status := itemSeenBy(t, srv, "", y.ID); status == 200 {
			t.Fatal("a rejected Item is still readable by anyone")
		}

		// A private Item in a Private Folder stays there.
		testsupport.ExpectOK(t, setProps(t, srv, a.SessionID, map[string]any{"imageID": w.ID, "isPublic": false}))
		if it := storedItem(t, srv, w.ID); it.FolderID != priv.ID {
			t.Fatalf("w left its Private Folder: %q", it.FolderID)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{priv.ID: 1}, 4, 2)
	})
}

// moveItemsBetweenFolders: either kind, null/"root"/absent for the root
// Folder; Items must be in the source; into a Public Folder only eligible
// Items; per-Item id/success/message; bad input is a 400 naming the field;
// another user's Folders are 404 and their Items "Item not found".
func TestMoveItemsBetweenFolders(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		p1, p2, p3 := approvedItem(a.UserID, 0), approvedItem(a.UserID, time.Second), approvedItem(a.UserID, 2*time.Second)
		q1, q2 := apiItem(a.UserID, 3*time.Second), apiItem(a.UserID, 4*time.Second)
		queued := apiItem(a.UserID, 5*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		theirs := approvedItem(b.UserID, 0)
		putItems(t, srv, p1, p2, p3, q1, q2, queued, theirs)
		priv := createFolder(t, srv, a.SessionID, "priv")
		pub := createPublicFolder(t, srv, a.SessionID, "pub")
		bPriv := createFolder(t, srv, b.SessionID, "b")
		bPub := createPublicFolder(t, srv, b.SessionID, "b pub")
		unknown := uuid.NewString()

		// Root (JSON null) → Private: public and private Items alike.
		got := moveOK(t, srv, a.SessionID, nil, priv.ID, p1.ID, p2.ID, q1.ID, q2.ID, queued.ID, theirs.ID, unknown, p1.ID)
		want := map[string]string{p1.ID: "ok", p2.ID: "ok", q1.ID: "ok", q2.ID: "ok", queued.ID: "Only completed Items can be put in a Folder",
			theirs.ID: "Item not found", unknown: "Item not found"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("root → private: %v\nwant %v", got, want)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{priv.ID: 4}, 6, 2)
		// Private → Public: only the public Items; the others stay.
		got = moveOK(t, srv, a.SessionID, priv.ID, pub.ID, p1.ID, q1.ID, p3.ID)
		want = map[string]string{p1.ID: "ok", q1.ID: "Only public Items (isPublic true) can be put in a Public Folder", p3.ID: "Item is not in the source Folder"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("private → public: %v\nwant %v", got, want)
		}
		if it := storedItem(t, srv, q1.ID); it.FolderID != priv.ID {
			t.Fatalf("q1 moved to %q", it.FolderID)
		}
		// Root ("root") → Public, and the source is checked.
		got = moveOK(t, srv, a.SessionID, "root", pub.ID, p3.ID, p2.ID)
		if got[p3.ID] != "ok" || got[p2.ID] != "Item is not in the source Folder" {
			t.Fatalf("root → public: %v", got)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{pub.ID: 2}, 2, 6, 1)
		if img, status := itemSeenBy(t, srv, b.SessionID, p3.ID); status != 200 || !img.IsPubliclyVisible {
			t.Fatalf("p3 in the Public Folder seen by b: %d %+v", status, img)
		}
		// Public → Private, Public → root (source absent is not root here:
		// destination absent is the root).
		got = moveOK(t, srv, a.SessionID, pub.ID, priv.ID, p1.ID)
		if got[p1.ID] != "ok" || storedItem(t, srv, p1.ID).FolderID != priv.ID {
			t.Fatalf("public → private: %v", got)
		}
		env := moveCall(t, srv, a.SessionID, map[string]any{"sourceFolderID": pub.ID, "imageIDs": []string{p3.ID}})
		testsupport.ExpectOK(t, env)
		if it := storedItem(t, srv, p3.ID); it.FolderID != "" || it.FolderAddedAt != nil {
			t.Fatalf("public → root (absent): %q", it.FolderID)
		}
		wantPublicCounts(t, srv, a.UserID, map[string]int64{pub.ID: 0}, 0, 6, 2)
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{priv.ID: 4}, 6, 2)
		// Nothing to move: every Item says why, none changes.
		got = moveOK(t, srv, a.SessionID, priv.ID, nil, theirs.ID)
		if got[theirs.ID] != "Item not found" {
			t.Fatalf("another user's Item: %v", got)
		}

		// Bad input: 400 naming the field.
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"sourceFolderID": nil, "destinationFolderID": nil, "imageIDs": []string{p1.ID}}, "destinationFolderID: must differ"},
			{map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": priv.ID, "imageIDs": []string{p1.ID}}, "destinationFolderID: must differ"},
			{map[string]any{"sourceFolderID": "root", "imageIDs": []string{p1.ID}}, "destinationFolderID: must differ"},
			{map[string]any{"sourceFolderID": "nope", "destinationFolderID": priv.ID, "imageIDs": []string{p1.ID}}, "sourceFolderID"},
			{map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": "p-nope", "imageIDs": []string{p1.ID}}, "destinationFolderID"},
			{map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": pub.ID}, "imageIDs"},
			{map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": pub.ID, "imageIDs": []string{}}, "imageIDs"},
			{map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": pub.ID, "imageIDs": many}, "imageIDs: at most 1000"},
		} {
			testsupport.ExpectError(t, moveCall(t, srv, a.SessionID, c.body), 400, c.field)
		}
		// Another user's Folders: 404, nothing moves.
		for _, c := range [][2]any{{priv.ID, bPriv.ID}, {priv.ID, bPub.ID}, {bPriv.ID, nil}, {bPub.ID, priv.ID}, {"p-" + uuid.NewString(), nil}} {
			env := moveCall(t, srv, a.SessionID, map[string]any{"sourceFolderID": c[0], "destinationFolderID": c[1], "imageIDs": []string{p1.ID, q1.ID}})
			testsupport.ExpectError(t, env, 404, "Folder not found")
		}
		env = moveCall(t, srv, b.SessionID, map[string]any{"sourceFolderID": priv.ID, "destinationFolderID": bPriv.ID, "imageIDs": []string{p1.ID}})
		testsupport.ExpectError(t, env, 404, "Folder not found")
		if got := moveOK(t, srv, b.SessionID, nil, bPriv.ID, p2.ID); got[p2.ID] != "Item not found" {
			t.Fatalf("b moves a's Item: %v", got)
		}
		if it := storedItem(t, srv, p1.ID); it.FolderID != priv.ID {
			t.Fatalf("a refused move moved p1 to %q", it.FolderID)
		}

		// Abuse level 2: nothing enters a Public Folder; other moves work.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 2}))
		got = moveOK(t, srv, a.SessionID, priv.ID, pub.ID, p1.ID)
		if got[p1.ID] != "This account cannot put Items in a Public Folder" {
			t.Fatalf("abuse 2 → public: %v", got)
		}
		if got = moveOK(t, srv, a.SessionID, priv.ID, "root", p1.ID); got[p1.ID] != "ok" {
			t.Fatalf("abuse 2 → root: %v", got)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{priv.ID: 3}, 6, 3)
	})
}

// getPublicFolders leaves out the Folders of a deleted user and of one at
// abuse level >= 2, for everyone but that user and Admins; totalCount
// follows. Samples show only publicly visible Items.
func TestPublicFoldersOfHiddenOwners(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		c := testsupport.SignUp(t, srv, "cy@example.com")
		fa := createPublicFolder(t, srv, a.SessionID, "a")
		srv.Clock.Advance(time.Second)
		fb := createPublicFolder(t, srv, b.SessionID, "b")
		srv.Clock.Advance(time.Second)
		fc := createPublicFolder(t, srv, c.SessionID, "c")
		all := []string{fc.ID, fb.ID, fa.ID}
		admin := func() []string {
			env := srv.AdminGet(t, "/api/getPublicFolders")
			testsupport.ExpectOK(t, env)
			var fs []apiFolder
			env.Decode(t, &fs)
			return folderIDs(fs)
		}
		if fs, _ := publicFolders(t, srv, "", ""); !slices.Equal(folderIDs(fs), all) {
			t.Fatalf("before: %v", folderIDs(fs))
		}
		// a at abuse level 2: hidden from others, not from a or Admins.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 2}))
		for _, session := range []string{"", b.SessionID} {
			fs, meta := publicFolders(t, srv, session, "")
			if !slices.Equal(folderIDs(fs), []string{fc.ID, fb.ID}) || *meta.TotalCount != 2 {
				t.Fatalf("abuse 2, session %q: %v %+v", session, folderIDs(fs), meta)
			}
			if fs, meta := publicFolders(t, srv, session, "userID="+a.UserID); len(fs) != 0 || *meta.TotalCount != 0 {
				t.Fatalf("abuse 2, by userID: %v", folderIDs(fs))
			}
		}
		if fs, meta := publicFolders(t, srv, a.SessionID, ""); !slices.Equal(folderIDs(fs), all) || *meta.TotalCount != 3 {
			t.Fatalf("a's own view: %v", folderIDs(fs))
		}
		if got := admin(); !slices.Equal(got, all) {
			t.Fatalf("Admin's view: %v", got)
		}
		// Abuse level 1 hides nothing.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 1}))
		if fs, _ := publicFolders(t, srv, b.SessionID, ""); !slices.Equal(folderIDs(fs), all) {
			t.Fatalf("abuse 1: %v", folderIDs(fs))
		}
		// b deletes their account: hidden from others, Admins still see it.
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser", b.SessionID, ""))
		if fs, meta := publicFolders(t, srv, "", ""); !slices.Equal(folderIDs(fs), []string{fc.ID, fa.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("after b's deletion: %v", folderIDs(fs))
		}
		if got := admin(); !slices.Equal(got, all) {
			t.Fatalf("Admin's view after deletion: %v", got)
		}

		// Samples: only publicly visible Items, even if a stray private
		// row sits in the Folder (written behind the API's back).
		vis, stray := approvedItem(c.UserID, 0), apiItem(c.UserID, time.Second)
		stray.FolderID = fc.ID
		putItems(t, srv, vis, stray)
		folderOK(t, srv, "addImagesToPublicFolder", c.SessionID, fc.ID, []string{vis.ID})
		f := publicFolderByID(t, srv, "", fc.ID)
		if len(f.SampleImages) != 1 || f.SampleImages[0].ImageID != vis.ID {
			t.Fatalf("samples %+v", f.SampleImages)
		}
	})
}

// getPublicFolders is rate limited per client address (anyone may call
// it); the admin key is not limited.
func TestGetPublicFoldersRateLimit(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{"getPublicFolders:ip": {Requests: 1, Per: time.Hour, Burst: 3}}
	})
	a := testsupport.SignUp(t, srv, "ada@example.com")
	for range 3 {
		testsupport.ExpectOK(t, srv.Get(t, "/api/getPublicFolders", ""))
	}
	env := srv.Get(t, "/api/getPublicFolders", "")
	testsupport.ExpectError(t, env, 429, "")
	if env.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The bucket is the address's, whoever calls from it.
	testsupport.ExpectError(t, srv.Get(t, "/api/getPublicFolders", a.SessionID), 429, "")
	testsupport.ExpectOK(t, srv.AdminGet(t, "/api/getPublicFolders"))
}
