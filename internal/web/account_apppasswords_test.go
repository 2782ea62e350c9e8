package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"aimg/internal/aimg"
)

var secretRE = regexp.MustCompile(`id="new-secret" readonly value="([A-Za-z0-9]{72})"`)

// An app password is shown once, listed by name, and revoked by its owner
// only; another user neither sees nor revokes it.
func TestAppPasswordPages(t *testing.T) {
	srv := newServer(t)
	a := newVisitor(t, srv)
	a.signUpWithCode("a@example.com")
	if p := a.get("/account/app-passwords"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="no-app-passwords"`) {
		t.Fatalf("empty list: %d %s", p.Status, p.Body)
	}
	expectFieldError(t, a.post("/account/app-passwords", url.Values{"name": {"  "}}), 400, "name", "name: is required")
	if p := a.post("/account/app-passwords", url.Values{"name": {"phone"}, "csrf": {"nope"}}); p.Status != http.StatusForbidden {
		t.Fatalf("create without the token: %d", p.Status)
	}
	p := a.post("/account/app-passwords", url.Values{"name": {"phone"}})
	m := secretRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	secret := m[1]
	// The secret signs in (HTTP Basic, as the OCS surface checks it) and is not shown again.
	if u, err := srv.App.Accounts.AuthenticateBasic(context.Background(), aimg.Caller{ClientIP: "192.0.2.1", Domain: "localhost"},
		"a@example.com", secret); err != nil || u.Email != "a@example.com" {
		t.Fatalf("Basic with the app password: %v", err)
	}
	p = a.get("/account/app-passwords")
	if strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "<td>phone</td>") {
		t.Fatalf("list: %s", p.Body)
	}
	id := regexp.MustCompile(`<tr data-id="([^"]+)">`).FindStringSubmatch(p.Body)[1]

	b := newVisitor(t, srv)
	b.signUpWithCode("b@example.com")
	if p := b.get("/account/app-passwords"); strings.Contains(p.Body, id) || strings.Contains(p.Body, "phone") {
		t.Fatalf("b sees a's app password: %s", p.Body)
	}
	if p := b.post("/account/app-passwords/"+id+"/revoke", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("b revokes a's: %d", p.Status)
	}
	if p := a.get("/account/app-passwords"); !strings.Contains(p.Body, id) {
		t.Fatal("b's attempt revoked a's app password")
	}
	if p := a.post("/account/app-passwords/"+id+"/revoke", url.Values{"csrf": {"nope"}}); p.Status != http.StatusForbidden {
		t.Fatalf("revoke without the token: %d", p.Status)
	}
	p = a.post("/account/app-passwords/"+id+"/revoke", url.Values{})
	expectFlash(t, p, "App password revoked")
	if strings.Contains(p.Body, id) {
		t.Fatal("still listed after revoking")
	}
	if p := newVisitor(t, srv).get("/account/app-passwords"); p.URL.Path != "/signin" {
		t.Fatalf("a visitor's app passwords page: %s", p.URL)
	}
}
