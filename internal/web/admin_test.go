package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/library"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// adminGets are the admin pages; adminPosts the admin forms.
var (
	adminGets  = []string{"/admin/approvals", "/admin/reports", "/admin/reports/csv?ids=x", "/admin/users", "/admin/workers", "/admin/queues"}
	adminPosts = []string{"/admin/signout", "/admin/approvals", "/admin/reports/close", "/admin/users/abuse", "/admin/users/tier",
		"/admin/users/picture", "/admin/workers", "/admin/workers/revoke"}
)

// enterAdmin enters the admin key on /admin.
func (v *visitor) enterAdmin() {
	v.t.Helper()
	v.get("/admin")
	p := v.post("/admin", url.Values{"adminKey": {testsupport.AdminKey}})
	if p.Status != http.StatusOK || p.URL.Path != "/admin" || !strings.Contains(p.Body, `id="admin-signout"`) {
		v.t.Fatalf("entering the admin key: %d at %s: %s", p.Status, p.URL, p.Body)
	}
}

// refusesAdmin checks that every admin page sends v to the key form and
// every admin form is refused.
func refusesAdmin(t *testing.T, who string, v *visitor) {
	t.Helper()
	for _, path := range adminGets {
		if p := v.get(path); p.URL.Path != "/admin" || !strings.Contains(p.Body, `id="admin-key-form"`) {
			t.Fatalf("%s: GET %s: %d at %s", who, path, p.Status, p.URL)
		}
	}
	for _, path := range adminPosts {
		if p := v.post(path, url.Values{"userID": {"x"}, "one": {"approved:x"}}); p.Status != http.StatusForbidden {
			t.Fatalf("%s: POST %s: %d %s", who, path, p.Status, p.Body)
		}
	}
}

// Without the mark no admin page opens and no admin form works: not for a
// visitor, not for a signed-in user; a form without the CSRF token is
// refused before the key is looked at.
func TestAdminPagesNeedTheMark(t *testing.T) {
	srv := newServer(t)
	refusesAdmin(t, "a visitor", newVisitor(t, srv))
	user := newVisitor(t, srv)
	user.signUpWithCode("user@example.com")
	refusesAdmin(t, "a signed-in user", user)

	v := newVisitor(t, srv)
	v.get("/admin")
	if p := v.post("/admin", url.Values{"adminKey": {testsupport.AdminKey}, web.CSRFField: {"forged"}}); p.Status != http.StatusForbidden {
		t.Fatalf("the key form without its token: %d", p.Status)
	}
	refusesAdmin(t, "after a CSRF-less key form", v)
	// The API's rule: the admin key is the only admin credential, a role
	// on the account gives nothing.
	u, err := srv.App.Store.UserByID(context.Background(), testsupport.Self(t, srv, user.session()).UserID)
	if err != nil {
		t.Fatal(err)
	}
	u.Roles = []string{aimg.RoleAdmin}
	if err := srv.App.Store.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	refusesAdmin(t, "a user with the admin role", user)
}

// The mark is on one browser session, kept server-side: the cookie and the
// pages never hold the key, another browser is not admin, and the mark
// ends with leaving admin mode or signing out.
func TestAdminMarkIsPerSession(t *testing.T) {
	srv := newServer(t)
	admin := newVisitor(t, srv)
	admin.signUpWithCode("admin@example.com")
	before := admin.session()
	admin.enterAdmin()
	if after := admin.session(); after == before || after == "" || strings.Contains(after, testsupport.AdminKey) {
		t.Fatalf("session cookie %q -> %q: want a new id, not the key", before, after)
	}
	for _, path := range adminGets[:2] {
		p := admin.get(path)
		if p.Status != http.StatusOK || p.URL.Path != strings.Split(path, "?")[0] || strings.Contains(p.Body, testsupport.AdminKey) {
			t.Fatalf("admin %s: %d at %s", path, p.Status, p.URL)
		}
	}
	for _, path := range []string{"/admin", "/admin/approvals", "/admin/reports", "/admin/users?q=admin@example.com", "/admin/workers", "/admin/queues"} {
		body := admin.get(path).Body
		if regexp.MustCompile(`<script[^>]*>[^<]`).MatchString(body) || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has inline script or style", path)
		}
	}
	if !strings.Contains(admin.get("/create").Body, `id="signout"`) {
		t.Fatal("entering the key signed the account out")
	}
	refusesAdmin(t, "another browser", newVisitor(t, srv))

	admin.post("/admin/signout", url.Values{})
	refusesAdmin(t, "after leaving admin mode", admin)

	admin.enterAdmin()
	marked := admin.session()
	admin.post("/signout", url.Values{})
	// The old cookie, replayed by another browser, is no admin either.
	replay := newVisitor(t, srv)
	u, _ := url.Parse(srv.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: marked, Path: "/"}})
	refusesAdmin(t, "the signed-out session's cookie", replay)

	// A visitor without an account may enter the key too.
	guest := newVisitor(t, srv)
	guest.enterAdmin()
	if p := guest.get("/admin/queues"); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-model="sketch"`) {
		t.Fatalf("a guest's admin queues page: %d %s", p.Status, p.Body)
	}
}

// A wrong key is refused next to the field and counted per client
// address; once the address has used its tries even the right key is
// refused, and the mark is not given.
func TestAdminWrongKeyIsCounted(t *testing.T) {
	srv := newServer(t, func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{"adminKey:ip": {Requests: 1, Per: time.Hour, Burst: 2}}
	})
	v := newVisitor(t, srv)
	v.get("/admin")
	for range 2 {
		p := v.post("/admin", url.Values{"adminKey": {"guess"}})
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `id="adminKey-error"`) {
			t.Fatalf("wrong key: %d %s", p.Status, p.Body)
		}
	}
	p := v.post("/admin", url.Values{"adminKey": {testsupport.AdminKey}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || strings.Contains(p.Body, `id="admin-signout"`) {
		t.Fatalf("the right key after the tries: %d %v %s", p.Status, p.Header, p.Body)
	}
	refusesAdmin(t, "after guessing", v)
}

// pendingItems stores n completed Items of a new account awaiting approval.
func pendingItems(t *testing.T, srv *testsupport.Server, email string, n int) []*aimg.Item {
	t.Helper()
	return storeItems(t, srv, testsupport.SignUp(t, srv, email), n, func(*aimg.Item) {})
}

// publicItems stores n public Items of a new account, in a Public Folder.
func publicItems(t *testing.T, srv *testsupport.Server, email string, n int) []*aimg.Item {
	t.Helper()
	ctx := context.Background()
	owner := testsupport.SignUp(t, srv, email)
	sess, u, err := srv.App.Accounts.ResolveSession(ctx, "localhost", owner.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := srv.App.Library.CreateFolder(ctx, aimg.Caller{Session: sess, User: u, Domain: "localhost"}, library.Public, "Shown", nil)
	if err != nil {
		t.Fatal(err)
	}
	return storeItems(t, srv, owner, n, func(it *aimg.Item) {
		it.PublicApprovalStatus, it.IsPublic, it.FolderID = aimg.ApprovalApproved, true, f.Folder.ID
	})
}

func storeItems(t *testing.T, srv *testsupport.Server, owner testsupport.Account, n int, edit func(*aimg.Item)) []*aimg.Item {
	t.Helper()
	var items []*aimg.Item
	at := srv.Clock.Now().Add(-time.Hour)
	for i := range n {
		created := at.Add(time.Duration(i) * time.Second)
		items = append(items, &aimg.Item{ID: uuid.NewString(), UserID: owner.UserID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
			MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch", Prompt: "a pending owl " + string(rune('a'+i)),
			Params: aimg.GenerationParams{Steps: 2, Width: 128, Height: 128, Sampler: "Euler a", CFGScale: 7},
			FileID: uuid.NewString(), CreatedAt: created, UpdatedAt: created, CompletedAt: &created,
			PublicApprovalStatus: aimg.ApprovalPending})
		edit(items[i])
	}
	if err := srv.App.Store.InsertItems(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	return items
}

func itemInStore(t *testing.T, srv *testsupport.Server, id string) *aimg.Item {
	t.Helper()
	it, err := srv.App.Store.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// The approval queue lists the pending Items with thumbnails; approving
// one (its own button) and rejecting the selected others reach the library.
func TestAdminApprovals(t *testing.T) {
	srv := newServer(t)
	items := pendingItems(t, srv, "owner@example.com", 3)
	v := newVisitor(t, srv)
	v.enterAdmin()
	p := v.get("/admin/approvals")
	if n := strings.Count(p.Body, `class="card" data-item=`); n != 3 || !strings.Contains(p.Body, "/api/getFile?id="+items[0].FileID) {
		t.Fatalf("queue: %d cards: %s", n, p.Body)
	}
	p = v.post("/admin/approvals", url.Values{"one": {"approved:" + items[0].ID}})
	if p.URL.Path != "/admin/approvals" || !strings.Contains(p.Body, "Approved: 1.") || strings.Count(p.Body, `class="card" data-item=`) != 2 {
		t.Fatalf("after approve: %s %s", p.URL, p.Body)
	}
	if it := itemInStore(t, srv, items[0].ID); it.PublicApprovalStatus != aimg.ApprovalApproved || !it.IsPublic {
		t.Fatalf("approved Item: %s public %v", it.PublicApprovalStatus, it.IsPublic)
	}
	p = v.post("/admin/approvals", url.Values{"publicApprovalStatus": {"rejected"}, "id": {items[1].ID, items[2].ID}})
	if !strings.Contains(p.Body, "Rejected: 2.") || !strings.Contains(p.Body, `id="no-approvals"`) {
		t.Fatalf("after reject: %s", p.Body)
	}
	if it := itemInStore(t, srv, items[2].ID); it.PublicApprovalStatus != aimg.ApprovalRejected {
		t.Fatalf("rejected Item: %s", it.PublicApprovalStatus)
	}
	// The service's refusal is shown: an Item already decided.
	p = v.post("/admin/approvals", url.Values{"one": {"approved:" + items[0].ID}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `id="page-error"`) {
		t.Fatalf("approving twice: %d %s", p.Status, p.Body)
	}
}

// The report queues list the reports with the system queues among the
// filters; a report downloads as the API's CSV; accepting deletes the Item,
// declining only closes the report.
func TestAdminReports(t *testing.T) {
	srv := newServer(t)
	items := publicItems(t, srv, "author@example.com", 2)
	reports := reportItems(t, srv, items)
	first, second := reports[0], reports[1]

	v := newVisitor(t, srv)
	v.enterAdmin()
	p := v.get("/admin/reports")
	if strings.Count(p.Body, `<tr data-report=`) != 2 || !strings.Contains(p.Body, `<option value="multipleReports">`) ||
		!strings.Contains(p.Body, `<option value="Spam">`) {
		t.Fatalf("reports page: %s", p.Body)
	}
	if p := v.get("/admin/reports?queue=Nudity"); !strings.Contains(p.Body, `id="no-reports"`) {
		t.Fatalf("another queue: %s", p.Body)
	}
	if p := v.get("/admin/reports?queue=Nope"); p.Status != http.StatusBadRequest {
		t.Fatalf("an unknown queue: %d", p.Status)
	}

	p = v.get("/admin/reports/csv?ids=" + first)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment; filename=reports-") {
		t.Fatalf("CSV: %d %v", p.Status, p.Header)
	}
	lines := strings.Split(strings.TrimSpace(p.Body), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "reportId,reportedDate,") || !strings.HasPrefix(lines[1], first+",") ||
		!strings.Contains(lines[1], `'=cmd`) {
		t.Fatalf("CSV body: %s", p.Body)
	}

	p = v.post("/admin/reports/close", url.Values{"one": {"declined:" + first}, "status": {"pending"}})
	if !strings.Contains(p.Body, "Reports declined: 1.") || strings.Count(p.Body, `<tr data-report=`) != 1 {
		t.Fatalf("after decline: %s", p.Body)
	}
	if it := itemInStore(t, srv, items[0].ID); it.DeletedAt != nil {
		t.Fatal("declining deleted the Item")
	}
	p = v.post("/admin/reports/close", url.Values{"reportStatus": {"accepted"}, "id": {second}, "additionalInformation": {"spam"}})
	if !strings.Contains(p.Body, "Reports accepted (their Items deleted): 1.") || !strings.Contains(p.Body, `id="no-reports"`) {
		t.Fatalf("after accept: %s", p.Body)
	}
	if it := itemInStore(t, srv, items[1].ID); it.DeletedAt == nil {
		t.Fatal("accepting kept the Item")
	}
	if p := v.get("/admin/reports?status=accepted"); !strings.Contains(p.Body, "spam") || strings.Count(p.Body, `<tr data-report=`) != 1 {
		t.Fatalf("accepted reports: %s", p.Body)
	}
	// Closing again is the service's refusal, shown on the page.
	if p := v.post("/admin/reports/close", url.Values{"one": {"accepted:" + first}}); p.Status == http.StatusOK || !strings.Contains(p.Body, `id="page-error"`) {
		t.Fatalf("closing a closed report: %d %s", p.Status, p.Body)
	}
}

// reportItems has a new account report the Items (Spam, with a note
// that looks like a formula) and returns the reports' ids.
func reportItems(t *testing.T, srv *testsupport.Server, items []*aimg.Item) []string {
	t.Helper()
	ctx := context.Background()
	reporter := testsupport.SignUp(t, srv, "reporter-"+uuid.NewString()[:8]+"@example.com")
	sess, u, err := srv.App.Accounts.ResolveSession(ctx, "localhost", reporter.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	res, err := srv.App.Library.ReportItems(ctx, aimg.Caller{Session: sess, User: u, Domain: "localhost"}, ids, "Spam", "=cmd|' /C calc'!A0")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("reporting %s: %v", r.ID, r.Err)
		}
		out = append(out, r.ReportID)
	}
	return out
}

func storedUser(t *testing.T, srv *testsupport.Server, id string) *aimg.User {
	t.Helper()
	u, err := srv.App.Store.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Find a user by email or id; set the abuse level, ban the picture, grant
// and end an admin-provided tier; errors land next to their field.
func TestAdminUsers(t *testing.T) {
	srv := newServer(t)
	target := testsupport.SignUp(t, srv, "target@example.com")
	v := newVisitor(t, srv)
	v.enterAdmin()
	p := v.get("/admin/users?q=Target@Example.com")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<dd id="user-id">`+target.UserID) {
		t.Fatalf("by email: %d %s", p.Status, p.Body)
	}
	if p := v.get("/admin/users?q=" + target.UserID); !strings.Contains(p.Body, "target@example.com") {
		t.Fatalf("by id: %s", p.Body)
	}
	if p := v.get("/admin/users?q=nobody@example.com"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, `id="q-error"`) {
		t.Fatalf("unknown: %d %s", p.Status, p.Body)
	}

	p = v.post("/admin/users/abuse", url.Values{"userID": {target.UserID}, "abuse": {"5"}})
	if !strings.Contains(p.Body, "Abuse level set.") || !strings.Contains(p.Body, `<dd id="user-abuse">5</dd>`) || storedUser(t, srv, target.UserID).Abuse != 5 {
		t.Fatalf("abuse: %s", p.Body)
	}
	if p := v.post("/admin/users/abuse", url.Values{"userID": {target.UserID}, "abuse": {"12"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="abuse-error"`) {
		t.Fatalf("abuse 12: %d %s", p.Status, p.Body)
	}
	p = v.post("/admin/users/picture", url.Values{"userID": {target.UserID}, "banned": {"true"}})
	if !strings.Contains(p.Body, `<dd id="user-picture">banned</dd>`) || !storedUser(t, srv, target.UserID).ProfilePictureBanned {
		t.Fatalf("picture ban: %s", p.Body)
	}
	p = v.post("/admin/users/tier", url.Values{"userID": {target.UserID}, "productId": {"admin"}, "tier": {"3"}, "isActive": {"true"}})
	if !strings.Contains(p.Body, "Premium tier saved.") || storedUser(t, srv, target.UserID).Tier != 3 {
		t.Fatalf("grant: %s", p.Body)
	}
	p = v.post("/admin/users/tier", url.Values{"userID": {target.UserID}, "productId": {"admin"}, "tier": {"3"}, "isActive": {"false"}})
	if !strings.Contains(p.Body, "Premium tier saved.") || storedUser(t, srv, target.UserID).EffectiveTier(srv.Clock.Now()) != 0 {
		t.Fatalf("end: %s", p.Body)
	}
	p = v.post("/admin/users/tier", url.Values{"userID": {target.UserID}, "productId": {"admin"}, "tier": {"12"}, "isActive": {"true"},
		"additionalInformation": {"kept"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="tier-error"`) || !strings.Contains(p.Body, `value="kept"`) {
		t.Fatalf("tier 12: %d %s", p.Status, p.Body)
	}
}

// A worker key is shown once at its creation, listed with its workers'
// state, and revoked; the queues page counts the queued Jobs per Model.
func TestAdminWorkersAndQueues(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	v.enterAdmin()
	p := v.post("/admin/workers", url.Values{"name": {""}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="name-error"`) {
		t.Fatalf("no name: %d %s", p.Status, p.Body)
	}
	p = v.post("/admin/workers", url.Values{"name": {"gpu-1"}, "modelIDs": {"sketch"}})
	if p.Status != http.StatusCreated || !strings.Contains(p.Body, `id="new-key" value="aimgw_`) || !strings.Contains(p.Body, "<td>sketch</td>") {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	p = v.get("/admin/workers")
	if strings.Contains(p.Body, "aimgw_") || !strings.Contains(p.Body, "<td>gpu-1</td>") || !strings.Contains(p.Body, "<td>never</td>") {
		t.Fatalf("list: %s", p.Body)
	}
	keys, err := srv.App.Generation.WorkerKeys(context.Background(), aimg.Caller{Admin: true})
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	queueRow := func() string {
		t.Helper()
		body := v.get("/admin/queues").Body
		row := body[strings.Index(body, `<tr data-model="sketch">`):]
		return row[:strings.Index(row, "</tr>")]
	}
	visitor := newVisitor(t, srv)
	visitor.queueImages(1)
	if row := queueRow(); !strings.Contains(row, `<td class="normal">1</td>`) || !strings.Contains(row, `<td class="running">0</td>`) {
		t.Fatalf("sketch row, queued: %s", row)
	}
	if p := v.get("/admin/workers"); !strings.Contains(p.Body, `id="no-running"`) {
		t.Fatalf("nothing runs yet: %s", p.Body)
	}
	// The key's worker takes the Job and reports half of it done.
	ctx := context.Background()
	job, err := srv.App.Generation.Claim(ctx, keys[0].LeaseOwnerPrefix()+"box/0", []string{"sketch"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Generation.Heartbeat(ctx, job.Lease(), 0.5); err != nil {
		t.Fatal(err)
	}
	p = v.get("/admin/workers")
	if !strings.Contains(p.Body, `<tr data-job="`+job.ID+`">`) || !strings.Contains(p.Body, `<td class="worker">gpu-1: box/0</td>`) ||
		!strings.Contains(p.Body, "50%") || !strings.Contains(p.Body, "<td>1</td>") {
		t.Fatalf("running Job: %s", p.Body)
	}
	if row := queueRow(); !strings.Contains(row, `<td class="normal">0</td>`) || !strings.Contains(row, `<td class="running">1</td>`) {
		t.Fatalf("sketch row, running: %s", row)
	}
	p = v.post("/admin/workers/revoke", url.Values{"keyID": {keys[0].ID}})
	if !strings.Contains(p.Body, "Worker key revoked; Jobs back in their queues: 1.") || strings.Contains(p.Body, `id="revoke-`) ||
		!strings.Contains(p.Body, `id="no-running"`) {
		t.Fatalf("revoke: %s", p.Body)
	}
	if row := queueRow(); !strings.Contains(row, `<td class="normal">1</td>`) || !strings.Contains(row, `<td class="hour">0</td>`) {
		t.Fatalf("sketch row after the revocation: %s", row)
	}
}
