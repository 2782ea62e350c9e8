package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"aimg/internal/testsupport"
)

// A signed-out browser opens the site, lands on /explore, scrolls the feed
// to its end, opens an approved public Item's page, then the creator's page
// and their Public Folder.
func TestBrowserExplorePublicItemsAndFolder(t *testing.T) {
	srv := newServer(t)
	ada := testsupport.SignUp(t, srv, "ada@example.com")
	folder := newPublicFolder(t, srv, ada.SessionID, "Foxes of the north")
	first := storedItem(t, srv, ada.UserID, "the first fox")
	publish(t, srv, ada, first, folder, "fox")
	for i := range 25 {
		publish(t, srv, ada, storedItem(t, srv, ada.UserID, "fox number "+strconv.Itoa(i)), folder)
	}
	private := storedItem(t, srv, ada.UserID, "a private owl")
	b := newBrowser(t)

	b.run("open the site", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(css("#grid")))
	if path := value(b, "path", chromedp.Evaluate[string](`location.pathname`)); path != "/explore" {
		t.Fatalf("a signed-out visitor's home is %s", path)
	}
	b.run("scroll the feed",
		chromedp.ScrollIntoView(id("more")),
		chromedp.WaitNotPresent(id("more")),
	)
	ids := value(b, "cards", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#grid > li')].map(li => li.dataset.item)`))
	if len(ids) != 26 || ids[25] != first.ID {
		t.Fatalf("%d cards after scrolling, the oldest %v", len(ids), ids[len(ids)-1:])
	}
	for _, id := range ids {
		if id == private.ID {
			t.Fatal("the private Item is in the feed")
		}
	}

	card := `#grid [data-item="` + first.ID + `"]`
	b.run("open the Item", chromedp.Click(css(card+" a.thumb")), chromedp.WaitVisible(css("dl.params")))
	if prompt := value(b, "prompt", chromedp.Evaluate[string](`document.querySelector('dl.params').textContent`)); !strings.Contains(prompt, "the first fox") {
		t.Fatalf("the Item page shows %q", prompt)
	}

	b.run("open the creator's page",
		chromedp.NavigateBack(),
		chromedp.WaitVisible(css("#grid")),
		chromedp.Click(css(`#grid li:first-child .meta a[href^="/u/"]`)),
		chromedp.WaitVisible(id("folders")),
	)
	b.run("open the Public Folder",
		chromedp.Click(css(`#folders a[href="/f/`+folder+`"]:not(.thumb)`)),
		chromedp.WaitVisible(css("#grid")),
	)
	heading := value(b, "heading", chromedp.Text(css("h1")))
	n := value(b, "folder cards", chromedp.Evaluate[int](`document.querySelectorAll('#grid > li').length`))
	if heading != "Foxes of the north" || n != 24 {
		t.Fatalf("the Public Folder page: %q with %d cards", heading, n)
	}
	b.run("phone width", chromedp.EmulateViewport(390, 844))
	if !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
		t.Fatal("the Public Folder page is wider than a phone's screen")
	}
}
