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
	"aimg/internal/testsupport"
)

type apiFolder struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Description  *string               `json:"description"`
	UserID       string                `json:"userID"`
	IsPublic     bool                  `json:"isPublic"`
	ImageCount   int64                 `json:"imageCount"`
	SampleImages []aimg.ImageThumbnail `json:"sampleImages"`
	Thumbnails   []aimg.ImageThumbnail `json:"thumbnails"`
	CreatedDate  string                `json:"createdDate"`
	UpdatedDate  string                `json:"updatedDate"`
	Tags         []string              `json:"tags"`
}

type folderItemsAnswer struct {
	Success  bool                 `json:"success"`
	Modified []string             `json:"modified"`
	Actual   []string             `json:"actual"`
	Items    []apiReactionOutcome `json:"items"`
}

type apiReactionOutcome struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Message string `json:"message"`
}

func createFolder(t *testing.T, srv *testsupport.Server, session, name string) apiFolder {
	t.Helper()
	env := srv.Post(t, "/api/createSelfFolder", session, map[string]any{"name": name, "description": "about " + name})
	testsupport.ExpectOK(t, env)
	var f apiFolder
	env.Decode(t, &f)
	return f
}

func folderCall(t *testing.T, srv *testsupport.Server, op, session, folderID string, ids any) *testsupport.Envelope {
	t.Helper()
	return srv.Post(t, "/api/"+op, session, map[string]any{"folderID": folderID, "imageIDs": ids})
}

func folderOK(t *testing.T, srv *testsupport.Server, op, session, folderID string, ids any) folderItemsAnswer {
	t.Helper()
	env := folderCall(t, srv, op, session, folderID, ids)
	testsupport.ExpectOK(t, env)
	var a folderItemsAnswer
	env.Decode(t, &a)
	return a
}

func selfFolders(t *testing.T, srv *testsupport.Server, session, query string) ([]apiFolder, pageMeta) {
	t.Helper()
	env := srv.Get(t, "/api/getSelfFolders?"+query, session)
	testsupport.ExpectOK(t, env)
	var fs []apiFolder
	env.Decode(t, &fs)
	var m pageMeta
	if err := json.Unmarshal(env.Metadata, &m); err != nil {
		t.Fatal(err)
	}
	return fs, m
}

func folderByID(t *testing.T, srv *testsupport.Server, session, id string) apiFolder {
	t.Helper()
	fs, _ := selfFolders(t, srv, session, "folderIDs="+id)
	if len(fs) != 1 {
		t.Fatalf("getSelfFolders folderIDs=%s: %d Folders", id, len(fs))
	}
	return fs[0]
}

// wantFolderCounts checks each Folder's imageCount against a recount of
// the items table, and the user's counters (wantLiveCounts).
func wantFolderCounts(t *testing.T, srv *testsupport.Server, session, userID string, want map[string]int64, all, root int64) {
	t.Helper()
	for id, n := range want {
		f := folderByID(t, srv, session, id)
		recount, err := srv.App.Store.FolderItemsRecount(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if f.ImageCount != n || recount != n {
			t.Fatalf("Folder %s: imageCount %d, recount %d, want %d", id, f.ImageCount, recount, n)
		}
	}
	wantLiveCounts(t, srv, userID, all, root)
}

func outcomeMessages(a folderItemsAnswer) map[string]string {
	m := map[string]string{}
	for _, o := range a.Items {
		if o.Success {
			m[o.ID] = "ok"
		} else {
			m[o.ID] = o.Message
		}
	}
	return m
}

// Create, list, rename, delete: the Folder object's fields, the list's
// filters and paging, renaming and clearing the description, deleting a
// Folder with Items (they go to the root, counts right against a recount).
func TestPrivateFolderLifecycle(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		f1 := createFolder(t, srv, a.SessionID, "  Foxes ")
		if uuid.Validate(f1.ID) != nil || f1.Name != "Foxes" || f1.Description == nil || *f1.Description != "about   Foxes " ||
			f1.UserID != a.UserID || f1.IsPublic || f1.ImageCount != 0 || f1.SampleImages == nil || f1.Thumbnails == nil ||
			f1.Tags == nil || len(f1.Tags) != 0 || f1.CreatedDate == "" || f1.UpdatedDate == "" {
			t.Fatalf("created: %+v", f1)
		}
		srv.Clock.Advance(time.Second)
		f2 := createFolder(t, srv, a.SessionID, "Owls")
		srv.Clock.Advance(time.Second)
		f3 := createFolder(t, srv, a.SessionID, "Cats")

		fs, meta := selfFolders(t, srv, a.SessionID, "")
		if got := folderIDs(fs); !slices.Equal(got, []string{f3.ID, f2.ID, f1.ID}) || meta.TotalCount == nil || *meta.TotalCount != 3 {
			t.Fatalf("list: %v %+v", got, meta)
		}
		fs, meta = selfFolders(t, srv, a.SessionID, "limit=2")
		if got := folderIDs(fs); !slices.Equal(got, []string{f3.ID, f2.ID}) || meta.NextPaginationIndex == nil {
			t.Fatalf("limit 2: %v %+v", got, meta)
		}
		fs, _ = selfFolders(t, srv, a.SessionID, "limit=2&paginationIndex="+*meta.NextPaginationIndex)
		if got := folderIDs(fs); !slices.Equal(got, []string{f1.ID}) {
			t.Fatalf("next page: %v", got)
		}
		fs, _ = selfFolders(t, srv, a.SessionID, "reversePagination=true")
		if got := folderIDs(fs); !slices.Equal(got, []string{f1.ID, f2.ID, f3.ID}) {
			t.Fatalf("reverse: %v", got)
		}
		fs, _ = selfFolders(t, srv, a.SessionID, "skipCount=1&limit=1")
		if got := folderIDs(fs); !slices.Equal(got, []string{f2.ID}) {
			t.Fatalf("skip: %v", got)
		}
		fs, meta = selfFolders(t, srv, a.SessionID, "folderIDs="+f1.ID+","+f3.ID)
		if got := folderIDs(fs); !slices.Equal(got, []string{f3.ID, f1.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("folderIDs: %v %+v", got, meta)
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfFolders?folderIDs=p-"+uuid.NewString(), a.SessionID), 400, "folderIDs")

		// Rename, then clear the description.
		srv.Clock.Advance(time.Second)
		env := srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID, "folderName": "Red foxes"})
		testsupport.ExpectOK(t, env)
		var got apiFolder
		env.Decode(t, &got)
		if got.Name != "Red foxes" || *got.Description != "about   Foxes " || got.UpdatedDate == f1.UpdatedDate || got.CreatedDate != f1.CreatedDate {
			t.Fatalf("renamed: %+v", got)
		}
		env = srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID, "folderDescription": ""})
		testsupport.ExpectOK(t, env)
		got = apiFolder{}
		env.Decode(t, &got)
		if got.Name != "Red foxes" || got.Description != nil {
			t.Fatalf("description cleared: %+v", got)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID}), 400, "folderName")
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderID": f1.ID, "folderName": " "}), 400, "folderName")
		testsupport.ExpectError(t, srv.Post(t, "/api/createSelfFolder", a.SessionID, map[string]any{"name": ""}), 400, "name")
		testsupport.ExpectError(t, srv.Post(t, "/api/createSelfFolder", a.SessionID, map[string]any{}), 400, "name")
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfFolderProperties", a.SessionID, map[string]any{"folderName": "x"}), 400, "folderID: is required")
		testsupport.ExpectError(t, srv.Post(t, "/api/createSelfFolder", a.SessionID, map[string]any{"name": strings.Repeat("x", 201)}), 400, "name")

		// Delete a Folder holding Items: they go to the root Folder.
		items := []*aimg.Item{apiItem(a.UserID, 0), apiItem(a.UserID, time.Second), apiItem(a.UserID, 2*time.Second)}
		putItems(t, srv, items...)
		folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f1.ID, []string{items[0].ID, items[1].ID})
		folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f2.ID, []string{items[2].ID})
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f1.ID: 2, f2.ID: 1, f3.ID: 0}, 3, 0)
		env = srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=" + f1.ID, SessionID: a.SessionID})
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":true`) {
			t.Fatalf("delete: %s", env.Payload)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f2.ID: 1}, 3, 2)
		for _, it := range items[:2] {
			if got := storedItem(t, srv, it.ID); got.FolderID != "" || got.FolderAddedAt != nil {
				t.Fatalf("Item of a deleted Folder: folder %q", got.FolderID)
			}
		}
		fs, meta = selfFolders(t, srv, a.SessionID, "")
		if got := folderIDs(fs); !slices.Equal(got, []string{f3.ID, f2.ID}) || *meta.TotalCount != 2 {
			t.Fatalf("after delete: %v", got)
		}
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=" + f1.ID, SessionID: a.SessionID}), 404, "Folder not found")
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=p-" + f2.ID, SessionID: a.SessionID}), 400, "folderID")
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder", SessionID: a.SessionID}), 400, "folderID")
		// A guest (no account) cannot use Folders.
		g := srv.Get(t, "/api/getSelfFolders", "")
		if g.Status != 401 {
			t.Fatalf("anonymous getSelfFolders: %d", g.Status)
		}
	})
}

func folderIDs(fs []apiFolder) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// Adding and removing Items: per-Item reasons (another user's Item, queued,
// deleted, unknown, already there / not there), moving between Folders,
// success only when something changed, 1,001 ids refused, counts and
// sampleImages (the 4 newest) right.
func TestPrivateFolderItems(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		var mine []*aimg.Item
		for i := range 6 {
			mine = append(mine, apiItem(a.UserID, time.Duration(i)*time.Second))
		}
		queued := apiItem(a.UserID, 10*time.Second)
		queued.Status, queued.CompletedAt, queued.FileID = aimg.StatusQueued, nil, ""
		deleted := apiItem(a.UserID, 11*time.Second)
		now := itemTime.Add(time.Hour)
		deleted.DeletedAt = &now
		theirs := apiItem(b.UserID, 0)
		putItems(t, srv, append(mine, queued, deleted, theirs)...)
		f1 := createFolder(t, srv, a.SessionID, "one")
		f2 := createFolder(t, srv, a.SessionID, "two")

		unknown := uuid.NewString()
		ans := folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f1.ID,
			[]string{mine[0].ID, mine[1].ID, mine[2].ID, mine[3].ID, mine[4].ID, theirs.ID, queued.ID, deleted.ID, unknown, mine[0].ID})
		want := map[string]string{mine[0].ID: "ok", mine[1].ID: "ok", mine[2].ID: "ok", mine[3].ID: "ok", mine[4].ID: "ok",
			theirs.ID: "Item not found", queued.ID: "Only completed Items can be put in a Folder", deleted.ID: "Item is deleted", unknown: "Item not found"}
		if got := outcomeMessages(ans); !ans.Success || len(ans.Items) != 9 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("add: success %v %v\nwant %v", ans.Success, got, want)
		}
		if got := storedItem(t, srv, theirs.ID); got.FolderID != "" {
			t.Fatal("another user's Item was moved")
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f1.ID: 5, f2.ID: 0}, 7, 2)
		// sampleImages: the 4 newest Items of the Folder.
		f := folderByID(t, srv, a.SessionID, f1.ID)
		var samples []string
		for _, s := range f.SampleImages {
			samples = append(samples, s.ImageID)
			if s.URL == "" {
				t.Fatalf("sample without url: %+v", s)
			}
		}
		if !slices.Equal(samples, []string{mine[4].ID, mine[3].ID, mine[2].ID, mine[1].ID}) {
			t.Fatalf("sampleImages %v", samples)
		}

		// Nothing changes: success false, with reasons.
		ans = folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f1.ID, mine[0].ID+","+theirs.ID)
		if ans.Success || outcomeMessages(ans)[mine[0].ID] != "Item is already in this Folder" {
			t.Fatalf("add again: %+v", ans)
		}
		// Adding to f2 moves out of f1.
		ans = folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f2.ID, []string{mine[0].ID, mine[5].ID})
		if !ans.Success {
			t.Fatalf("move: %+v", ans)
		}
		if got := storedItem(t, srv, mine[0].ID); got.FolderID != f2.ID || got.FolderAddedAt == nil {
			t.Fatalf("moved Item in %q", got.FolderID)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f1.ID: 4, f2.ID: 2}, 7, 1)

		// Remove: only Items in that Folder; they go to the root.
		ans = folderOK(t, srv, "removeImagesFromSelfFolder", a.SessionID, f1.ID, []string{mine[1].ID, mine[0].ID, theirs.ID, deleted.ID, unknown})
		want = map[string]string{mine[1].ID: "ok", mine[0].ID: "Item is not in this Folder", theirs.ID: "Item not found",
			deleted.ID: "Item is deleted", unknown: "Item not found"}
		if got := outcomeMessages(ans); !ans.Success || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("remove: %v\nwant %v", got, want)
		}
		if got := storedItem(t, srv, mine[1].ID); got.FolderID != "" || got.FolderAddedAt != nil {
			t.Fatalf("removed Item in %q", got.FolderID)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f1.ID: 3, f2.ID: 2}, 7, 2)
		ans = folderOK(t, srv, "removeImagesFromSelfFolder", a.SessionID, f1.ID, []string{mine[1].ID})
		if ans.Success {
			t.Fatalf("remove again: %+v", ans)
		}

		// Bad input: 400 naming the field, nothing changes.
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		many[0] = mine[5].ID
		for _, op := range []string{"addImagesToSelfFolder", "removeImagesFromSelfFolder", "addThumbnailImagesForSelfFolder", "removeThumbnailImagesForSelfFolder", "setThumbnailImagesForSelfFolder"} {
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, f1.ID, many), 400, "imageIDs: at most 1000 Items per call (got 1001)")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, f1.ID, []string{}), 400, "imageIDs")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, "p-"+f1.ID, []string{mine[5].ID}), 400, "folderID")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, "not-a-uuid", []string{mine[5].ID}), 400, "folderID")
			testsupport.ExpectError(t, srv.Post(t, "/api/"+op, a.SessionID, map[string]any{"imageIDs": []string{mine[5].ID}}), 400, "folderID: is required")
			testsupport.ExpectError(t, srv.Post(t, "/api/"+op, a.SessionID, map[string]any{"folderID": f1.ID}), 400, "imageIDs: is required")
			testsupport.ExpectError(t, folderCall(t, srv, op, a.SessionID, uuid.NewString(), []string{mine[5].ID}), 404, "Folder not found")
		}
		if got := storedItem(t, srv, mine[5].ID); got.FolderID != f2.ID {
			t.Fatalf("a refused call moved an Item to %q", got.FolderID)
		}
		// Deleting an Item takes it out of its Folder's count.
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteItems?imageIDs=" + mine[5].ID, SessionID: a.SessionID}))
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{f1.ID: 3, f2.ID: 1}, 6, 2)
	})
}

// Thumbnails: at most 4, only live Items inside the Folder; add, remove,
// set with modified/actual; an Item leaving the Folder stops being one.
func TestPrivateFolderThumbnails(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		var in []*aimg.Item
		for i := range 6 {
			in = append(in, apiItem(a.UserID, time.Duration(i)*time.Second))
		}
		outside := apiItem(a.UserID, 20*time.Second)
		theirs := apiItem(b.UserID, 0)
		putItems(t, srv, append(in, outside, theirs)...)
		f := createFolder(t, srv, a.SessionID, "thumbs")
		ids := func(items ...*aimg.Item) []string {
			out := []string{}
			for _, it := range items {
				out = append(out, it.ID)
			}
			return out
		}
		folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f.ID, ids(in...))

		ans := folderOK(t, srv, "addThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[0], in[1], outside, theirs, in[2]))
		if !ans.Success || !slices.Equal(ans.Modified, ids(in[0], in[1], in[2])) || !slices.Equal(ans.Actual, ids(in[0], in[1], in[2])) {
			t.Fatalf("add: %+v", ans)
		}
		if m := outcomeMessages(ans); m[outside.ID] != "Item is not in this Folder" || m[theirs.ID] != "Item not found" {
			t.Fatalf("add reasons: %v", m)
		}
		// The fifth is refused: at most 4.
		ans = folderOK(t, srv, "addThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[3], in[4], in[0]))
		if !ans.Success || !slices.Equal(ans.Modified, ids(in[3])) || !slices.Equal(ans.Actual, ids(in[0], in[1], in[2], in[3])) {
			t.Fatalf("add to 4: %+v", ans)
		}
		if m := outcomeMessages(ans); m[in[4].ID] != "The Folder already has 4 Thumbnails" || m[in[0].ID] != "Item is already a Thumbnail of this Folder" {
			t.Fatalf("add over 4 reasons: %v", m)
		}
		got := folderByID(t, srv, a.SessionID, f.ID)
		var thumbs []string
		for _, th := range got.Thumbnails {
			thumbs = append(thumbs, th.ImageID)
		}
		if !slices.Equal(thumbs, ids(in[0], in[1], in[2], in[3])) {
			t.Fatalf("Folder thumbnails %v", thumbs)
		}
		// Remove.
		ans = folderOK(t, srv, "removeThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[1], in[5]))
		if !ans.Success || !slices.Equal(ans.Modified, ids(in[1])) || !slices.Equal(ans.Actual, ids(in[0], in[2], in[3])) ||
			outcomeMessages(ans)[in[5].ID] != "Item is not a Thumbnail of this Folder" {
			t.Fatalf("remove: %+v", ans)
		}
		// An Item leaving the Folder is no Thumbnail any more.
		folderOK(t, srv, "removeImagesFromSelfFolder", a.SessionID, f.ID, ids(in[0]))
		ans = folderOK(t, srv, "removeThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[0]))
		if ans.Success || !slices.Equal(ans.Actual, ids(in[2], in[3])) {
			t.Fatalf("after leaving: %+v", ans)
		}
		// Set replaces; more than 4 is a 400; Items outside are skipped.
		ans = folderOK(t, srv, "setThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[5], outside, in[4]))
		if !ans.Success || !slices.Equal(ans.Modified, ids(in[5], in[4])) || !slices.Equal(ans.Actual, ids(in[5], in[4])) {
			t.Fatalf("set: %+v", ans)
		}
		testsupport.ExpectError(t, folderCall(t, srv, "setThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[1], in[2], in[3], in[4], in[5])), 400, "imageIDs")
		ans = folderOK(t, srv, "addThumbnailImagesForSelfFolder", a.SessionID, f.ID, ids(in[1]))
		if !slices.Equal(ans.Actual, ids(in[5], in[4], in[1])) {
			t.Fatalf("after set: %+v", ans)
		}
	})
}

// Another user never sees or changes a Folder: 404 for everything.
func TestPrivateFolderCrossUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		itA, itB := apiItem(a.UserID, 0), apiItem(b.UserID, time.Second)
		putItems(t, srv, itA, itB)
		f := createFolder(t, srv, a.SessionID, "private")
		folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f.ID, []string{itA.ID})
		folderOK(t, srv, "addThumbnailImagesForSelfFolder", a.SessionID, f.ID, []string{itA.ID})

		if fs, meta := selfFolders(t, srv, b.SessionID, ""); len(fs) != 0 || *meta.TotalCount != 0 {
			t.Fatalf("B lists %v", folderIDs(fs))
		}
		if fs, _ := selfFolders(t, srv, b.SessionID, "folderIDs="+f.ID); len(fs) != 0 {
			t.Fatal("B sees A's Folder by id")
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfFolderProperties", b.SessionID, map[string]any{"folderID": f.ID, "folderName": "mine"}), 404, "Folder not found")
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/deleteSelfFolder?folderID=" + f.ID, SessionID: b.SessionID}), 404, "Folder not found")
		for _, op := range []string{"addImagesToSelfFolder", "removeImagesFromSelfFolder", "addThumbnailImagesForSelfFolder", "removeThumbnailImagesForSelfFolder", "setThumbnailImagesForSelfFolder"} {
			testsupport.ExpectError(t, folderCall(t, srv, op, b.SessionID, f.ID, []string{itB.ID, itA.ID}), 404, "Folder not found")
		}
		// A cannot put B's Item in its own Folder either.
		ans := folderOK(t, srv, "addImagesToSelfFolder", a.SessionID, f.ID, []string{itB.ID})
		if ans.Success || outcomeMessages(ans)[itB.ID] != "Item not found" {
			t.Fatalf("A adds B's Item: %+v", ans)
		}
		got := folderByID(t, srv, a.SessionID, f.ID)
		if got.Name != "private" || got.ImageCount != 1 || len(got.Thumbnails) != 1 {
			t.Fatalf("A's Folder after B's attempts: %+v", got)
		}
		if it := storedItem(t, srv, itB.ID); it.FolderID != "" {
			t.Fatal("B's Item moved")
		}
	})
}

// generateImage's folderID must be one of the caller's Private Folders;
// the Item lands in it when it completes.
func TestGenerateIntoPrivateFolder(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits, func(c *config.Config) { c.EmbeddedWorker = true })
		a := testsupport.SignUp(t, srv, "ada@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		fa := createFolder(t, srv, a.SessionID, "mine")
		fb := createFolder(t, srv, b.SessionID, "theirs")
		body := func(folder string) map[string]any {
			return map[string]any{"prompt": "a red sun", "modelName": "sketch", "steps": 2, "width": 128, "height": 128, "folderID": folder}
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", a.SessionID, body(fb.ID)), 404, "folderID: Folder not found")
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", a.SessionID, body(uuid.NewString())), 404, "folderID: Folder not found")
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", a.SessionID, body("p-"+uuid.NewString())), 400, "folderID: is a Public Folder")
		img := generate(t, srv, "/api/generateImage", a.SessionID, body(fa.ID))
		waitCompleted(t, srv, a.SessionID, img.ImageID)
		if it := storedItem(t, srv, img.ImageID); it.FolderID != fa.ID {
			t.Fatalf("generated Item in %q, want %s", it.FolderID, fa.ID)
		}
		wantFolderCounts(t, srv, a.SessionID, a.UserID, map[string]int64{fa.ID: 1}, 1, 0)
	})
}
