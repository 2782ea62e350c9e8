package web_test

import (
	"bytes"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// postFile submits a multipart form with one file, with the last page's
// CSRF token unless csrf is false; a nil body is sent chunked (no length).
func (v *visitor) postFile(path, field string, file []byte, csrf, chunked bool) page {
	v.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if csrf {
		_ = mw.WriteField(web.CSRFField, v.csrf)
	}
	fw, err := mw.CreateFormFile(field, "picture.png")
	if err != nil {
		v.t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	var body io.Reader = bytes.NewReader(b.Bytes())
	if chunked {
		body = io.MultiReader(&b) // hides the length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return v.do(req)
}

// noFollow is v's browser seen one answer at a time (same cookie jar).
func (v *visitor) noFollow() *http.Client {
	return &http.Client{Jar: v.http.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fieldError is the text of a field's error on the page, "" if none.
func fieldError(body, field string) string {
	_, rest, ok := strings.Cut(body, `id="`+field+`-error" role="alert">`)
	if !ok {
		return ""
	}
	msg, _, _ := strings.Cut(rest, "</p>")
	return html.UnescapeString(msg)
}

// expectFieldError checks status and that field's error contains want.
func expectFieldError(t *testing.T, p page, status int, field, want string) {
	t.Helper()
	if got := fieldError(p.Body, field); p.Status != status || !strings.Contains(got, want) {
		t.Fatalf("%s error: %d %q, want %d %q\n%s", field, p.Status, got, status, want, p.Body)
	}
}

func expectFlash(t *testing.T, p page, want string) {
	t.Helper()
	if p.Status != http.StatusOK || !strings.Contains(html.UnescapeString(p.Body), want) || !strings.Contains(p.Body, `id="flash"`) {
		t.Fatalf("want the flash %q: %d at %s\n%s", want, p.Status, p.URL, p.Body)
	}
}

func TestAccountProfile(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	if p := v.get("/account"); p.URL.Path != "/signin" {
		t.Fatalf("a visitor's /account: %s", p.URL)
	}
	v.signUpWithCode("me@example.com")
	if p := v.get("/account"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="current-email">me@example.com<`) {
		t.Fatalf("account page: %d %s", p.Status, p.Body)
	}

	expectFieldError(t, v.post("/account/username", url.Values{"username": {"no spaces"}}), 400, "username", "username: may contain only")
	expectFlash(t, v.post("/account/username", url.Values{"username": {"painter"}}), "Username saved: painter")
	if p := v.get("/account"); strings.Contains(p.Body, `id="flash"`) || !strings.Contains(p.Body, `value="painter"`) {
		t.Fatal("the flash is shown twice, or the username was not kept")
	}
	other := newVisitor(t, srv)
	other.signUpWithCode("other@example.com")
	expectFieldError(t, other.post("/account/username", url.Values{"username": {"painter"}}), 409, "username", "already taken")

	expectFieldError(t, v.post("/account/password", url.Values{"password": {testsupport.TestPassword}, "password2": {"x"}}), 400, "password2", "differ")
	expectFieldError(t, v.post("/account/password", url.Values{"password": {"short"}, "password2": {"short"}}), 400, "password", "password:")
	expectFlash(t, v.post("/account/password", url.Values{"password": {testsupport.TestPassword}, "password2": {testsupport.TestPassword}}), "Password changed")
	testsupport.SignIn(t, srv, "me@example.com", testsupport.TestPassword)

	// The email change: a code to the new address, then the change.
	expectFieldError(t, v.post("/account/email/code", url.Values{"email": {"other@example.com"}}), 409, "email", "already registered")
	p := v.post("/account/email/code", url.Values{"email": {"new@example.com"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="email-otp"`) {
		t.Fatalf("code step: %d %s", p.Status, p.Body)
	}
	code := emailedLink(t, srv, "new@example.com").OTP
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	expectFieldError(t, v.post("/account/email", url.Values{"email": {"new@example.com"}, "otp": {wrong}}), 400, "otp", "wrong or expired")
	expectFlash(t, v.post("/account/email", url.Values{"email": {"new@example.com"}, "otp": {code}}), "Email changed to new@example.com")
	if self := testsupport.Self(t, srv, v.session()); self.Email != "new@example.com" {
		t.Fatalf("email after the change: %+v", self)
	}

	// Forms without the token are refused, and change nothing.
	for _, path := range []string{"/account/username", "/account/password", "/account/delete", "/account/picture/remove"} {
		if p := v.post(path, url.Values{"csrf": {"x"}, "username": {"evil"}, "confirm": {"DELETE"}}); p.Status != http.StatusForbidden {
			t.Fatalf("%s without the token: %d", path, p.Status)
		}
	}

	// Deletion asks for the confirmation, then signs out.
	expectFieldError(t, v.post("/account/delete", url.Values{"confirm": {"yes"}}), 400, "confirm", "type DELETE")
	session := v.session()
	p = v.post("/account/delete", url.Values{"confirm": {"DELETE"}, "deleteItems": {"on"}})
	if p.URL.Path != "/signup" || strings.Contains(p.Body, `id="signout"`) {
		t.Fatalf("after deletion: %s %s", p.URL, p.Body)
	}
	if self := testsupport.Self(t, srv, session); self.IsAuthenticated {
		t.Fatal("the deleted account's session still signs in")
	}
	if p := other.get("/account"); !strings.Contains(p.Body, "other@example.com") || !strings.Contains(p.Body, `id="signout"`) {
		t.Fatal("another user's account was touched")
	}
}

// imageBudget sets the API's image body budget (which the picture upload
// shares) to n, with the API's other bodies below it as the config wants.
func imageBudget(n int64) func(*config.Config) {
	return func(c *config.Config) {
		c.Service.HTTP.MaxImageBodyBytes = n
		c.Service.HTTP.MaxBodyBytes = min(n, 64<<10)
	}
}

// noisyPNG is a PNG of side n that does not compress (about 4n² bytes).
func noisyPNG(t *testing.T, n int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.UintN(256))
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The picture upload has the API's image budget, not the forms' 64 KiB:
// a picture over 64 KiB goes through, one over the budget is a 413 that
// says so, and the service's decoding rules answer at the field.
func TestAccountPicture(t *testing.T) {
	const budget = 256 << 10
	srv := newServer(t, imageBudget(budget))
	v := newVisitor(t, srv)
	v.signUpWithCode("pic@example.com")
	v.get("/account")

	pic := noisyPNG(t, 180) // ~130 KB: over the forms' budget, under the picture's
	if len(pic) <= 64<<10 || len(pic) >= budget-1024 {
		t.Fatalf("test picture of %d bytes", len(pic))
	}
	if p := v.postFile("/account/picture", "profilePicture", pic, false, false); p.Status != http.StatusForbidden {
		t.Fatalf("upload without the token: %d", p.Status)
	}
	p := v.postFile("/account/picture", "profilePicture", pic, true, false)
	expectFlash(t, p, "Profile picture saved")
	if !strings.Contains(p.Body, `id="avatar" src="data:image/webp;base64,`) {
		t.Fatalf("no picture shown: %s", p.Body)
	}

	expectFieldError(t, v.postFile("/account/picture", "profilePicture", []byte("not an image"), true, false), 400, "profilePicture", "profilePicture:")

	big := noisyPNG(t, 300) // ~360 KB
	for _, chunked := range []bool{false, true} {
		p = v.postFile("/account/picture", "profilePicture", big, true, chunked)
		if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "The picture is larger than the upload budget of 256 KiB") {
			t.Fatalf("over the budget (chunked %v): %d %s", chunked, p.Status, p.Body)
		}
	}
	// Other forms keep their 64 KiB.
	if p := v.post("/account/username", url.Values{"username": {strings.Repeat("x", 100<<10)}}); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a large form elsewhere: %d", p.Status)
	}

	p = v.post("/account/picture/remove", url.Values{})
	expectFlash(t, p, "Profile picture removed")
	if !strings.Contains(p.Body, `id="no-avatar"`) {
		t.Fatal("the picture is still shown")
	}
}

// The account pages hold no inline script or style (the CSP forbids them).
func TestAccountPagesHaveNoInlineCode(t *testing.T) {
	srv, _ := googleServer(t)
	v := newVisitor(t, srv)
	v.signUpWithCode("inline@example.com")
	for _, path := range []string{"/account", "/account/premium", "/account/app-passwords"} {
		p := v.get(path)
		if p.Status != http.StatusOK || regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(p.Body) ||
			strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<style") {
			t.Errorf("%s: %d, or inline script or style:\n%s", path, p.Status, p.Body)
		}
	}
	v.post("/signout", url.Values{})
	if body := v.get("/signin").Body; strings.Contains(body, "style=") || !strings.Contains(body, "Continue with Google") {
		t.Errorf("/signin with a provider:\n%s", body)
	}
}
