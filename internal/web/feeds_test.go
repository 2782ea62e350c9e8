package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// The public pages: /explore, /u/{userID}, /f/{folderID}, and the Item
// page for a signed-out visitor. The data is made as people make it: an
// Item (stored completed, as the API tests store them: no worker runs
// here) is submitted for approval by its owner, approved with the admin
// key, and put in a Public Folder, all through the API.

// storedItem stores a completed image Item of userID with prompt, created
// now by the server's clock.
func storedItem(t *testing.T, srv *testsupport.Server, userID, prompt string) *aimg.Item {
	t.Helper()
	srv.Clock.Advance(time.Second) // a distinct paginationIndex per Item
	now := srv.Clock.Now()
	it := &aimg.Item{ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
		MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch", Prompt: prompt,
		Params: aimg.GenerationParams{Steps: 2, Seed: 7, Sampler: "Euler a", CFGScale: 7, Width: 128, Height: 128},
		FileID: uuid.NewString(), PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: now, UpdatedAt: now, CompletedAt: &now}
	if err := srv.App.Store.InsertItems(context.Background(), []*aimg.Item{it}); err != nil {
		t.Fatal(err)
	}
	return it
}

// apiOK calls the API as session (the admin key when session is "") and
// fails the test on an error answer.
func apiOK(t *testing.T, srv *testsupport.Server, path, session string, body map[string]any) *testsupport.Envelope {
	t.Helper()
	var env *testsupport.Envelope
	if session == "" {
		env = srv.AdminPost(t, path, body)
	} else {
		env = srv.Post(t, path, session, body)
	}
	if env.Status != http.StatusOK || env.HasError {
		t.Fatalf("%s %v: %d %s", path, body, env.Status, env.Raw)
	}
	return env
}

// newPublicFolder creates a Public Folder of the session's user.
func newPublicFolder(t *testing.T, srv *testsupport.Server, session, name string) string {
	t.Helper()
	var f struct{ ID string }
	apiOK(t, srv, "/api/createPublicFolder", session, map[string]any{"name": name}).Decode(t, &f)
	if !strings.HasPrefix(f.ID, "p-") {
		t.Fatalf("Public Folder id %q", f.ID)
	}
	return f.ID
}

// approve submits the Item for approval as its owner and approves it with
// the admin key: it becomes public.
func approve(t *testing.T, srv *testsupport.Server, owner testsupport.Account, it *aimg.Item) {
	t.Helper()
	apiOK(t, srv, "/api/setItemProperties", owner.SessionID, map[string]any{"imageID": it.ID, "publicApprovalStatus": "pending"})
	apiOK(t, srv, "/api/setPublicApprovalStatus", "", map[string]any{"imageIDs": it.ID, "publicApprovalStatus": "approved"})
}

// publish makes the Item public and approved, tags it, and puts it in the
// Public Folder.
func publish(t *testing.T, srv *testsupport.Server, owner testsupport.Account, it *aimg.Item, folderID string, tags ...string) {
	t.Helper()
	approve(t, srv, owner, it)
	if len(tags) > 0 {
		apiOK(t, srv, "/api/addTagsToItem", owner.SessionID, map[string]any{"imageID": it.ID, "tags": tags})
	}
	apiOK(t, srv, "/api/addImagesToPublicFolder", owner.SessionID, map[string]any{"folderID": folderID, "imageIDs": it.ID})
}

// gallery is a published world: ada's Public Folder holds one published
// Item and one she made private again, her other Public Folder one
// published Item (the newest); she has a private Item, an approved public
// one outside any Public Folder, and a Private Folder.
type gallery struct {
	ada                                         testsupport.Account
	folder, otherFolder, privateFolder          string
	published, owl, withdrawn, private, unfiled *aimg.Item
}

func newGallery(t *testing.T, srv *testsupport.Server) gallery {
	t.Helper()
	g := gallery{ada: testsupport.SignUp(t, srv, "ada@example.com")}
	u, err := srv.App.Store.UserByID(context.Background(), g.ada.UserID)
	if err != nil {
		t.Fatal(err)
	}
	u.Username, u.ProfilePicture = "ada", "data:image/webp;base64,UklGRg=="
	if err := srv.App.Store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	g.folder = newPublicFolder(t, srv, g.ada.SessionID, "Foxes of the north")
	var pf struct{ ID string }
	apiOK(t, srv, "/api/createSelfFolder", g.ada.SessionID, map[string]any{"name": "Secret sketches"}).Decode(t, &pf)
	g.privateFolder = pf.ID

	g.published = storedItem(t, srv, g.ada.UserID, "a published fox")
	publish(t, srv, g.ada, g.published, g.folder, "fox")
	g.withdrawn = storedItem(t, srv, g.ada.UserID, "a withdrawn heron")
	publish(t, srv, g.ada, g.withdrawn, g.folder, "fox")
	apiOK(t, srv, "/api/setItemProperties", g.ada.SessionID, map[string]any{"imageID": g.withdrawn.ID, "isPublic": false})
	g.private = storedItem(t, srv, g.ada.UserID, "a private owl")
	apiOK(t, srv, "/api/addTagsToItem", g.ada.SessionID, map[string]any{"imageID": g.private.ID, "tags": []string{"fox", "owl"}})
	apiOK(t, srv, "/api/addImagesToSelfFolder", g.ada.SessionID, map[string]any{"folderID": g.privateFolder, "imageIDs": g.private.ID})
	g.unfiled = storedItem(t, srv, g.ada.UserID, "an unfiled lynx")
	approve(t, srv, g.ada, g.unfiled)
	g.otherFolder = newPublicFolder(t, srv, g.ada.SessionID, "Owls")
	g.owl = storedItem(t, srv, g.ada.UserID, "a public owl")
	publish(t, srv, g.ada, g.owl, g.otherFolder, "owl")
	return g
}

// hidden are the Items no public page may show.
func (g gallery) hidden() []*aimg.Item { return []*aimg.Item{g.withdrawn, g.private, g.unfiled} }

// cardIDs are the Items a page's grid shows, in order.
func cardIDs(body string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<li class="card feed-card" data-item="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// wantOnly checks that the page is a 200 showing exactly want's cards and
// nothing of the hidden Items, not even their prompts.
func wantOnly(t *testing.T, path string, p page, hidden []*aimg.Item, want ...*aimg.Item) {
	t.Helper()
	if p.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", path, p.Status, p.Body)
	}
	got := cardIDs(p.Body)
	ok := len(got) == len(want)
	for i := range want {
		ok = ok && got[i] == want[i].ID
	}
	if !ok {
		t.Fatalf("%s: cards %v, want %d: %s", path, got, len(want), p.Body)
	}
	for _, it := range hidden {
		if strings.Contains(p.Body, it.ID) || strings.Contains(p.Body, it.Prompt) {
			t.Fatalf("%s shows %q", path, it.Prompt)
		}
	}
}

func TestPublicPagesShowOnlyPublishedItems(t *testing.T) {
	srv := newServer(t)
	g := newGallery(t, srv)
	anon := newVisitor(t, srv) // signed out: no account, no guest
	bob := newVisitor(t, srv)
	bob.signUpWithCode("bob@example.com")

	for _, v := range []*visitor{anon, bob} {
		for _, path := range []string{"/explore", "/explore?feed=latest", "/explore?feed=public"} {
			wantOnly(t, path, v.get(path), g.hidden(), g.owl, g.published)
		}
		for _, path := range []string{"/explore?tag=fox", "/explore?tag=FOX"} {
			wantOnly(t, path, v.get(path), g.hidden(), g.published)
		}
		wantOnly(t, "/explore?tag=owl", v.get("/explore?tag=owl"), g.hidden(), g.owl)
		wantOnly(t, "/explore?tag=cat", v.get("/explore?tag=cat"), g.hidden())
		p := v.get("/u/" + g.ada.UserID)
		wantOnly(t, "the user's page", p, g.hidden(), g.owl, g.published)
		if !strings.Contains(p.Body, "<h1>ada</h1>") || !strings.Contains(p.Body, `src="data:image/webp;base64,UklGRg=="`) ||
			!strings.Contains(p.Body, `href="/f/`+g.folder+`"`) || strings.Contains(p.Body, g.privateFolder) || strings.Contains(p.Body, "Secret sketches") {
			t.Fatalf("the user's page: %s", p.Body)
		}
		p = v.get("/f/" + g.folder)
		wantOnly(t, "the Public Folder", p, append(g.hidden(), g.owl), g.published)
		if !strings.Contains(p.Body, "Foxes of the north") || !strings.Contains(p.Body, `href="/u/`+g.ada.UserID+`"`) {
			t.Fatalf("the Public Folder page: %s", p.Body)
		}
		// The public Item's page opens for anyone; the others are not found.
		if p := v.get("/items/" + g.published.ID); p.Status != http.StatusOK || !strings.Contains(p.Body, "a published fox") {
			t.Fatalf("the public Item's page: %d %s", p.Status, p.Body)
		}
		for _, it := range g.hidden() {
			if p := v.get("/items/" + it.ID); p.Status != http.StatusNotFound || strings.Contains(p.Body, it.Prompt) {
				t.Fatalf("%q's page: %d", it.Prompt, p.Status)
			}
		}
	}
	// The tags in use link to the feed of each; the Item's tag links too.
	p := anon.get("/explore")
	if !strings.Contains(p.Body, `<a href="/explore?tag=fox">#fox</a> <span class="hint">`) {
		t.Fatalf("no tag list: %s", p.Body)
	}
	for _, path := range []string{"/explore", "/u/" + g.ada.UserID, "/f/" + g.folder} {
		body := anon.get(path).Body
		if regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(body) || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", path)
		}
	}
	// The owner sees the same public pages (her private Items stay on hers).
	owner := newVisitor(t, srv)
	owner.post("/signin", url.Values{"email": {g.ada.Email}, "password": {testsupport.TestPassword}})
	wantOnly(t, "the owner's public page", owner.get("/u/"+g.ada.UserID), g.hidden(), g.owl, g.published)
}

// Unknown ids get the service's 404; ids of the wrong form its 400.
func TestPublicPagesUnknownIDs(t *testing.T) {
	srv := newServer(t)
	g := newGallery(t, srv)
	v := newVisitor(t, srv)
	guest := newVisitor(t, srv)
	guest.queueImages(1) // a guest's record: not a public user
	guestID := testsupport.Self(t, srv, guest.session()).UserID
	for path, want := range map[string]int{
		"/u/" + uuid.NewString():   http.StatusNotFound,
		"/u/" + guestID:            http.StatusNotFound,
		"/f/p-" + uuid.NewString(): http.StatusNotFound,
		"/f/" + g.privateFolder:    http.StatusBadRequest,
		"/f/nothing":               http.StatusBadRequest,
		"/explore?feed=popular":    http.StatusBadRequest,
		"/explore?tag=%23":         http.StatusBadRequest,
		"/explore?before=soon":     http.StatusBadRequest,
	} {
		p := v.get(path)
		if p.Status != want || !strings.Contains(p.Body, `id="page-error"`) || strings.Contains(p.Body, "Secret sketches") {
			t.Errorf("%s: %d, want %d: %s", path, p.Status, want, p.Body)
		}
	}
	if p := v.get("/u/" + uuid.NewString()); !strings.Contains(p.Body, "User not found") {
		t.Errorf("unknown user: %s", p.Body)
	}
	if p := v.get("/f/p-" + uuid.NewString()); !strings.Contains(p.Body, "Public Folder not found") {
		t.Errorf("unknown Public Folder: %s", p.Body)
	}
}

// A feed pages by paginationIndex: the "More" link holds the next page.
func TestExplorePages(t *testing.T) {
	srv := newServer(t)
	ada := testsupport.SignUp(t, srv, "ada@example.com")
	folder := newPublicFolder(t, srv, ada.SessionID, "Many")
	for i := range 25 { // one at a time: a paginationIndex (time published) each
		publish(t, srv, ada, storedItem(t, srv, ada.UserID, "fox number "+strconv.Itoa(i)), folder)
	}
	v := newVisitor(t, srv)
	for _, path := range []string{"/explore?feed=public", "/explore?feed=latest", "/f/" + folder, "/u/" + ada.UserID} {
		p := v.get(path)
		more := regexp.MustCompile(`id="more" href="([^"]+)"`).FindStringSubmatch(p.Body)
		if n := len(cardIDs(p.Body)); n != 24 || more == nil {
			t.Fatalf("%s: %d cards, More %v", path, n, more)
		}
		p = v.get(html.UnescapeString(more[1]))
		if got := cardIDs(p.Body); len(got) != 1 || strings.Contains(p.Body, `id="more"`) {
			t.Fatalf("%s, page 2 (%s): %v", path, more[1], got)
		}
	}
}

// tightLimit allows one call per hour under rule.
func tightLimit(rule string) func(*config.Config) {
	return func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{rule: {Requests: 1, Per: time.Hour, Burst: 1}}
	}
}

// The pages count against the API's own limits per client address: past
// them, a 429 page with Retry-After, and the API's calls share the count.
func TestPublicPagesAreRateLimited(t *testing.T) {
	for _, c := range []struct {
		rule, first string
		refused     []string // after first
		allowed     []string // other limits only
	}{
		{"publicFeeds:ip", "/api/getLatestItems", []string{"/explore", "/explore?feed=public", "/u/{user}", "/f/{folder}"}, nil},
		{"getPublicFolders:ip", "/f/{folder}", []string{"/u/{user}", "/api/getPublicFolders", "/f/{folder}"},
			[]string{"/explore", "/u/{user}?before=1"}},
		{"getTagsList:ip", "/explore", []string{"/explore?feed=public", "/api/getTagsList"},
			[]string{"/explore?before=1", "/u/{user}", "/f/{folder}"}},
	} {
		t.Run(c.rule, func(t *testing.T) {
			srv := newServer(t, tightLimit(c.rule))
			ada := testsupport.SignUp(t, srv, "ada@example.com")
			folder := newPublicFolder(t, srv, ada.SessionID, "Limited")
			at := strings.NewReplacer("{user}", ada.UserID, "{folder}", folder).Replace
			v := newVisitor(t, srv)
			if p := v.get(at(c.first)); p.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", c.first, p.Status, p.Body)
			}
			for _, path := range c.refused {
				p := v.get(at(path))
				retry, _ := strconv.Atoi(p.Header.Get("Retry-After"))
				if p.Status != http.StatusTooManyRequests || retry < 1 || !strings.Contains(p.Body, "Too many requests") {
					t.Fatalf("%s after %s: %d, Retry-After %q: %s", path, c.first, p.Status, p.Header.Get("Retry-After"), p.Body)
				}
			}
			for _, path := range c.allowed {
				if p := v.get(at(path)); p.Status != http.StatusOK {
					t.Fatalf("%s under another limit: %d %s", path, p.Status, p.Body)
				}
			}
		})
	}
}

// "/" shows the public feeds to a visitor with no account yet, and Create
// to one who has one (a guest's too).
func TestHomePage(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	if p := v.get("/"); p.Status != http.StatusOK || p.URL.Path != "/explore" {
		t.Fatalf("a new visitor's home: %d at %s", p.Status, p.URL)
	}
	v.queueImages(1)
	if p := v.get("/"); p.URL.Path != "/create" {
		t.Fatalf("a guest's home: %s", p.URL)
	}
	member := newVisitor(t, srv)
	member.signUpWithCode("member@example.com")
	if p := member.get("/"); p.URL.Path != "/create" {
		t.Fatalf("a member's home: %s", p.URL)
	}
}

// The Item page is limited per address for a visitor without an account
// record (it is the one page a stranger opens by id); a signed-in user is
// not counted there.
func TestItemPageIsRateLimitedForStrangers(t *testing.T) {
	srv := newServer(t, tightLimit("itemPage:ip"))
	path := "/items/" + uuid.NewString()
	stranger := newVisitor(t, srv)
	if p := stranger.get(path); p.Status != http.StatusNotFound {
		t.Fatalf("first look: %d %s", p.Status, p.Body)
	}
	p := stranger.get(path)
	if retry, _ := strconv.Atoi(p.Header.Get("Retry-After")); p.Status != http.StatusTooManyRequests || retry < 1 {
		t.Fatalf("second look: %d, Retry-After %q: %s", p.Status, p.Header.Get("Retry-After"), p.Body)
	}
	if p := stranger.get(path + "/preview"); p.Status != http.StatusTooManyRequests {
		t.Fatalf("the preview after the page: %d %s", p.Status, p.Body)
	}
	member := newVisitor(t, srv)
	member.signUpWithCode("member@example.com")
	for range 2 {
		if p := member.get(path); p.Status != http.StatusNotFound {
			t.Fatalf("a signed-in user: %d %s", p.Status, p.Body)
		}
	}
}
