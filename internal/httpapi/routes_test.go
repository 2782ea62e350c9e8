package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"aimg/internal/testsupport"
)

// openAPIDoc fetches the served OpenAPI document.
func openAPIDoc(t *testing.T, srv *testsupport.Server) map[string]map[string]struct {
	Security []map[string][]string `json:"security"`
} {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Paths
}

func schemes(reqs []map[string][]string) []string {
	var names []string
	for _, r := range reqs {
		if len(r) == 0 {
			names = append(names, "none")
		}
		for n := range r {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// The route table is the API: every row is in the OpenAPI document with
// its method, nothing else is, and each operation declares the security
// its access level enforces.
func TestRouteTableIsTheOpenAPIDocument(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	paths := openAPIDoc(t, srv)
	routes := srv.App.API.Routes()
	if len(routes) != len(paths) {
		t.Errorf("the table has %d routes, the document %d paths", len(routes), len(paths))
	}
	withoutAuth := map[string]bool{"getFile": true, "generateStrongPassword": true, "authLoginProviderCallback": true, // inputs that carry no credentials
		"stripeWebhook": true, "arkpayWebhook": true}
	for _, r := range routes {
		op, ok := paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in the document", r.Method, r.Name)
			continue
		}
		got := strings.Join(schemes(op.Security), ",")
		want := map[string]string{
			"admin": "adminKey", "session": "adminKey,session", "signedIn": "adminKey,session",
			"anyone": "none,session", "newSession": "none,session", "ownSession": "none,session",
		}[r.Access.String()]
		if withoutAuth[r.Name] {
			want = ""
		}
		if got != want {
			t.Errorf("%s (%s): security %q, want %q", r.Name, r.Access, got, want)
		}
	}
}

// Every admin operation refuses a caller without the admin key, before it
// reads the body: 401 for strangers, guests and wrong keys, 403 for
// signed-in users.
func TestEveryAdminOperationRefusesNonAdmins(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	user := testsupport.SignUp(t, srv, "not-an-admin@example.com")
	guest := testsupport.Self(t, srv, "").SessionID
	var admins []string
	for _, r := range srv.App.API.Routes() {
		if r.Access.String() != "admin" {
			continue
		}
		admins = append(admins, r.Name)
		for _, tc := range []struct {
			who, session, key string
			status            int
		}{
			{"stranger", "", "", 401},
			{"wrong key", "", "not-the-admin-key-at-all", 401},
			{"guest", guest, "", 401},
			{"signed-in user", user.SessionID, "", 403},
			{"signed-in user with a wrong key", user.SessionID, "not-the-admin-key-at-all", 403},
		} {
			env := srv.Do(t, testsupport.Req{Method: r.Method, Path: "/api/" + r.Name, SessionID: tc.session, AdminKey: tc.key,
				Body: `{"this body": "is never read"}`})
			if env.Status != tc.status || !env.HasError {
				t.Errorf("%s by a %s: status %d, want %d (%s)", r.Name, tc.who, env.Status, tc.status, env.Raw)
			}
		}
	}
	// The spec's admin-only operations so far, listed apart from the table.
	want := []string{"closeReports", "createBillingPlan", "createWorkerKey", "downloadGiftCards", "downloadReportsForEpoch", "getFileMetadata", "getItems", "getReports", "getWorkerKeys", "injectBoostyAdminAccountCookies", "migrateLibrary", "pgQuery", "removeFile", "restoreItems", "revokeWorkerKey", "setAdminProvidedPremiumTier", "setProfilePictureBanned",
		"setProtected", "setPublicApprovalStatus", "setUserAbuseLevel", "setUserAdditionalInformation", "uploadFile"}
	slices.Sort(admins)
	if !slices.Equal(admins, want) {
		t.Fatalf("admin operations in the table: %v, want %v", admins, want)
	}
}

// Operations for signed-in users refuse guests with 401.
func TestSignedInOperationsRefuseGuests(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	guest := testsupport.Self(t, srv, "").SessionID
	var n int
	for _, r := range srv.App.API.Routes() {
		if r.Access.String() != "signedIn" {
			continue
		}
		n++
		env := srv.Do(t, testsupport.Req{Method: r.Method, Path: r.Path + "?key=k", SessionID: guest,
			Body: map[string]any{"key": "k", "value": "v", "profilePicture": ""}})
		testsupport.ExpectError(t, env, 401, "not signed in")
	}
	if n == 0 {
		t.Fatal("no signedIn operations in the table")
	}
}
