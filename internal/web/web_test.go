package web_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/mail"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// The web UI is a layer over the services, whose SQL runs on both
// databases in their own suites: these tests use SQLite.
func newServer(t *testing.T, edit ...func(*config.Config)) *testsupport.Server {
	t.Helper()
	return testsupport.NewServer(t, "sqlite:"+filepath.Join(t.TempDir(), "aimg.db"),
		append([]func(*config.Config){testsupport.WithoutRateLimits}, edit...)...)
}

// visitor is a browser without JavaScript: a cookie jar, the last page's
// CSRF token, and redirects followed.
type visitor struct {
	t    *testing.T
	srv  *testsupport.Server
	http *http.Client
	csrf string
}

func newVisitor(t *testing.T, srv *testsupport.Server) *visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, srv: srv, http: &http.Client{Jar: jar}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// page is one answer: status, final URL, body.
type page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	resp, err := v.http.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	if m := csrfRE.FindStringSubmatch(string(b)); m != nil {
		v.csrf = m[1]
	}
	return page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(b)}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.srv.URL+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

// post submits form with the last page's CSRF token, as the page's form does.
func (v *visitor) post(path string, form url.Values, header ...string) page {
	v.t.Helper()
	if form.Get(web.CSRFField) == "" && v.csrf != "" {
		form.Set(web.CSRFField, v.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return v.do(req)
}

func (v *visitor) session() string {
	u, _ := url.Parse(v.srv.URL)
	for _, c := range v.http.Jar.Cookies(u) {
		if c.Name == web.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// signUpWithCode signs up through the pages with the emailed code.
func (v *visitor) signUpWithCode(email string) {
	v.t.Helper()
	v.get("/signup")
	p := v.post("/signup/otp", url.Values{"email": {email}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="otp"`) {
		v.t.Fatalf("code step: %d %s", p.Status, p.Body)
	}
	code := emailedLink(v.t, v.srv, email).OTP
	p = v.post("/signup", url.Values{"email": {email}, "otp": {code}, "isAtLeast18Confirmed": {"on"}})
	if p.Status != http.StatusOK || p.URL.Path != "/create" || !strings.Contains(p.Body, `id="signout"`) {
		v.t.Fatalf("sign up: %d at %s: %s", p.Status, p.URL, p.Body)
	}
}

// emailedLink is the magic link of the newest email to email.
func emailedLink(t *testing.T, srv *testsupport.Server, email string) testsupport.MagicLinkPayload {
	t.Helper()
	var last *mail.Message
	for _, m := range srv.Outbox(t) {
		if strings.Contains(strings.ToLower(m.To), email) {
			last = &m
		}
	}
	if last == nil {
		t.Fatalf("no email to %s in the outbox", email)
	}
	return testsupport.MagicLink(t, *last)
}

func TestSecurityHeadersAndCookie(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	for _, path := range []string{"/signin", "/create", "/static/app.css", "/no-such-page"} {
		p := v.get(path)
		if got := p.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
			t.Errorf("%s: CSP %q", path, got)
		}
		if !strings.Contains(web.ContentSecurityPolicy, "script-src 'self'") || strings.Contains(web.ContentSecurityPolicy, "unsafe-inline") {
			t.Fatalf("CSP allows inline code: %s", web.ContentSecurityPolicy)
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
	}
	// Nothing inline: no <script> with a body, no style attribute or element.
	for _, path := range []string{"/signin", "/signup", "/create", "/creations"} {
		body := v.get(path).Body
		if regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(body) || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style:\n%s", path, body)
		}
	}

	resp, err := http.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := sessionCookie(t, resp)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || cookie.Path != "/" {
		t.Fatalf("cookie over HTTP: %+v", cookie)
	}

	// Behind a TLS-ending proxy that the server trusts, the cookie is Secure.
	behind := newServer(t, func(c *config.Config) { c.Service.HTTP.TrustProxyHeaders = true })
	req, _ := http.NewRequest(http.MethodGet, behind.URL+"/signin", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := sessionCookie(t, resp); !c.Secure || !c.HttpOnly {
		t.Fatalf("cookie behind HTTPS: %+v", c)
	}
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == web.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", web.SessionCookie, resp.Header)
	return nil
}

// A form posted from another site is refused, with or without a token;
// a form without the token, or with another session's, is refused too.
func TestCrossSitePostIsRefused(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	v.get("/signin")
	form := func() url.Values { return url.Values{"email": {"someone@example.com"}} }

	p := v.post("/signin/otp", form(), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.Status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d %s", p.Status, p.Body)
	}
	p = v.post("/signin/otp", url.Values{"email": {"someone@example.com"}, "csrf": {"not-the-token"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "CSRF") {
		t.Fatalf("wrong token: %d %s", p.Status, p.Body)
	}
	other := newVisitor(t, srv)
	other.get("/signin")
	p = v.post("/signin/otp", url.Values{"email": {"someone@example.com"}, "csrf": {other.csrf}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("another session's token: %d", p.Status)
	}
	if n := len(srv.Outbox(t)); n != 0 {
		t.Fatalf("a refused form sent %d emails", n)
	}
	// The same form from the page itself goes through.
	p = v.post("/signin/otp", form(), "Origin", srv.URL, "Sec-Fetch-Site", "same-origin")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="otp"`) {
		t.Fatalf("same-site post: %d %s", p.Status, p.Body)
	}
}

// The OTP email's magic link lands on a page that signs in (issue 12: it
// used to 404); the sign-in rotates the session, and the session id is in
// no URL and no page.
func TestMagicLinkSignsIn(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	v.get("/signin")
	before := v.session()
	v.post("/signin/otp", url.Values{"email": {"magic@example.com"}})
	link := emailedLink(t, srv, "magic@example.com")
	if link.URL.Path != "/login" {
		t.Fatalf("magic link %s", link.URL)
	}
	p := v.get("/login?" + link.URL.RawQuery)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="magic-signin"`) || !strings.Contains(p.Body, "magic@example.com") {
		t.Fatalf("magic link page: %d %s", p.Status, p.Body)
	}
	if n := countSignedIn(v); n {
		t.Fatal("opening the link signed in before the button was pressed")
	}
	p = v.post("/signin", url.Values{"email": {link.Email}, "otp": {link.OTP}})
	if p.URL.Path != "/create" || !strings.Contains(p.Body, `id="signout"`) {
		t.Fatalf("after the magic link: %s %s", p.URL, p.Body)
	}
	after := v.session()
	if after == "" || after == before {
		t.Fatalf("session not rotated: %q -> %q", before, after)
	}
	for _, path := range []string{"/create", "/creations", "/signin"} {
		if body := v.get(path).Body; strings.Contains(body, after) || strings.Contains(body, before) {
			t.Fatalf("%s shows the session id", path)
		}
	}
	// A damaged link says so, naming the parameter.
	if p := v.get("/login?b=not-base64!"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "b: ") {
		t.Fatalf("damaged link: %d %s", p.Status, p.Body)
	}
	// Sign out ends the session: the old cookie no longer signs in.
	v.post("/signout", url.Values{})
	if countSignedIn(v) {
		t.Fatal("still signed in after sign out")
	}
}

func countSignedIn(v *visitor) bool { return strings.Contains(v.get("/create").Body, `id="signout"`) }

func TestPasswordSignUpAndSignIn(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	v.get("/signup")
	p := v.post("/signup", url.Values{"email": {"pw@example.com"}, "password": {"short"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="password-error"`) {
		t.Fatalf("weak password: %d %s", p.Status, p.Body)
	}
	p = v.post("/signup", url.Values{"email": {"pw@example.com"}, "password": {testsupport.TestPassword}, "username": {"painter"}})
	if !strings.Contains(p.Body, `id="signout"`) || !strings.Contains(p.Body, "painter") {
		t.Fatalf("sign up: %d %s", p.Status, p.Body)
	}
	self := testsupport.Self(t, srv, v.session())
	if !self.IsAuthenticated || self.Email != "pw@example.com" {
		t.Fatalf("the cookie's session is not the account's: %+v", self)
	}
	v.post("/signout", url.Values{})

	p = v.post("/signin", url.Values{"email": {"pw@example.com"}, "password": {"Wrong-passw0rd!"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `id="page-error"`) {
		t.Fatalf("wrong password: %d %s", p.Status, p.Body)
	}
	p = v.post("/signin", url.Values{"email": {"pw@example.com"}, "password": {testsupport.TestPassword}})
	if !strings.Contains(p.Body, `id="signout"`) {
		t.Fatalf("sign in: %d %s", p.Status, p.Body)
	}
}

// The Create page shows the API's exact error next to the field it names.
func TestCreateShowsTheErrorAtItsField(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	v.get("/create")
	p := v.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"a cat"}, "steps": {"99"}, "width": {"128"}, "height": {"128"}})
	want := "steps: must be between 1 and 20 for Model sketch, got 99"
	if p.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(p.Body), `<p class="field-error" id="steps-error" role="alert">`+want) {
		t.Fatalf("steps error: %d %s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, ">a cat</textarea>") {
		t.Fatal("the prompt was not kept")
	}
	p = v.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"a cat"}, "width": {"100"}})
	if !strings.Contains(p.Body, `id="width-error"`) {
		t.Fatalf("width error: %s", p.Body)
	}
	if p := v.post("/create", url.Values{"prompt": {strings.Repeat("x", 70<<10)}}); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a form over the body budget: %d", p.Status)
	}
	p = v.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"a cat"}, "count": {"9"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="count-error"`) {
		t.Fatalf("count error: %s", p.Body)
	}
}

// A second user cannot open the first one's private Item page, nor cancel
// or delete it; the owner can.
func TestPrivateItemPageIsTheOwners(t *testing.T) {
	srv := newServer(t)
	owner := newVisitor(t, srv)
	owner.signUpWithCode("owner@example.com")
	p := owner.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"a private fox"}, "steps": {"2"},
		"width": {"128"}, "height": {"128"}, "count": {"2"}})
	if p.URL.Path != "/create" || strings.Count(p.Body, `class="card"`) != 2 {
		t.Fatalf("create: %s %s", p.URL, p.Body)
	}
	ids := strings.Split(p.URL.Query().Get("watch"), ",")
	if len(ids) != 2 || !strings.Contains(p.Body, "Queued, position") {
		t.Fatalf("watched %v: %s", ids, p.Body)
	}
	if p := owner.get("/items/" + ids[0]); p.Status != http.StatusOK || !strings.Contains(p.Body, "a private fox") {
		t.Fatalf("owner's item page: %d", p.Status)
	}
	if p := owner.get("/creations"); strings.Count(p.Body, `class="card"`) != 2 {
		t.Fatalf("gallery: %s", p.Body)
	}

	other := newVisitor(t, srv)
	other.signUpWithCode("other@example.com")
	p = other.get("/items/" + ids[0])
	if p.Status != http.StatusNotFound || strings.Contains(p.Body, "a private fox") {
		t.Fatalf("another user's item page: %d %s", p.Status, p.Body)
	}
	if p := other.post("/items/"+ids[0]+"/cancel", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("another user's cancel: %d", p.Status)
	}
	if p := other.get("/events?ids=" + ids[0]); p.Status != http.StatusNotFound {
		t.Fatalf("another user's events: %d", p.Status)
	}
	if p := newVisitor(t, srv).get("/items/" + ids[0]); p.Status != http.StatusNotFound {
		t.Fatalf("a visitor's item page: %d", p.Status)
	}

	// Cancel from the card (no JavaScript): back to the same page, failed.
	p = owner.post("/items/"+ids[0]+"/cancel", url.Values{"watch": {strings.Join(ids, ",")}})
	if p.URL.Path != "/create" || strings.Count(p.Body, "Failed: cancelled") != 2 {
		t.Fatalf("after cancel: %s %s", p.URL, p.Body)
	}
	p = owner.post("/items/"+ids[0]+"/delete", url.Values{})
	if p.URL.Path != "/creations" || strings.Count(p.Body, `class="card"`) != 1 {
		t.Fatalf("after delete: %s %s", p.URL, p.Body)
	}
}

// manyQueued lets a user queue n Items of sketch with no worker running.
func manyQueued(n int) func(*config.Config) {
	return func(c *config.Config) {
		for i := range c.Service.Models {
			c.Service.Models[i].Tier0Concurrent = n
		}
	}
}

// queueImages asks for n images of sketch through the Create form.
func (v *visitor) queueImages(n int) {
	v.t.Helper()
	v.get("/create")
	for n > 0 {
		count := min(n, web.MaxCount)
		p := v.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"a tree"}, "width": {"128"}, "height": {"128"},
			"count": {strconv.Itoa(count)}})
		if p.URL.Path != "/create" || p.Status != http.StatusOK {
			v.t.Fatalf("queue: %d %s", p.Status, p.Body)
		}
		n -= count
		v.srv.Clock.Advance(time.Millisecond) // distinct paginationIndex per batch
	}
}

// My creations pages by paginationIndex: the "More" link (which
// gallery.js follows on scroll) holds the next page, and the last has none.
func TestCreationsPages(t *testing.T) {
	srv := newServer(t, manyQueued(40))
	v := newVisitor(t, srv)
	v.queueImages(28)
	p := v.get("/creations")
	if n := strings.Count(p.Body, `class="card"`); n != 24 {
		t.Fatalf("first page: %d cards", n)
	}
	more := regexp.MustCompile(`id="more" href="([^"]+)"`).FindStringSubmatch(p.Body)
	if more == nil {
		t.Fatalf("no More link: %s", p.Body)
	}
	p = v.get(html.UnescapeString(more[1]))
	if n := strings.Count(p.Body, `class="card"`); n != 4 || strings.Contains(p.Body, `id="more"`) {
		t.Fatalf("second page: %d cards, %s", n, p.Body)
	}
	if p := v.get("/creations?before=yesterday"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "before: ") {
		t.Fatalf("bad before: %d", p.Status)
	}
}

// The embedded assets are revalidated by ETag: a second fetch is a 304.
func TestStaticAssetsRevalidate(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/static/progress.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" || resp.Header.Get("Cache-Control") != "no-cache" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("asset: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/static/progress.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", resp.StatusCode)
	}
}
