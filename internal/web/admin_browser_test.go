package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// Enter the admin key, find an Item in the approval queue and approve it
// with its button; every admin page labels its fields and fits a phone.
func TestBrowserAdminApproves(t *testing.T) {
	srv := newServer(t)
	item := pendingItems(t, srv, "owner@example.com", 1)[0]
	reportItems(t, srv, publicItems(t, srv, "author@example.com", 1))
	b := newBrowser(t)
	b.run("enter the key",
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.SendKeys(id("adminKey"), testsupport.AdminKey),
		chromedp.Click(id("enter-admin-key")),
		chromedp.WaitVisible(id("admin-signout")),
	)
	b.run("phone width", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/admin/approvals", "/admin/reports", "/admin/users?q=owner@example.com", "/admin/workers", "/admin/queues"} {
		b.run("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(id("admin-signout")))
		unlabelled := value(b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).map(e => e.id || e.name)`))
		if len(unlabelled) != 0 {
			t.Fatalf("%s: fields without a label: %v", path, unlabelled)
		}
		if !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
			t.Fatalf("%s is wider than a phone's screen", path)
		}
	}
	b.run("desktop width", chromedp.EmulateViewport(1280, 800))
	b.run("approve",
		chromedp.Navigate(srv.URL+"/admin/approvals"),
		chromedp.WaitVisible(id("approve-"+item.ID)),
		chromedp.Click(id("approve-"+item.ID)),
		chromedp.WaitVisible(id("no-approvals")),
	)
	if done := value(b, "notice", chromedp.Text(id("done"))); !strings.Contains(done, "Approved: 1.") {
		t.Fatalf("notice %q", done)
	}
	if it := itemInStore(t, srv, item.ID); it.PublicApprovalStatus != aimg.ApprovalApproved || !it.IsPublic {
		t.Fatalf("after the click: %s, public %v", it.PublicApprovalStatus, it.IsPublic)
	}
}
