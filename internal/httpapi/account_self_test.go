package httpapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"aimg/internal/media"
	"aimg/internal/testsupport"
)

func TestGetSelfUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		// No header: a new anonymous session.
		env := srv.Get(t, "/api/getSelfUser?profilePicture=true&extendedPriceInfo=true", "")
		anon := acctDecode[testsupport.SelfUser](t, env)
		if anon.SessionID == "" || anon.IsAuthenticated || anon.UserID != "" || anon.ProfilePicture == nil {
			t.Fatalf("anonymous: %s", env.Raw)
		}
		if !strings.Contains(string(env.Raw), `"subscriptions":[]`) {
			t.Fatalf("subscriptions not an empty array: %s", env.Raw)
		}
		// The new session id works.
		if again := testsupport.Self(t, srv, anon.SessionID); again.SessionID != anon.SessionID {
			t.Fatalf("session %s not kept: %+v", anon.SessionID, again)
		}
		// isAtLeast18Confirmed=false on an anonymous session creates nothing.
		if s := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=false", anon.SessionID)); s.UserID != "" {
			t.Fatalf("a guest record was created for false: %+v", s)
		}

		a := testsupport.SignUp(t, srv, "alice@example.com")
		s := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser", a.SessionID))
		if !s.IsAuthenticated || s.UserID != a.UserID || s.Email != a.Email || s.IsAtLeast18Confirmed || s.ProfilePicture != nil {
			t.Fatalf("self: %+v", s)
		}
		if s := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", a.SessionID)); !s.IsAtLeast18Confirmed {
			t.Fatal("18+ not set")
		}
		if s := testsupport.Self(t, srv, a.SessionID); !s.IsAtLeast18Confirmed {
			t.Fatal("18+ not remembered")
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=maybe", a.SessionID), 400, "isAtLeast18Confirmed")
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfUser?profilePicture=2", a.SessionID), 400, "profilePicture")
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfUser", "00000000-0000-0000-0000-00000000000g"), 400, "X-Session-ID")
		testsupport.ExpectError(t, srv.Post(t, "/api/getSelfUser", a.SessionID, nil), 405, "")
		if s := testsupport.Self(t, srv, a.SessionID); !s.IsAtLeast18Confirmed {
			t.Fatal("a bad request changed the 18+ flag")
		}
	})
}

func TestSetSelfUserProperties(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		set := func(session string, body any) *testsupport.Envelope {
			return srv.Post(t, "/api/setSelfUserProperties", session, body)
		}

		// Username.
		u := acctDecode[testsupport.SelfUser](t, set(a.SessionID, map[string]any{"username": "Alice.A", "isAtLeast18Confirmed": true}))
		if u.Username != "Alice.A" || !u.IsAtLeast18Confirmed || u.SessionID != a.SessionID {
			t.Fatalf("set: %+v", u)
		}
		testsupport.ExpectError(t, set(b.SessionID, map[string]any{"username": "alice.a"}), 409, "username: already taken")
		testsupport.ExpectError(t, set(b.SessionID, map[string]any{"username": "a b"}), 400, "username")
		testsupport.ExpectOK(t, set(a.SessionID, map[string]any{"username": "alice.A"})) // own name, other case
		if got := testsupport.Self(t, srv, b.SessionID); got.Username != "" {
			t.Fatalf("b's username = %q after failed changes", got.Username)
		}

		// Nothing given, anonymous, malformed: refused, nothing changed.
		testsupport.ExpectError(t, set(a.SessionID, map[string]any{}), 400, "at least one of")
		testsupport.ExpectError(t, set(a.SessionID, map[string]any{"otp": "123456"}), 400, "at least one of")
		testsupport.ExpectError(t, set(acctNewSession(), map[string]any{"username": "guest1"}), 401, "not signed in")
		testsupport.ExpectError(t, set("", map[string]any{"username": "guest1"}), 401, "not signed in")
		testsupport.ExpectError(t, set(a.SessionID, map[string]any{"username": 5}), 400, "username")
		testsupport.ExpectError(t, set(a.SessionID, map[string]any{"username": "ok_name", "password": "short"}), 400, "password")
		if got := testsupport.Self(t, srv, a.SessionID); got.Username != "alice.A" {
			t.Fatalf("a rejected request changed the username to %q", got.Username)
		}

		// Password: other sessions end, this one stays; old password fails.
		other := testsupport.SignIn(t, srv, a.Email, a.Password)
		const newPassword = "N3w-Passw0rd!"
		testsupport.ExpectOK(t, set(a.SessionID, map[string]any{"password": newPassword}))
		if acctIsSignedIn(t, srv, other) {
			t.Fatal("another session survived the password change")
		}
		if !acctIsSignedIn(t, srv, a.SessionID) || !acctIsSignedIn(t, srv, b.SessionID) {
			t.Fatal("the current session, or another user's, ended")
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": a.Email, "password": a.Password}), 401, acctWrongCredentials)
		testsupport.SignIn(t, srv, a.Email, newPassword)
		hash := acctQueryString(t, srv, url, "SELECT password_hash FROM users WHERE email = $1", a.Email)
		if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, newPassword) {
			t.Fatalf("stored password %q", hash)
		}

		// Abuse level 6: the username is frozen.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": b.UserID, "abuse": 6}))
		testsupport.ExpectError(t, set(b.SessionID, map[string]any{"username": "bobby"}), 403, "username")
		testsupport.ExpectOK(t, set(b.SessionID, map[string]any{"isAtLeast18Confirmed": true}))
	})
}

func TestChangeEmail(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		gone := testsupport.SignUp(t, srv, "gone@example.com")
		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser", gone.SessionID, ""))
		set := func(body any) *testsupport.Envelope {
			return srv.Post(t, "/api/setSelfUserProperties", a.SessionID, body)
		}

		code := testsupport.RequestOTP(t, srv, "alice.new@example.com", true)
		otherCode := testsupport.RequestOTP(t, srv, "elsewhere@example.com", true)
		for _, c := range []struct {
			body   map[string]any
			status int
			want   string
		}{
			{map[string]any{"email": "alice.new@example.com"}, 400, "otp: is required"},
			{map[string]any{"email": "alice.new@example.com", "otp": ""}, 400, "otp: is required"},
			{map[string]any{"email": "alice.new@example.com", "otp": "12345"}, 400, "otp: must be 6 digits"},
			{map[string]any{"email": "alice.new@example.com", "otp": otherCode}, 400, "otp: wrong or expired"},
			{map[string]any{"email": "elsewhere@example.com", "otp": code}, 400, "otp: wrong or expired"},
			{map[string]any{"email": "not-an-email", "otp": code}, 400, "email: is not a valid email address"},
			{map[string]any{"email": "BOB@example.com", "otp": code}, 409, "email: already registered"},
			{map[string]any{"email": "gone@example.com", "otp": code}, 409, "email: already registered"},
		} {
			testsupport.ExpectError(t, set(c.body), c.status, c.want)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfUserProperties", acctNewSession(),
			map[string]any{"email": "alice.new@example.com", "otp": code}), 401, "not signed in")
		if got := testsupport.Self(t, srv, a.SessionID); got.Email != a.Email {
			t.Fatalf("email changed to %q by a rejected request", got.Email)
		}

		// The wrong tries above counted against the new email's OTP (2 of 5): it still works.
		u := acctDecode[testsupport.SelfUser](t, set(map[string]any{"email": "Alice.New@example.com", "otp": code}))
		if u.Email != "alice.new@example.com" {
			t.Fatalf("email = %q", u.Email)
		}
		admin := acctAdminUser(t, srv, "userID="+a.UserID)
		archived := admin["archivedEmails"].([]any)
		if len(archived) != 1 || archived[0].(map[string]any)["email"] != a.Email || archived[0].(map[string]any)["archivedDate"] == "" {
			t.Fatalf("archivedEmails = %v", archived)
		}
		testsupport.SignIn(t, srv, "alice.new@example.com", a.Password)
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": a.Email, "password": a.Password}), 401, acctWrongCredentials)
		// The OTP was used up by the change.
		testsupport.ExpectError(t, srv.Post(t, "/api/setSelfUserProperties", b.SessionID,
			map[string]any{"email": "alice.new2@example.com", "otp": code}), 400, "otp: wrong or expired")
		// The same email again is no change and needs no OTP.
		testsupport.ExpectOK(t, set(map[string]any{"email": "alice.new@example.com"}))
	})
}

func TestSetSelfUserProfilePicture(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		b := testsupport.SignUp(t, srv, "bob@example.com")
		set := func(session string, body any) *testsupport.Envelope {
			return srv.Post(t, "/api/setSelfUserProfilePicture", session, body)
		}

		got := acctDecode[map[string]string](t, set(a.SessionID, map[string]any{"profilePicture": acctPNG(t, 300, 200)}))
		pic := got["profilePicture"]
		mediaType, data, err := media.ParseDataURI(pic, 1<<20)
		if err != nil || mediaType != "image/webp" {
			t.Fatalf("returned %q...: %v", pic[:min(len(pic), 40)], err)
		}
		img, _, err := media.Decode(data, media.Limits{})
		if err != nil || img.Bounds().Dx() != 128 || img.Bounds().Dy() != 128 {
			t.Fatalf("returned picture: %v, %v", img.Bounds(), err)
		}
		self := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?profilePicture=true", a.SessionID))
		if self.ProfilePicture == nil || *self.ProfilePicture != pic {
			t.Fatal("getSelfUser?profilePicture=true does not return the stored picture")
		}
		pub := acctDecode[map[string]any](t, srv.Get(t, "/api/getUser?userID="+a.UserID, b.SessionID))
		if pub["profilePicture"] != pic {
			t.Fatal("getUser does not show the picture")
		}
		if s := testsupport.Self(t, srv, b.SessionID); s.ProfilePicture != nil {
			t.Fatal("profilePicture returned without being requested")
		}
		if s := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?profilePicture=true", b.SessionID)); s.ProfilePicture == nil || *s.ProfilePicture != "" {
			t.Fatal("bob's picture is not empty: pictures leak across users")
		}

		// Bad inputs: 400/413, the picture stays.
		random := make([]byte, 11<<20)
		_, _ = rand.Read(random)
		for _, c := range []struct {
			body   any
			status int
			want   string
		}{
			{map[string]any{"profilePicture": "not a data uri"}, 400, "profilePicture"},
			{map[string]any{"profilePicture": "data:image/png;base64,!!!!"}, 400, "profilePicture"},
			{map[string]any{"profilePicture": "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("hello world"))}, 400, "profilePicture"},
			{map[string]any{"profilePicture": "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\ntruncated"))}, 400, "profilePicture"},
			{map[string]any{"profilePicture": "data:image/png;base64," + base64.StdEncoding.EncodeToString(random)}, 413, "profilePicture"},
			{map[string]any{"profilePicture": 12}, 400, "profilePicture"},
			{map[string]any{}, 400, "profilePicture"},
			{`{"profilePicture": "data:`, 400, "body"},
		} {
			testsupport.ExpectError(t, set(a.SessionID, c.body), c.status, c.want)
		}
		huge := `{"profilePicture":"` + strings.Repeat("A", 17<<20) + `"}`
		testsupport.ExpectError(t, set(a.SessionID, huge), 413, "")
		testsupport.ExpectError(t, set("", map[string]any{"profilePicture": ""}), 401, "not signed in")
		testsupport.ExpectError(t, set(acctNewSession(), map[string]any{"profilePicture": ""}), 401, "not signed in")
		if s := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?profilePicture=true", a.SessionID)); *s.ProfilePicture != pic {
			t.Fatal("a rejected upload changed the picture")
		}

		// "" removes it.
		got = acctDecode[map[string]string](t, set(a.SessionID, map[string]any{"profilePicture": ""}))
		if got["profilePicture"] != "" || acctAdminUser(t, srv, "userID="+a.UserID)["profilePicture"] != false {
			t.Fatal("picture not removed")
		}

		// Abuse level 6 freezes it.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": b.UserID, "abuse": 6}))
		testsupport.ExpectError(t, set(b.SessionID, map[string]any{"profilePicture": acctPNG(t, 10, 10)}), 403, "profile picture")
	})
}

func TestProfilePictureBodyLimitIsTheImageLimit(t *testing.T) {
	srv := acctServer(t, "sqlite:"+t.TempDir()+"/a.db")
	a := testsupport.SignUp(t, srv, "alice@example.com")
	// 2 MiB is over the ordinary JSON limit (1 MiB) but fine for a picture.
	pic := acctPNG(t, 900, 900)
	pad := strings.Repeat(" ", 2<<20)
	env := srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setSelfUserProfilePicture", SessionID: a.SessionID,
		Body: `{"profilePicture":"` + pic + `"` + pad + `}`})
	testsupport.ExpectOK(t, env)
	env = srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/setUserKVP", SessionID: a.SessionID,
		Body: `{"key":"k","value":"v"` + pad + `}`})
	testsupport.ExpectError(t, env, 413, "")
}
