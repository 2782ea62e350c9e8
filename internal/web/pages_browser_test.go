package web_test

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"aimg/internal/testsupport"
)

// Every page of the site, in Chromium, at phone and desktop widths: no
// script error and no Content-Security-Policy violation in the console,
// every field labelled, every image with a text alternative (or hidden
// from assistive tech), nothing wider than a phone's screen, and no
// violation of axe-core's WCAG A/AA rules (AIMG_TEST_AXE_JS: scripts/axe-core.sh).
func TestBrowserEveryPageIsClean(t *testing.T) {
	srv := newServer(t)
	ada := testsupport.SignUp(t, srv, "ada@example.com")
	folder := newPublicFolder(t, srv, ada.SessionID, "Foxes")
	public := storedItem(t, srv, ada.UserID, "a fox in the snow")
	publish(t, srv, ada, public, folder, "fox")

	b := newBrowser(t)
	b.axe = axeScript(t)
	problems := b.watchConsole()
	anonymous := []string{"/", "/explore", "/explore?feed=public", "/explore?feed=public&tag=fox", "/signin", "/signup",
		"/u/" + ada.UserID, "/f/" + folder, "/items/" + public.ID, "/no-such-page"}
	b.checkPages(srv, anonymous)

	const email = "pages@example.com"
	b.signUp(srv, email)
	own := putBrowserItems(t, srv, email, 2, nil)
	b.run("a Folder", chromedp.Navigate(srv.URL+"/folders"), chromedp.SendKeys(id("name"), "Mine"),
		chromedp.Click(id("create-folder")), chromedp.WaitVisible(id("rename-folder")))
	folderPath := value(b, "Folder URL", chromedp.Evaluate[string](`location.pathname`))
	b.checkPages(srv, []string{"/create", "/create?model=model3", "/creations", "/creations?mtype=video", "/items/" + own[0].ID,
		"/batches/" + own[0].BatchID, "/folders", folderPath, "/account", "/account/premium", "/account/app-passwords", "/admin"})

	b.run("enter the admin key", chromedp.Navigate(srv.URL+"/admin"), chromedp.SendKeys(id("adminKey"), testsupport.AdminKey),
		chromedp.Click(id("enter-admin-key")), chromedp.WaitVisible(id("admin-signout")))
	b.checkPages(srv, []string{"/admin", "/admin/approvals", "/admin/reports", "/admin/users?q=" + email, "/admin/workers", "/admin/queues"})

	if p := problems(); len(p) != 0 {
		t.Fatalf("the console reported:\n%s", strings.Join(p, "\n"))
	}
}

// checkPages opens each path at phone and desktop widths and checks the
// page's fields, images and width.
func (b *browser) checkPages(srv *testsupport.Server, paths []string) {
	b.t.Helper()
	for _, screen := range screens {
		b.run("screen "+screen.name, chromedp.EmulateViewport(screen.width, screen.height))
		for _, path := range paths {
			b.run("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(id("main")))
			unlabelled := value(b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.id || e.name)`))
			if len(unlabelled) != 0 {
				b.t.Fatalf("%s: fields without a label: %v", path, unlabelled)
			}
			if mute := value(b, "alt", chromedp.Evaluate[int](`[...document.querySelectorAll('img')].filter(i => !i.alt.trim() && !i.closest('[aria-hidden=true]')).length`)); mute != 0 {
				b.t.Fatalf("%s: %d images without a text alternative", path, mute)
			}
			if screen.name == "desktop" && b.axe != "" {
				b.checkAxe(path)
			}
			if screen.name == "phone" && !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
				b.t.Fatalf("%s is wider than a phone's screen", path)
			}
		}
	}
}

// axeScript is axe-core's script, or "" (the check is skipped) when
// AIMG_TEST_AXE_JS is unset, unless the services are required (CI).
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AIMG_TEST_AXE_JS")
	if path == "" {
		if os.Getenv(testsupport.RequireServicesEnv) != "" {
			t.Fatalf("axe-core is required here (%s is set): export \"$(bash scripts/axe-core.sh)\"", testsupport.RequireServicesEnv)
		}
		t.Log("axe-core check skipped: AIMG_TEST_AXE_JS is unset (scripts/axe-core.sh)")
		return ""
	}
	js, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("AIMG_TEST_AXE_JS: %v", err)
	}
	return string(js)
}

// checkAxe runs axe-core's WCAG 2.x A and AA rules on the current page.
// The script is evaluated over DevTools, which the page's CSP does not
// govern; the site itself never loads it.
func (b *browser) checkAxe(path string) {
	b.t.Helper()
	b.run("load axe-core", chromedp.Evaluate[chromedp.Void](b.axe+"\n;undefined"))
	found := value(b, "axe-core", chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
		.then(r => r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))`, chromedp.EvalAwaitPromise))
	if len(found) != 0 {
		b.t.Errorf("%s: axe-core found:\n  %s", path, strings.Join(found, "\n  "))
	}
}

// watchConsole collects the console's script errors and CSP violations
// from now on (a blocked inline script or style is reported there).
func (b *browser) watchConsole() func() []string {
	var mu sync.Mutex
	var bad []string
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				bad = append(bad, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bad...)
	}
}
