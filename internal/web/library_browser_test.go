package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// signUp signs up with a password in the browser.
func (b *browser) signUp(srv *testsupport.Server, email string) {
	b.t.Helper()
	b.run("sign up",
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.SendKeys(id("pw-email"), email),
		chromedp.SendKeys(id("pw-password"), testsupport.TestPassword),
		chromedp.Click(css("#signup-password-form button[type=submit]")),
		chromedp.WaitVisible(id("signout")),
	)
}

// putBrowserItems stores n completed images of the user email, newest
// last, each changed by edit (may be nil).
func putBrowserItems(t *testing.T, srv *testsupport.Server, email string, n int, edit func(int, *aimg.Item)) []*aimg.Item {
	t.Helper()
	user, err := srv.App.Store.UserByEmail(context.Background(), srv.App.Config.Service.DomainForHost("127.0.0.1").ID, email)
	if err != nil {
		t.Fatal(err)
	}
	base := srv.Clock.Now().Add(-time.Hour)
	items := make([]*aimg.Item, n)
	for i := range items {
		at := base.Add(time.Duration(i) * time.Second)
		items[i] = &aimg.Item{ID: uuid.NewString(), UserID: user.ID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
			MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch", Prompt: "a lighthouse",
			Params: aimg.GenerationParams{Steps: 2, Width: 128, Height: 128}, FileID: uuid.NewString(),
			PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: at, UpdatedAt: at, CompletedAt: &at}
		if edit != nil {
			edit(i, items[i])
		}
	}
	if err := srv.App.Store.InsertItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	return items
}

// In Chromium: tag an Item, like it, make a Folder, move the Item into it
// and find it on the Folder page; every field of the library pages has a
// label and the pages fit a phone's width.
func TestBrowserTagLikeAndFolder(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t)
	const email = "lib@example.com"
	b.signUp(srv, email)
	it := putBrowserItems(t, srv, email, 1, nil)[0]
	itemURL := srv.URL + "/items/" + it.ID

	b.run("tag it",
		chromedp.Navigate(itemURL),
		chromedp.SendKeys(id("tags"), "Fox, sunset"),
		chromedp.Click(id("add-tags")),
		chromedp.WaitVisible(id("tag-list")),
	)
	if tags := value(b, "tags", chromedp.Text(id("tag-list"))); !strings.Contains(tags, "fox") || !strings.Contains(tags, "sunset") {
		t.Fatalf("tags shown: %q", tags)
	}
	b.run("like it", chromedp.Click(id("like")), chromedp.WaitVisible(css(`#like[aria-pressed="true"]`)))
	if like := value(b, "like", chromedp.Text(id("like"))); like != "Liked · 1" {
		t.Fatalf("like button: %q", like)
	}
	b.run("new Folder",
		chromedp.Navigate(srv.URL+"/folders"),
		chromedp.SendKeys(id("name"), "Trips"),
		chromedp.Click(id("create-folder")),
		chromedp.WaitVisible(id("rename-folder")),
	)
	folderPath := value(b, "Folder URL", chromedp.Evaluate[string](`location.pathname`))
	folderID := strings.TrimPrefix(folderPath, "/folders/")
	b.run("move it",
		chromedp.Navigate(itemURL),
		chromedp.SetValue(id("destinationFolderID"), folderID),
		chromedp.Click(id("move")),
		chromedp.WaitVisible(css(`#item-folder a[href="`+folderPath+`"]`)),
		chromedp.Click(css(`#item-folder a`)),
		chromedp.WaitVisible(css(`#grid [data-item="`+it.ID+`"]`)),
	)
	b.run("phone width", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/items/" + it.ID, "/folders", folderPath, "/creations"} {
		b.run("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(id("main")))
		unlabelled := value(b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).map(e => e.id || e.name)`))
		if len(unlabelled) != 0 {
			t.Fatalf("%s: fields without a label: %v", path, unlabelled)
		}
		if mute := value(b, "alt", chromedp.Evaluate[int](`[...document.querySelectorAll('img')].filter(i => !i.alt.trim() && !i.closest('[aria-hidden=true]')).length`)); mute != 0 {
			t.Fatalf("%s: %d images without a text alternative", path, mute)
		}
		if !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
			t.Fatalf("%s is wider than a phone's screen", path)
		}
	}
}

// The filter form's choice survives the infinite scroll: the pages
// gallery.js appends hold only the filtered Items.
func TestBrowserFilteredScroll(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t)
	const email = "scroll@example.com"
	b.signUp(srv, email)
	putBrowserItems(t, srv, email, 60, func(i int, it *aimg.Item) {
		if i%2 == 0 {
			it.MType, it.MediaType = aimg.MTypeVideo, "AnimatedImage"
		}
	})
	b.run("filter and scroll",
		chromedp.Navigate(srv.URL+"/creations"),
		chromedp.SetValue(id("mtype"), "video"),
		chromedp.Click(id("filter")),
		// The new page's own markup (the old one's select has no such attribute).
		chromedp.WaitReady(css(`#mtype option[value="video"][selected]`)),
		chromedp.WaitVisible(css("#grid")),
		chromedp.ScrollIntoView(id("more")),
		chromedp.WaitNotPresent(id("more")),
	)
	if n := value(b, "cards", chromedp.Evaluate[int](`document.querySelectorAll('#grid > li').length`)); n != 30 {
		t.Fatalf("%d cards after scrolling the videos, want 30", n)
	}
	if q := value(b, "query", chromedp.Evaluate[string](`location.search`)); !strings.Contains(q, "mtype=video") {
		t.Fatalf("the filter is not in the URL: %q", q)
	}
}
