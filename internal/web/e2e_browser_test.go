package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// The whole way of an image, in Chromium, through the pages only: sign up
// with the emailed code, generate and watch it reach done, find it in the
// gallery, tag it, request approval (a second user cannot open it); an Admin (another browser profile)
// approves it; the owner puts it in a new Public Folder; a signed-out
// visitor (a third profile) finds it in the public feed, by its tag and in
// the folder.
func TestBrowserFromSignUpToThePublicFeed(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.EmbeddedWorker = true })
	owner := newBrowser(t)
	owner.signUpWithCode(srv, "flow@example.com")
	owner.sessionStaysInTheCookie("after signing up")

	owner.run("generate",
		chromedp.Navigate(srv.URL+"/create?model=sketch"),
		chromedp.SetValue(id("width"), "128"),
		chromedp.SetValue(id("height"), "128"),
		chromedp.SetValue(id("steps"), "2"),
		chromedp.SendKeys(id("prompt"), "a heron in the reeds"),
		chromedp.Click(id("generate")),
		chromedp.WaitVisible(css("#watch [data-item]")),
	)
	itemID := value(owner, "item id", chromedp.Evaluate[string](`document.querySelector('#watch [data-item]').dataset.item`))
	owner.run("watch it reach done", chromedp.WaitVisible(css(`#watch [data-status="completed"] img`)))

	card := `#grid [data-item="` + itemID + `"]`
	owner.run("find it in the gallery and open it",
		chromedp.Navigate(srv.URL+"/creations"),
		chromedp.WaitVisible(css(card+" img")),
		chromedp.Click(css(card+" a")),
		chromedp.WaitVisible(id("tags")),
	)
	owner.run("tag it and request approval",
		chromedp.SendKeys(id("tags"), "heron"),
		chromedp.Click(id("add-tags")),
		chromedp.WaitVisible(id("tag-list")),
		chromedp.Click(id("request-approval")),
		chromedp.WaitVisible(id("withdraw-approval")),
	)
	owner.sessionStaysInTheCookie("on the Item page")

	second := owner.otherProfile()
	second.signUp(srv, "second@example.com")
	second.run("a second user opens the private Item", chromedp.Navigate(srv.URL+"/items/"+itemID), chromedp.WaitVisible(id("page-error")))
	if title := value(second, "title", chromedp.Title()); !strings.HasPrefix(title, "Not Found") {
		t.Fatalf("a second user's view of the private Item is titled %q", title)
	}

	admin := owner.otherProfile()
	admin.run("approve it as Admin",
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.SendKeys(id("adminKey"), testsupport.AdminKey),
		chromedp.Click(id("enter-admin-key")),
		chromedp.WaitVisible(id("admin-signout")),
		chromedp.Navigate(srv.URL+"/admin/approvals"),
		chromedp.Click(id("approve-"+itemID)),
		chromedp.WaitVisible(id("no-approvals")),
	)
	admin.sessionStaysInTheCookie("on the approval queue")

	owner.run("make a Public Folder",
		chromedp.Navigate(srv.URL+"/folders"),
		chromedp.SetValue(id("kind"), "public"),
		chromedp.SendKeys(id("name"), "Birds"),
		chromedp.Click(id("create-folder")),
		chromedp.WaitVisible(id("rename-folder")),
	)
	folderID := strings.TrimPrefix(value(owner, "Folder URL", chromedp.Evaluate[string](`location.pathname`)), "/folders/")
	owner.run("put the Item in it",
		chromedp.Navigate(srv.URL+"/items/"+itemID),
		chromedp.SetValue(id("destinationFolderID"), folderID),
		chromedp.Click(id("move")),
		chromedp.WaitVisible(css(`#item-folder a[href="/folders/`+folderID+`"]`)),
	)
	if state := value(owner, "approval state", chromedp.Text(id("approval-state"))); !strings.HasPrefix(state, "Public: everyone") {
		t.Fatalf("the owner's Item page says %q", state)
	}

	visitor := owner.otherProfile()
	visitor.run("a signed-out visitor finds it in the public feed",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css(card+" img")),
		chromedp.Navigate(srv.URL+"/explore?feed=public&tag=heron"),
		chromedp.WaitVisible(css(card+" img")),
		chromedp.Navigate(srv.URL+"/f/"+folderID),
		chromedp.WaitVisible(css(card+" img")),
		chromedp.Click(css(card+" a")),
		chromedp.WaitVisible(css("dl.params")),
	)
	if signedIn := value(visitor, "sign-out button", chromedp.Evaluate[bool](`!!document.getElementById('signout')`)); signedIn {
		t.Fatal("the visitor's profile is signed in")
	}
	if text := value(visitor, "Item page", chromedp.Text(css("dl.params"))); !strings.Contains(text, "a heron in the reeds") {
		t.Fatalf("the visitor's Item page shows %q", text)
	}
}

// sessionStaysInTheCookie fails the test when the page's URL or HTML
// carries the browser's session id.
func (b *browser) sessionStaysInTheCookie(where string) {
	b.t.Helper()
	sid := value(b, "the session cookie", func(ctx context.Context, t *chromedp.Target) (string, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
		if err != nil {
			return "", err
		}
		for _, c := range res.Cookies {
			if c.Name == web.SessionCookie {
				return c.Value, nil
			}
		}
		return "", nil
	})
	if len(sid) != 36 {
		b.t.Fatalf("%s: session cookie %q", where, sid)
	}
	page := value(b, "the page", chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
	if strings.Contains(page, sid) {
		b.t.Fatalf("%s: the session id is in the page or its URL", where)
	}
}
