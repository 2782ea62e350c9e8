package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// The library pages: each action is the API's library call, its error is
// shown next to its field, and nobody acts on another user's Items or
// Folders.

// putCompleted stores n completed images of the visitor's user, newest
// last, each changed by edit (may be nil); it returns them.
func (v *visitor) putCompleted(n int, edit func(i int, it *aimg.Item)) []*aimg.Item {
	v.t.Helper()
	userID := testsupport.Self(v.t, v.srv, v.session()).UserID
	base := v.srv.Clock.Now().Add(-time.Hour)
	items := make([]*aimg.Item, n)
	for i := range items {
		at := base.Add(time.Duration(i) * time.Second)
		items[i] = &aimg.Item{ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
			MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch", Prompt: "a fox number " + string(rune('a'+i%26)),
			Params: aimg.GenerationParams{Steps: 2, Width: 128, Height: 128, Sampler: "Euler a", CFGScale: 7},
			FileID: uuid.NewString(), PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: at, UpdatedAt: at, CompletedAt: &at}
		if edit != nil {
			edit(i, items[i])
		}
	}
	if err := v.srv.App.Store.InsertItems(context.Background(), items); err != nil {
		v.t.Fatalf("insert items: %v", err)
	}
	return items
}

// stored is the Item as the store has it now.
func stored(t *testing.T, v *visitor, id string) *aimg.Item {
	t.Helper()
	it, err := v.srv.App.Store.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// fieldError is the text shown at field on p ("" = none).
func fieldErrorOf(p page, field string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(field) + `-error" role="alert">([^<]*)</p>`).FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// wantFieldError fails unless p has status and shows want at field.
func wantFieldError(t *testing.T, what string, p page, status int, field, want string) {
	t.Helper()
	if got := fieldErrorOf(p, field); p.Status != status || !strings.Contains(got, want) {
		t.Fatalf("%s: %d, %s error %q; want %d and %q\n%s", what, p.Status, field, got, status, want, p.Body)
	}
}

// wantAt fails unless p is a 200 at path showing every one of want.
func wantAt(t *testing.T, what string, p page, path string, want ...string) {
	t.Helper()
	if p.Status != http.StatusOK || p.URL.Path != path {
		t.Fatalf("%s: %d at %s, want 200 at %s\n%s", what, p.Status, p.URL.Path, path, p.Body)
	}
	body := html.UnescapeString(p.Body)
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("%s: no %q at %s\n%s", what, w, path, p.Body)
		}
	}
}

// newFolder creates a Folder through the page and returns its id.
func (v *visitor) newFolder(kind, name string) string {
	v.t.Helper()
	v.get("/folders")
	p := v.post("/folders", url.Values{"kind": {kind}, "name": {name}, "description": {"about " + name}})
	if p.Status != http.StatusOK || !strings.HasPrefix(p.URL.Path, "/folders/") || !strings.Contains(html.UnescapeString(p.Body), name) {
		v.t.Fatalf("new Folder %s: %d at %s\n%s", name, p.Status, p.URL, p.Body)
	}
	return strings.TrimPrefix(p.URL.Path, "/folders/")
}

// The owner tags an Item (a bad tag is refused at the field), likes and
// dislikes it (toggles), asks for public approval and withdraws it, and
// once an Admin approved it makes it private and public again.
func TestLibraryItemTagsLikesAndApproval(t *testing.T) {
	srv := newServer(t)
	a := newVisitor(t, srv)
	a.signUpWithCode("ada@example.com")
	it := a.putCompleted(1, nil)[0]
	page := "/items/" + it.ID
	wantAt(t, "item page", a.get(page), page, `id="tags-form"`, `id="like"`, `id="request-approval"`, `id="move-form"`, "None (root)")

	wantAt(t, "add tags", a.post(page+"/tags", url.Values{"tags": {"Fox, sunset  dusk"}}), page, ">fox<", ">sunset<", ">dusk<")
	p := a.post(page+"/tags", url.Values{"tags": {"ok #bad"}})
	wantFieldError(t, "bad tag", p, http.StatusBadRequest, "tags", `tags: "#bad" is not a valid tag`)
	wantFieldError(t, "no tag", a.post(page+"/tags", url.Values{"tags": {" , "}}), http.StatusBadRequest, "tags", "tags: is required")
	p = a.post(page+"/tags/remove", url.Values{"tag": {"fox"}})
	wantAt(t, "remove a tag", p, page, ">sunset<")
	if strings.Contains(p.Body, ">fox<") {
		t.Fatal("the removed tag is still shown")
	}

	wantAt(t, "like", a.post(page+"/react", url.Values{"reaction": {"like"}}), page, `aria-pressed="true">Liked · 1`, "Dislike · 0")
	wantAt(t, "dislike", a.post(page+"/react", url.Values{"reaction": {"dislike"}}), page, "Like · 0", `aria-pressed="true">Disliked · 1`)
	wantAt(t, "undislike", a.post(page+"/react", url.Values{"reaction": {"undislike"}}), page, "Like · 0", "Dislike · 0")
	wantFieldError(t, "unlike what is not liked", a.post(page+"/react", url.Values{"reaction": {"unlike"}}), http.StatusConflict, "reaction", "Item is not liked")

	wantFieldError(t, "public before approval", a.post(page+"/visibility", url.Values{"isPublic": {"true"}}),
		http.StatusConflict, "isPublic", "isPublic: only an approved Item can be made public")
	wantAt(t, "request approval", a.post(page+"/visibility", url.Values{"publicApprovalStatus": {"pending"}}), page,
		"waiting for an Admin's approval", `id="withdraw-approval"`)
	wantAt(t, "withdraw", a.post(page+"/visibility", url.Values{"publicApprovalStatus": {"none"}}), page, `id="request-approval"`)
	wantFieldError(t, "approve oneself", a.post(page+"/visibility", url.Values{"publicApprovalStatus": {"approved"}}),
		http.StatusBadRequest, "publicApprovalStatus", "only Admins approve or reject Items")
	a.post(page+"/visibility", url.Values{"publicApprovalStatus": {"pending"}})
	testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setPublicApprovalStatus", map[string]any{"imageIDs": []string{it.ID}, "publicApprovalStatus": "approved"}))
	wantAt(t, "approved", a.get(page), page, "everyone can see it once it is in a Public Folder", `id="make-private"`)
	wantAt(t, "make private", a.post(page+"/visibility", url.Values{"isPublic": {"false"}}), page, "Approved by an Admin, private now", `id="make-public"`)
	wantAt(t, "make public", a.post(page+"/visibility", url.Values{"isPublic": {"true"}}), page, `id="make-private"`)
	if got := stored(t, a, it.ID); !got.IsPublic || got.PublicApprovalStatus != aimg.ApprovalApproved || got.LikeCount != 0 {
		t.Fatalf("stored Item %+v", got)
	}
}

// Folders: made (errors at their fields), an Item moved in and out, a
// public one into a Public Folder (a private one refused), renamed and
// deleted (its Items back at the root); My creations filters by Folder.
func TestLibraryFolders(t *testing.T) {
	srv := newServer(t)
	a := newVisitor(t, srv)
	a.signUpWithCode("ada@example.com")
	items := a.putCompleted(3, func(i int, it *aimg.Item) {
		if i == 2 {
			it.IsPublic, it.PublicApprovalStatus = true, aimg.ApprovalApproved
		}
	})
	wantAt(t, "no Folders", a.get("/folders"), "/folders", "None yet.", `id="new-folder"`)
	wantFieldError(t, "no name", a.post("/folders", url.Values{"kind": {"private"}, "name": {"  "}}), http.StatusBadRequest, "name", "name: must not be empty")
	wantFieldError(t, "bad kind", a.post("/folders", url.Values{"kind": {"shared"}, "name": {"x"}}), http.StatusBadRequest, "kind", "kind: must be private or public")
	trips := a.newFolder("private", "Trips")
	gallery := a.newFolder("public", "Gallery")
	if !strings.HasPrefix(gallery, "p-") {
		t.Fatalf("Public Folder id %s", gallery)
	}
	wantAt(t, "both listed", a.get("/folders"), "/folders", `href="/folders/`+trips+`"`, "Trips", `href="/f/`+gallery+`"`, "Gallery")

	page := "/items/" + items[0].ID
	wantAt(t, "the select", a.get(page), page, `<option value="`+trips+`">Trips</option>`, `<option value="`+gallery+`">Gallery (public)</option>`)
	wantAt(t, "move in", a.post(page+"/move", url.Values{"destinationFolderID": {trips}}), page, `<a href="/folders/`+trips+`">Trips</a>`)
	wantFieldError(t, "move where it is", a.post(page+"/move", url.Values{"destinationFolderID": {trips}}), http.StatusBadRequest,
		"destinationFolderID", "must differ from sourceFolderID")
	wantFieldError(t, "private Item into a Public Folder", a.post(page+"/move", url.Values{"destinationFolderID": {gallery}}),
		http.StatusConflict, "destinationFolderID", "Only public Items (isPublic true) can be put in a Public Folder")
	public := "/items/" + items[2].ID
	wantAt(t, "public Item into a Public Folder", a.post(public+"/move", url.Values{"destinationFolderID": {gallery}}), public,
		"Public: everyone can see it.")

	p := a.get("/folders/" + trips)
	wantAt(t, "Folder page", p, "/folders/"+trips, `data-item="`+items[0].ID+`"`, "Items: 1.", "about Trips")
	if strings.Contains(p.Body, items[1].ID) {
		t.Fatal("an Item outside the Folder is on its page")
	}
	wantAt(t, "Public Folder page", a.get("/folders/"+gallery), "/folders/"+gallery, `data-item="`+items[2].ID+`"`, `href="/f/`+gallery+`"`)
	if p := a.get("/creations?folderID=" + trips); strings.Count(p.Body, `class="card"`) != 1 || !strings.Contains(p.Body, items[0].ID) {
		t.Fatalf("filtered by Folder: %s", p.Body)
	}
	if p := a.get("/creations?folderID=root"); strings.Count(p.Body, `class="card"`) != 1 || !strings.Contains(p.Body, items[1].ID) {
		t.Fatalf("filtered to the root: %s", p.Body)
	}

	for _, path := range []string{"/folders", "/folders/" + trips, page, "/creations?folderID=" + trips} {
		if body := a.get(path).Body; regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(body) || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", path)
		}
	}
	wantFieldError(t, "rename to nothing", a.post("/folders/"+trips, url.Values{"folderName": {""}, "folderDescription": {"x"}}),
		http.StatusBadRequest, "folderName", "folderName: must not be empty")
	wantAt(t, "rename", a.post("/folders/"+trips, url.Values{"folderName": {"Journeys"}, "folderDescription": {""}}), "/folders/"+trips, "<h1>Journeys</h1>")
	wantAt(t, "remove from the Folder", a.post("/folders/"+trips+"/remove", url.Values{"imageID": {items[0].ID}}), "/folders/"+trips, `id="folder-empty"`)
	wantFieldError(t, "remove again", a.post("/folders/"+trips+"/remove", url.Values{"imageID": {items[0].ID}}),
		http.StatusConflict, "imageID", "Item is not in this Folder")

	wantAt(t, "delete the Public Folder", a.post("/folders/"+gallery+"/delete", url.Values{}), "/folders")
	if got := stored(t, a, items[2].ID); got.FolderID != "" {
		t.Fatalf("the deleted Folder's Item is in %q", got.FolderID)
	}
	if p := a.get("/folders/" + gallery); p.Status != http.StatusNotFound {
		t.Fatalf("deleted Folder's page: %d", p.Status)
	}
}

// User B sees none of A's private Item, tags or Folders and changes
// nothing of them; A cannot move an Item into B's Folder. On A's public
// Item, B may like and report (once), not tag, move or make it private.
func TestLibraryOtherUsers(t *testing.T) {
	srv := newServer(t)
	a, b := newVisitor(t, srv), newVisitor(t, srv)
	a.signUpWithCode("ada@example.com")
	b.signUpWithCode("bob@example.com")
	folder := a.newFolder("private", "Secret plans")
	gallery := a.newFolder("public", "Show")
	items := a.putCompleted(2, func(i int, it *aimg.Item) {
		if i == 1 {
			it.IsPublic, it.PublicApprovalStatus, it.FolderID = true, aimg.ApprovalApproved, gallery
			it.FolderAddedAt = &it.CreatedAt
		}
	})
	private, public := "/items/"+items[0].ID, "/items/"+items[1].ID
	a.post(private+"/tags", url.Values{"tags": {"mine"}})
	bFolder := b.newFolder("private", "Bob's")

	b.get("/creations")
	if p := b.get(private); p.Status != http.StatusNotFound || strings.Contains(p.Body, "mine") || strings.Contains(p.Body, items[0].Prompt) {
		t.Fatalf("B on A's private Item: %d\n%s", p.Status, p.Body)
	}
	for path, form := range map[string]url.Values{
		private + "/tags":                {"tags": {"theirs"}},
		private + "/tags/remove":         {"tag": {"mine"}},
		private + "/react":               {"reaction": {"like"}},
		private + "/visibility":          {"publicApprovalStatus": {"pending"}},
		private + "/move":                {"destinationFolderID": {bFolder}},
		private + "/report":              {"reportQueue": {"Not Specified"}},
		private + "/delete":              {},
		"/folders/" + folder:             {"folderName": {"Pwned"}},
		"/folders/" + folder + "/delete": {},
		"/folders/" + folder + "/remove": {"imageID": {items[0].ID}},
		public + "/tags":                 {"tags": {"theirs"}},
		public + "/visibility":           {"isPublic": {"false"}},
		public + "/move":                 {"destinationFolderID": {"root"}},
	} {
		if p := b.post(path, form); p.Status != http.StatusNotFound && p.Status != http.StatusForbidden {
			t.Errorf("B's POST %s: %d\n%s", path, p.Status, p.Body)
		}
	}
	for _, path := range []string{"/folders/" + folder, "/folders/" + gallery} {
		if p := b.get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Secret plans") {
			t.Errorf("B's GET %s: %d", path, p.Status)
		}
	}
	if p := b.get("/folders"); strings.Contains(p.Body, "Secret plans") || strings.Contains(p.Body, folder) {
		t.Fatal("B's Folders list A's")
	}
	wantFieldError(t, "B filters by A's Folder", b.get("/creations?folderID="+folder), http.StatusBadRequest, "folderID", "is not one of your Folders")
	wantFieldError(t, "A moves into B's Folder", a.post(private+"/move", url.Values{"destinationFolderID": {bFolder}}),
		http.StatusNotFound, "destinationFolderID", "Folder not found")
	got := stored(t, a, items[0].ID)
	if got.FolderID != "" || got.LikeCount != 0 || got.PublicApprovalStatus != aimg.ApprovalNone || got.DeletedAt != nil {
		t.Fatalf("A's private Item changed: %+v", got)
	}
	wantAt(t, "A's tags kept", a.get(private), private, ">mine<")
	wantAt(t, "A's Folder kept", a.get("/folders/"+folder), "/folders/"+folder, "Secret plans")
	if got := stored(t, a, items[1].ID); got.FolderID != gallery || !got.IsPublic {
		t.Fatalf("A's public Item changed: %+v", got)
	}

	// A's public Item: B sees it, without the owner's forms, and may like
	// and report it.
	p := b.get(public)
	wantAt(t, "B on A's public Item", p, public, `id="like"`, `id="report-form"`, "Not Specified")
	for _, owners := range []string{`id="tags-form"`, `id="approval-form"`, `id="move-form"`, `id="delete"`} {
		if strings.Contains(p.Body, owners) {
			t.Fatalf("B sees the owner's %s", owners)
		}
	}
	wantAt(t, "B likes it", b.post(public+"/react", url.Values{"reaction": {"like"}}), public, `aria-pressed="true">Liked · 1`)
	wantFieldError(t, "B reports into no queue", b.post(public+"/report", url.Values{"reportQueue": {"Bad queue"}}),
		http.StatusBadRequest, "reportQueue", `"Bad queue" is not a report queue`)
	wantAt(t, "B reports it", b.post(public+"/report", url.Values{"reportQueue": {"Not Specified"}, "additionalInformation": {"odd"}}),
		public, "Reported.")
	wantFieldError(t, "B reports it again", b.post(public+"/report", url.Values{}), http.StatusConflict, "report", "already have a pending report")
	if p := a.get(public); strings.Contains(p.Body, `id="report-form"`) {
		t.Fatal("the owner is offered to report their own Item")
	}

	// Someone signed out sees the counts; liking and reporting need a user.
	anon := newVisitor(t, srv)
	wantAt(t, "a visitor on the public Item", anon.get(public), public, "1 likes", "Sign in</a> to report")
	anon.get("/signin") // a page with a form, for the token
	if p := anon.post(public+"/report", url.Values{}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a visitor's report: %d", p.Status)
	}
	if p := anon.get("/folders"); p.Status != http.StatusUnauthorized {
		t.Fatalf("a visitor's Folders: %d", p.Status)
	}
}

// Every library form is refused without its CSRF token, or from another
// site, and changes nothing.
func TestLibraryPostsNeedCSRF(t *testing.T) {
	srv := newServer(t)
	a := newVisitor(t, srv)
	a.signUpWithCode("ada@example.com")
	folder := a.newFolder("private", "Kept")
	it := a.putCompleted(1, nil)[0]
	page := "/items/" + it.ID
	for path, form := range map[string]url.Values{
		page + "/tags": {"tags": {"x"}}, page + "/tags/remove": {"tag": {"x"}}, page + "/react": {"reaction": {"like"}},
		page + "/visibility": {"publicApprovalStatus": {"pending"}}, page + "/move": {"destinationFolderID": {folder}},
		page + "/report": {}, "/folders": {"kind": {"private"}, "name": {"More"}}, "/folders/" + folder: {"folderName": {"Gone"}},
		"/folders/" + folder + "/delete": {}, "/folders/" + folder + "/remove": {"imageID": {it.ID}},
	} {
		form.Set("csrf", "wrong")
		if p := a.post(path, form); p.Status != http.StatusForbidden {
			t.Errorf("%s without the token: %d", path, p.Status)
		}
		form.Del("csrf")
		if p := a.post(path, form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); p.Status != http.StatusForbidden {
			t.Errorf("%s from another site: %d", path, p.Status)
		}
	}
	got := stored(t, a, it.ID)
	if got.FolderID != "" || got.LikeCount != 0 || got.PublicApprovalStatus != aimg.ApprovalNone {
		t.Fatalf("a refused form changed the Item: %+v", got)
	}
	if p := a.get("/folders"); strings.Count(p.Body, `class="folder-name"`) != 1 || !strings.Contains(p.Body, "Kept") {
		t.Fatalf("a refused form changed the Folders: %s", p.Body)
	}
}

// My creations filters by kind, visibility and approval from the query
// string, and its More link carries the filters to the next page.
func TestCreationsFilters(t *testing.T) {
	srv := newServer(t)
	a := newVisitor(t, srv)
	a.signUpWithCode("ada@example.com")
	a.putCompleted(30, func(i int, it *aimg.Item) {
		if i%3 == 0 {
			it.MType, it.MediaType = aimg.MTypeVideo, "AnimatedImage"
		}
		if i%5 == 0 {
			it.IsPublic, it.PublicApprovalStatus = true, aimg.ApprovalApproved
		}
	})
	count := func(p page) int { return strings.Count(p.Body, `class="card"`) }
	p := a.get("/creations?mtype=image")
	more := regexp.MustCompile(`id="more" href="([^"]+)"`).FindStringSubmatch(p.Body)
	if count(p) != 20 || more != nil || !strings.Contains(p.Body, `<option value="image" selected>`) {
		t.Fatalf("images: %d cards, more %v", count(p), more)
	}
	if p := a.get("/creations?isPublic=true&publicApprovalStatus=approved"); count(p) != 6 {
		t.Fatalf("public: %d cards", count(p))
	}
	if p := a.get("/creations?mtype=video&isPublic=false"); count(p) != 8 {
		t.Fatalf("private videos: %d cards", count(p))
	}
	a.putCompleted(30, func(_ int, it *aimg.Item) { it.MType, it.MediaType = aimg.MTypeVideo, "AnimatedImage" })
	p = a.get("/creations?mtype=video&isPublic=false")
	more = regexp.MustCompile(`id="more" href="([^"]+)"`).FindStringSubmatch(p.Body)
	if count(p) != 24 || more == nil {
		t.Fatalf("first page of private videos: %d cards, more %v", count(p), more)
	}
	next, _ := url.Parse(html.UnescapeString(more[1]))
	if q := next.Query(); q.Get("mtype") != "video" || q.Get("isPublic") != "false" || q.Get("before") == "" {
		t.Fatalf("More link %s", next)
	}
	if p := a.get(next.String()); count(p) != 14 || strings.Contains(p.Body, `id="more"`) {
		t.Fatalf("second page: %d cards", count(p))
	}
	wantFieldError(t, "bad isPublic", a.get("/creations?isPublic=maybe"), http.StatusBadRequest, "isPublic", "isPublic: must be true or false")
	wantFieldError(t, "bad mtype", a.get("/creations?mtype=gif"), http.StatusBadRequest, "mtype", "mtype: must be image or video")
	wantFieldError(t, "bad approval", a.get("/creations?publicApprovalStatus=maybe"), http.StatusBadRequest, "publicApprovalStatus", "must be none, pending")
}
