package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"aimg/internal/account"
	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// acctAdminOnly checks that path refuses anonymous callers (401), signed-in
// users (403) and a wrong key like no key, and changes nothing.
func acctAdminOnly(t *testing.T, srv *testsupport.Server, method, path string, body any, userSession string) {
	t.Helper()
	for _, c := range []struct {
		session, key string
		status       int
	}{
		{"", "", 401},
		{"", "wrong-admin-key-0123456789", 401},
		{acctNewSession(), "", 401},
		{userSession, "", 403},
		{userSession, "wrong-admin-key-0123456789", 403},
		{userSession, testsupport.AdminKey + "x", 403},
	} {
		env := srv.Do(t, testsupport.Req{Method: method, Path: path, Body: body, SessionID: c.session, AdminKey: c.key})
		testsupport.ExpectError(t, env, c.status, "X-Administration-Key")
	}
}

func TestSetProfilePictureBanned(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": acctPNG(t, 64, 64)}))

		acctAdminOnly(t, srv, http.MethodPost, "/api/setProfilePictureBanned", map[string]any{"userID": a.UserID, "profilePictureBanned": true}, b.SessionID)
		if acctAdminUser(t, srv, "userID="+a.UserID)["profilePicture"] != true {
			t.Fatal("a refused ban removed the picture")
		}

		ban := func(body any) []map[string]bool {
			return acctDecode[[]map[string]bool](t, srv.AdminPost(t, "/api/setProfilePictureBanned", body))
		}
		if got := ban(map[string]any{"userID": a.UserID}); len(got) != 1 || got[0]["profilePictureBanned"] {
			t.Fatalf("read: %v", got)
		}
		if got := ban(map[string]any{"email": "ALICE@example.com", "profilePictureBanned": true}); !got[0]["profilePictureBanned"] {
			t.Fatalf("ban: %v", got)
		}
		view := acctAdminUser(t, srv, "userID="+a.UserID)
		if view["profilePicture"] != false || view["profilePictureBanned"] != true {
			t.Fatalf("after the ban: picture %v banned %v", view["profilePicture"], view["profilePictureBanned"])
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": acctPNG(t, 8, 8)}), 403, "banned")
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": ""}), 403, "banned")
		if got := ban(map[string]any{"userID": a.UserID, "profilePictureBanned": false}); got[0]["profilePictureBanned"] {
			t.Fatalf("unban: %v", got)
		}
		if acctAdminUser(t, srv, "userID="+a.UserID)["profilePicture"] != false {
			t.Fatal("unbanning restored the picture")
		}
		testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": acctPNG(t, 8, 8)}))

		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setProfilePictureBanned", map[string]any{}), 400, "userID")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setProfilePictureBanned", map[string]any{"userID": "00000000-0000-0000-0000-000000000000"}), 404, "not found")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setProfilePictureBanned", map[string]any{"email": "nobody@example.com"}), 404, "not found")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setProfilePictureBanned", map[string]any{"userID": a.UserID, "profilePictureBanned": "yes"}), 400, "profilePictureBanned")
		if acctAdminUser(t, srv, "userID="+b.UserID)["profilePictureBanned"] != false {
			t.Fatal("bob was banned")
		}
	})
}

func TestSetUserAdditionalInformation(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		acctAdminOnly(t, srv, http.MethodPost, "/api/setUserAdditionalInformation", map[string]any{"userID": a.UserID, "additionalInformation": "x"}, a.SessionID)

		set := func(body any) []map[string]string {
			return acctDecode[[]map[string]string](t, srv.AdminPost(t, "/api/setUserAdditionalInformation", body))
		}
		if got := set(map[string]any{"userID": a.UserID, "additionalInformation": "paid by wire"}); len(got) != 1 || got[0]["additionalInformation"] != "paid by wire" {
			t.Fatalf("set: %v", got)
		}
		if acctAdminUser(t, srv, "userID="+a.UserID)["additionalInformation"] != "paid by wire" || acctAdminUser(t, srv, "userID="+b.UserID)["additionalInformation"] != "" {
			t.Fatal("not stored on alice only")
		}
		if got := set(map[string]any{"email": a.Email}); got[0]["additionalInformation"] != "" {
			t.Fatalf("absent value did not remove: %v", got)
		}
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAdditionalInformation", map[string]any{"additionalInformation": "x"}), 400, "userID")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAdditionalInformation", map[string]any{"userID": a.UserID, "additionalInformation": strings.Repeat("x", 70000)}), 400, "additionalInformation")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAdditionalInformation", map[string]any{"email": "bad"}), 400, "email")
	})
}

func TestUserKVP(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.Accounts.KVPMaxPerUser = 3
			c.Service.Accounts.KVPMaxKeyBytes = 16
			c.Service.Accounts.KVPMaxValueBytes = 100
		})
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		setKVP := func(session string, body any) *testsupport.Envelope {
			return srv.Post(t, "/api/setUserKVP", session, body)
		}
		get := func(session, key string) *testsupport.Envelope {
			return srv.Get(t, "/api/getUserKVP?key="+key, session)
		}

		got := acctDecode[map[string]string](t, setKVP(a.SessionID, map[string]any{"key": "theme", "value": "dark"}))
		if got["key"] != "theme" || got["value"] != "dark" {
			t.Fatalf("set: %v", got)
		}
		if got := acctDecode[map[string]string](t, get(a.SessionID, "theme")); got["value"] != "dark" {
			t.Fatalf("get: %v", got)
		}
		// Bob sees none of it, and his own key of the same name is his.
		testsupport.ExpectError(t, get(b.SessionID, "theme"), 404, "key")
		testsupport.ExpectOK(t, setKVP(b.SessionID, map[string]any{"key": "theme", "value": "light"}))
		if got := acctDecode[map[string]string](t, get(a.SessionID, "theme")); got["value"] != "dark" {
			t.Fatalf("bob overwrote alice's value: %v", got)
		}
		if d := acctDecode[map[string]bool](t, acctDelete(t, srv, "/api/deleteUserKVP?key=theme", b.SessionID, "")); !d["success"] {
			t.Fatal("bob could not delete his key")
		}
		if got := acctDecode[map[string]string](t, get(a.SessionID, "theme")); got["value"] != "dark" {
			t.Fatal("bob's delete removed alice's key")
		}
		if d := acctDecode[map[string]bool](t, acctDelete(t, srv, "/api/deleteUserKVP?key=theme", b.SessionID, "")); d["success"] {
			t.Fatal("deleting a missing key succeeded")
		}

		// Overwrite, empty values, unicode keys, the per-user cap.
		testsupport.ExpectOK(t, setKVP(a.SessionID, map[string]any{"key": "theme", "value": "solarized"}))
		testsupport.ExpectOK(t, setKVP(a.SessionID, map[string]any{"key": "empty", "value": ""}))
		testsupport.ExpectOK(t, setKVP(a.SessionID, map[string]any{"key": "größe", "value": "✓"}))
		if got := acctDecode[map[string]string](t, get(a.SessionID, "gr%C3%B6%C3%9Fe")); got["value"] != "✓" {
			t.Fatalf("unicode key: %v", got)
		}
		testsupport.ExpectError(t, setKVP(a.SessionID, map[string]any{"key": "fourth", "value": "x"}), 400, "key: at most 3 keys")

		for _, c := range []struct {
			body   any
			status int
			want   string
		}{
			{map[string]any{"value": "x"}, 400, "key"},
			{map[string]any{"key": "x"}, 400, "value"},
			{map[string]any{"key": "", "value": "x"}, 400, "key"},
			{map[string]any{"key": strings.Repeat("k", 17), "value": "x"}, 400, "key: must be 1 to 16 bytes"},
			{map[string]any{"key": "theme", "value": strings.Repeat("v", 101)}, 400, "value: must be at most 100 bytes"},
			{map[string]any{"key": "a\tb", "value": "x"}, 400, "key"},
			{map[string]any{"key": 1, "value": "x"}, 400, "key"},
			{map[string]any{"key": "theme", "value": 2}, 400, "value"},
			{"not json", 400, "body"},
		} {
			testsupport.ExpectError(t, setKVP(a.SessionID, c.body), c.status, c.want)
		}
		if got := acctDecode[map[string]string](t, get(a.SessionID, "theme")); got["value"] != "solarized" {
			t.Fatalf("a rejected set changed the value: %v", got)
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getUserKVP", a.SessionID), 400, "key")
		testsupport.ExpectError(t, get(a.SessionID, "missing"), 404, "key")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUserKVP", a.SessionID, ""), 400, "key")

		// Anonymous and guest callers have no KVPs.
		for _, session := range []string{"", acctNewSession()} {
			testsupport.ExpectError(t, get(session, "theme"), 401, "not signed in")
			testsupport.ExpectError(t, setKVP(session, map[string]any{"key": "k", "value": "v"}), 401, "not signed in")
			testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUserKVP?key=theme", session, ""), 401, "not signed in")
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getUserKVP?key=theme", "zzz"), 400, "X-Session-ID")
	})
}

func TestGetUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProperties", a.SessionID, map[string]any{"username": "alice"}))

		// Public view, with or without a session: no email or other private fields.
		for _, session := range []string{b.SessionID, "", acctNewSession()} {
			env := srv.Get(t, "/api/getUser?userID="+a.UserID, session)
			got := acctDecode[map[string]any](t, env)
			if got["userID"] != a.UserID || got["username"] != "alice" {
				t.Fatalf("public view: %s", env.Raw)
			}
			for k := range got {
				if !slices.Contains([]string{"userID", "username", "profilePicture"}, k) {
					t.Fatalf("public view shows %q: %s", k, env.Raw)
				}
			}
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser?email="+a.Email, b.SessionID), 403, "X-Administration-Key")
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser?username=alice", b.SessionID), 403, "X-Administration-Key")
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getUser?email=" + a.Email, AdminKey: "wrong-admin-key-0123456789"}), 403, "X-Administration-Key")
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser", b.SessionID), 400, "userID")
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser?userID=00000000-0000-0000-0000-000000000000", b.SessionID), 404, "not found")

		// Admin view: every documented field, lookups by email and username.
		want := []string{"userID", "username", "email", "createdDate", "updatedDate", "deletedDate", "isDisabled",
			"isAtLeast18Confirmed", "tier", "tierExpiration", "merchantProcessor", "subscriptions", "flaggedImagesCount",
			"highHeatImagesCount", "refList", "rs", "loginProviders", "connectProviders", "abuse", "profilePicture",
			"profilePictureBanned", "archivedEmails", "itemCount", "publicItemCount", "rootFolderItemCount",
			"additionalInformation", "roles"}
		for _, q := range []string{"userID=" + a.UserID, "email=Alice@Example.com", "username=ALICE"} {
			view := acctAdminUser(t, srv, q)
			if view["userID"] != a.UserID || view["email"] != a.Email {
				t.Fatalf("admin lookup %s: %v", q, view)
			}
			for _, k := range want {
				if _, ok := view[k]; !ok {
					t.Errorf("admin view lacks %q", k)
				}
			}
			for _, k := range []string{"subscriptions", "connectProviders", "archivedEmails", "refList"} {
				if _, ok := view[k].([]any); !ok {
					t.Errorf("%s = %v, want an array", k, view[k])
				}
			}
			if !strings.HasSuffix(view["createdDate"].(string), "Z") || view["deletedDate"] != nil || view["isDisabled"] != false {
				t.Fatalf("dates/flags: %v", view)
			}
			if roles := view["roles"].([]any); len(roles) != 1 || roles[0] != "user" {
				t.Fatalf("roles %v", roles)
			}
		}
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getUser"), 400, "userID")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getUser?username=nobody"), 404, "not found")

		// Deleted users: hidden from the public, visible to Admins.
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser", a.SessionID, ""))
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser?userID="+a.UserID, b.SessionID), 404, "not found")
		view := acctAdminUser(t, srv, "email="+a.Email)
		if view["deletedDate"] == nil || view["isDisabled"] != true {
			t.Fatalf("deleted user in the admin view: %v", view)
		}

		// Guests are not public users.
		guest := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", acctNewSession()))
		testsupport.ExpectError(t, srv.Get(t, "/api/getUser?userID="+guest.UserID, b.SessionID), 404, "not found")
		if acctAdminUser(t, srv, "userID="+guest.UserID)["isGuest"] != true {
			t.Fatal("admin view of a guest")
		}
	})
}

func TestGenerateStrongPassword(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		seen := map[string]bool{}
		for range 20 {
			p := acctDecode[string](t, srv.Get(t, "/api/generateStrongPassword", ""))
			if err := account.CheckPasswordRule(p); err != nil || seen[p] {
				t.Fatalf("%q: %v (seen %v)", p, err, seen[p])
			}
			seen[p] = true
		}
		// The server takes what it generates.
		for p := range seen {
			testsupport.ExpectOK(t, srv.Post(t, "/api/createUser", "", map[string]any{"email": "gen@example.com", "password": p}))
			testsupport.SignIn(t, srv, "gen@example.com", p)
			break
		}
	})
}

func TestDeleteUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		c := testsupport.SignUp(t, srv, "carol@example.com")
		bOther := testsupport.SignIn(t, srv, b.Email, b.Password)

		// A user cannot delete someone else, however they ask.
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser?userID="+b.UserID, a.SessionID, ""), 403, "userID")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser?userID="+b.UserID, a.SessionID, "wrong-admin-key-0123456789"), 403, "userID")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser?userID="+b.UserID, "", ""), 401, "not signed in")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser", acctNewSession(), ""), 401, "not signed in")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser?deleteItems=perhaps", a.SessionID, ""), 400, "deleteItems")
		if !acctIsSignedIn(t, srv, a.SessionID) || !acctIsSignedIn(t, srv, b.SessionID) || acctAdminUser(t, srv, "userID="+b.UserID)["deletedDate"] != nil {
			t.Fatal("a refused delete changed something")
		}

		// Self-delete with deleteItems: recorded; every session ends.
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser?deleteItems=true&userID="+b.UserID, b.SessionID, ""))
		if acctIsSignedIn(t, srv, b.SessionID) || acctIsSignedIn(t, srv, bOther) {
			t.Fatal("a deleted user's session still authenticates")
		}
		stored, err := srv.App.Store.UserByID(context.Background(), b.UserID)
		if err != nil || !stored.Deleted() || !stored.DeleteItemsRequested {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		// The email stays reserved.
		testsupport.ExpectError(t, srv.Post(t, "/api/createUser", "", map[string]any{"email": b.Email, "password": b.Password}), 409, "already registered")
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": b.Email, "signUp": true}), 409, "already registered")

		// Admin: any user by id, with or without a session; twice is success false.
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser?userID="+c.UserID, "", testsupport.AdminKey))
		if acctIsSignedIn(t, srv, c.SessionID) {
			t.Fatal("admin delete left the session")
		}
		if got := acctDecode[map[string]any](t, acctDelete(t, srv, "/api/deleteUser?userID="+c.UserID, "", testsupport.AdminKey)); got["success"] != false {
			t.Fatalf("second delete: %v", got)
		}
		if s, _ := srv.App.Store.UserByID(context.Background(), c.UserID); s.DeleteItemsRequested {
			t.Fatal("deleteItems recorded without being asked")
		}
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser?userID=00000000-0000-0000-0000-000000000000", "", testsupport.AdminKey), 404, "not found")
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/deleteUser", "", testsupport.AdminKey), 400, "userID")
		if !acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatal("alice was affected")
		}
	})
}

func TestSetUserAbuseLevel(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		acctAdminOnly(t, srv, http.MethodPost, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 9}, b.SessionID)
		if !acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatal("a refused call disabled alice")
		}
		level := func(body any) int {
			got := acctDecode[map[string]float64](t, srv.AdminPost(t, "/api/setUserAbuseLevel", body))
			return int(got["abuse"])
		}
		if n := level(map[string]any{"userID": a.UserID}); n != 0 {
			t.Fatalf("read = %d", n)
		}
		if n := level(map[string]any{"email": a.Email, "abuse": 3}); n != 3 {
			t.Fatalf("set = %d", n)
		}
		for _, invalid := range []any{-1, 10, 2.5, 1e9} {
			if n := level(map[string]any{"userID": a.UserID, "abuse": invalid}); n != 3 {
				t.Fatalf("invalid level %v gave %d, want the current 3", invalid, n)
			}
		}
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": "9"}), 400, "abuse")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"abuse": 1}), 400, "userID")
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"email": "x@example.com", "abuse": 1}), 404, "not found")
		if acctAdminUser(t, srv, "userID="+b.UserID)["abuse"].(float64) != 0 {
			t.Fatal("bob's level changed")
		}
		if n := level(map[string]any{"userID": a.UserID, "abuse": 9}); n != 9 || acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatalf("level 9 = %d, or the session survived", n)
		}
		if acctAdminUser(t, srv, "userID="+a.UserID)["isDisabled"] != true {
			t.Fatal("level 9 is not shown as disabled")
		}
	})
}
