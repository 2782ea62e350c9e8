package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// End-to-end in headless Chromium (Debian's chromium; .ci/run installs
// it), driven by chromedp. Without Chromium the tests skip, unless
// AIMG_TEST_REQUIRE_SERVICES is set (CI): then they fail.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(testsupport.RequireServicesEnv) != "" {
		t.Fatalf("Chromium is required here (%s is set): apt-get install -y chromium", testsupport.RequireServicesEnv)
	}
	t.Skip("skipped: no Chromium on PATH (apt-get install -y chromium)")
	return ""
}

// browser is one headless Chromium for the test, with its own profile.
type browser struct {
	t   *testing.T
	ctx context.Context
	axe string // axe-core's script, for checkAxe
}

// Screen sizes of the failure screenshots.
var screens = []struct {
	name          string
	width, height int64
}{{"phone", 390, 844}, {"desktop", 1280, 800}}

// newBrowser starts Chromium. Call it after newServer: cleanups run in
// reverse, so the browser closes (ending its open event streams) before
// the test server waits for its connections to end.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	t.Cleanup(b.screenshotOnFailure) // runs first, while the browser lives
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// otherProfile is a second visitor in the same Chromium: a new browser
// context, with its own cookies.
func (b *browser) otherProfile() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	o := &browser{t: b.t, ctx: ctx}
	b.t.Cleanup(cancel)
	b.t.Cleanup(o.screenshotOnFailure)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("a new browser context: %v", err)
	}
	return o
}

// signUpWithCode signs up with the code the email in the outbox carries.
func (b *browser) signUpWithCode(srv *testsupport.Server, email string) {
	b.t.Helper()
	b.run("sign-up code step",
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.SendKeys(id("su-email"), email),
		chromedp.Click(css("#signup-otp-form button")),
		chromedp.WaitVisible(id("otp")),
	)
	code := emailedLink(b.t, srv, email).OTP
	b.run("sign up",
		chromedp.SendKeys(id("otp"), code),
		chromedp.Click(id("signup-adult")),
		chromedp.Click(css("#signup-code-form button[type=submit]")),
		chromedp.WaitVisible(id("signout")),
	)
}

// stepBound bounds each call, so that a page that never shows what is
// awaited fails the test instead of hanging it.
const stepBound = 60 * time.Second

// run performs steps.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepBound)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action and returns its value.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepBound)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshotOnFailure saves the current page at phone and desktop widths.
func (b *browser) screenshotOnFailure() {
	if !b.t.Failed() {
		return
	}
	dir := os.Getenv("AIMG_TEST_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "aimg-web-"+strings.ReplaceAll(b.t.Name(), "/", "-")+"-"+fmt.Sprint(time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshots: %v", err)
		return
	}
	for _, s := range screens {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(s.width, s.height))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		cancel()
		if err != nil {
			b.t.Logf("screenshot %s: %v", s.name, err)
			continue
		}
		path := filepath.Join(dir, s.name+".png")
		if err := os.WriteFile(path, png, 0o644); err == nil {
			b.t.Logf("screenshot at %s width: %s", s.name, path)
		}
	}
}

// Sign up with the code from the outbox, generate on the embedded worker
// and watch the card reach done without a reload, find the image in the
// gallery (which fits a phone's width).
func TestBrowserSignUpGenerateAndGallery(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.EmbeddedWorker = true })
	b := newBrowser(t)
	b.signUpWithCode(srv, "browser@example.com")

	// create.js follows the Model: sketch's sizes replace the default's.
	b.run("choose the Model",
		chromedp.SetValue(id("modelName"), "sketch"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('modelName').dispatchEvent(new Event('change')), undefined`),
	)
	widths := value(b, "widths", chromedp.Evaluate[string](`[...document.querySelectorAll('#width option')].map(o => o.value).join(',')`))
	if widths != "128,192,256" {
		t.Fatalf("widths after choosing sketch: %q", widths)
	}
	b.run("generate",
		chromedp.SetValue(id("width"), "128"),
		chromedp.SetValue(id("height"), "128"),
		chromedp.SetValue(id("steps"), "2"),
		chromedp.SendKeys(id("prompt"), "a lighthouse at dusk"),
		chromedp.Click(id("generate")),
		chromedp.WaitVisible(css("#watch [data-item]")),
		// A mark on the document: it survives only if no reload happens.
		chromedp.Evaluate[chromedp.Void](`window.aimgMark = 1, undefined`),
	)
	itemID := value(b, "item id", chromedp.Evaluate[string](`document.querySelector('#watch [data-item]').dataset.item`))
	b.run("watch it reach done", chromedp.WaitVisible(css(`#watch [data-status="completed"] img`)))
	state := value(b, "state", chromedp.Text(css(`#watch [data-status="completed"] .state`)))
	sameDocument := value(b, "mark", chromedp.Evaluate[bool](`window.aimgMark === 1`))
	if state != "Done" || !sameDocument {
		t.Fatalf("card state %q, same document %v", state, sameDocument)
	}

	sel := css(`#grid [data-item="` + itemID + `"] img`)
	b.run("find it in the gallery", chromedp.Navigate(srv.URL+"/creations"), chromedp.WaitVisible(sel))
	srcset := value(b, "srcset", chromedp.AttributeValue(sel, "srcset"))
	loading := value(b, "loading", chromedp.AttributeValue(sel, "loading"))
	if !srcset.Exists || !strings.Contains(srcset.Value, "width=256") || !strings.Contains(srcset.Value, "512w") || loading.Value != "lazy" {
		t.Fatalf("thumbnail srcset %+v loading %+v", srcset, loading)
	}
	b.run("phone width", chromedp.EmulateViewport(390, 844))
	if !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
		t.Fatal("the gallery is wider than a phone's screen")
	}
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }
func id(s string) chromedp.ID   { return chromedp.ID(s) }

// A visitor (a guest session) queues an image with no worker running and
// cancels it from the same card.
func TestBrowserCancelQueued(t *testing.T) {
	srv := newServer(t) // no worker: the Job stays queued
	b := newBrowser(t)
	// By keyboard: the first Tab reaches the skip link, with a visible focus ring.
	b.run("keyboard", chromedp.Navigate(srv.URL+"/create?model=sketch"), chromedp.KeyEvent("\t"))
	focus := value(b, "focus", chromedp.Evaluate[string](`document.activeElement.className + ' ' + getComputedStyle(document.activeElement).outlineStyle`))
	if focus != "skip solid" {
		t.Fatalf("first Tab: focused %q", focus)
	}
	for _, path := range []string{"/create", "/signin", "/signup"} {
		b.run("open "+path, chromedp.Navigate(srv.URL+path))
		unlabelled := value(b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).map(e => e.id || e.name)`))
		if len(unlabelled) != 0 {
			t.Fatalf("%s: fields without a label: %v", path, unlabelled)
		}
	}
	b.run("queue",
		chromedp.Navigate(srv.URL+"/create?model=sketch"),
		chromedp.SetValue(id("width"), "128"),
		chromedp.SetValue(id("height"), "128"),
		chromedp.SendKeys(id("prompt"), "a slow river"),
		chromedp.Click(id("generate")),
		chromedp.WaitVisible(css(`#watch [data-status="queued"]`)),
	)
	if queued := value(b, "queued", chromedp.Text(css(`#watch [data-status="queued"] .state`))); queued != "Queued, position 1" {
		t.Fatalf("queued card: %q", queued)
	}
	b.run("cancel",
		chromedp.Click(css(`#watch .cancel button`)),
		chromedp.WaitVisible(css(`#watch [data-status="failed"]`)),
	)
	if cancelled := value(b, "cancelled", chromedp.Text(css(`#watch [data-status="failed"] .state`))); !strings.Contains(cancelled, "cancelled") {
		t.Fatalf("cancelled card: %q", cancelled)
	}
}

// The gallery loads its next page as the "More" link scrolls into view.
func TestBrowserInfiniteScroll(t *testing.T) {
	srv := newServer(t, manyQueued(40))
	b := newBrowser(t)
	for range 7 {
		b.run("queue four",
			chromedp.Navigate(srv.URL+"/create?model=sketch"),
			chromedp.SetValue(id("width"), "128"),
			chromedp.SetValue(id("height"), "128"),
			chromedp.SetValue(id("count"), "4"),
			chromedp.SendKeys(id("prompt"), "a field of wheat"),
			chromedp.Click(id("generate")),
			chromedp.WaitVisible(css("#watch [data-item]")),
		)
		srv.Clock.Advance(time.Millisecond) // a paginationIndex per batch
	}
	b.run("scroll the gallery",
		chromedp.Navigate(srv.URL+"/creations"),
		chromedp.WaitVisible(css("#grid")),
		chromedp.ScrollIntoView(id("more")),
		chromedp.WaitNotPresent(id("more")),
	)
	if n := value(b, "cards", chromedp.Evaluate[int](`document.querySelectorAll('#grid > li').length`)); n != 28 {
		t.Fatalf("%d cards after scrolling", n)
	}
}
