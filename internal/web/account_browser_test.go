package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"aimg/internal/testsupport"
)

// In Chromium: the account pages label every field and fit a phone; a
// picture is uploaded from the file input, one over the budget is refused
// before it is sent (account.js); an app password is shown once.
func TestBrowserAccountPages(t *testing.T) {
	const budget = 256 << 10
	srv := newServer(t, imageBudget(budget))
	b := newBrowser(t)
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.png"), filepath.Join(dir, "big.png")
	for path, side := range map[string]int{small: 64, big: 300} {
		if err := os.WriteFile(path, noisyPNG(t, side), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	b.run("sign up with a password",
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.SendKeys(id("pw-email"), "chrome@example.com"),
		chromedp.SendKeys(id("pw-password"), testsupport.TestPassword),
		chromedp.Click(css("#signup-password-form button[type=submit]")),
		chromedp.WaitVisible(id("signout")),
	)
	for _, path := range []string{"/account", "/account/premium", "/account/app-passwords"} {
		b.run("open "+path, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(css("main h1")))
		unlabelled := value(b, "labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).map(e => e.id || e.name)`))
		if len(unlabelled) != 0 {
			t.Fatalf("%s: fields without a label: %v", path, unlabelled)
		}
	}

	b.run("a picture over the budget",
		chromedp.Navigate(srv.URL+"/account"),
		chromedp.SetUploadFiles(id("profilePicture"), []string{big}),
	)
	msg := value(b, "validity", chromedp.Evaluate[string](`document.getElementById('profilePicture').validationMessage`))
	if !strings.Contains(msg, "larger than the upload budget of 256 KiB") {
		t.Fatalf("over the budget, the input says %q", msg)
	}
	b.run("upload a picture",
		chromedp.SetUploadFiles(id("profilePicture"), []string{small}),
		chromedp.Click(css("#picture-form button[type=submit]")),
		chromedp.WaitVisible(id("avatar")),
	)
	if flash := value(b, "flash", chromedp.Text(id("flash"))); flash != "Profile picture saved." {
		t.Fatalf("flash %q", flash)
	}
	b.run("phone width", chromedp.EmulateViewport(390, 844))
	if !value(b, "fits", chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
		t.Fatal("the account page is wider than a phone's screen")
	}

	b.run("create an app password",
		chromedp.Navigate(srv.URL+"/account/app-passwords"),
		chromedp.SendKeys(id("name"), "laptop"),
		chromedp.Click(css("#app-password-form button[type=submit]")),
		chromedp.WaitVisible(id("new-secret")),
	)
	if secret := value(b, "secret", chromedp.Value(id("new-secret"))); len(secret) != 72 {
		t.Fatalf("secret %q", secret)
	}
	b.run("reload the list", chromedp.Navigate(srv.URL+"/account/app-passwords"), chromedp.WaitVisible(id("app-passwords")))
	if n := value(b, "secret again", chromedp.Evaluate[int](`document.querySelectorAll('#new-secret').length`)); n != 0 {
		t.Fatal("the secret is shown again")
	}
}
