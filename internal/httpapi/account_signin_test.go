package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

const acctWrongCredentials = "Wrong email, password or one-time password"

func TestCreateUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		post := func(session string, body any) *testsupport.Envelope {
			return srv.Post(t, "/api/createUser", session, body)
		}

		// With a password, no session header: a new session is created.
		env := post("", map[string]any{"email": "  Alice@Example.COM ", "password": testsupport.TestPassword,
			"username": "Alice_1", "isAtLeast18Confirmed": true, "refList": []string{"https://ref.example", "b"}, "rs": "aff42"})
		u := acctDecode[testsupport.SelfUser](t, env)
		if !u.IsAuthenticated || u.Email != "alice@example.com" || u.Username != "Alice_1" || !u.IsAtLeast18Confirmed || u.SessionID == "" {
			t.Fatalf("createUser: %s", env.Raw)
		}
		for _, field := range []string{`"tier":0`, `"merchantProcessor":""`, `"subscriptions":[]`, `"itemCount":0`, `"rootFolderItemCount":0`, `"userID":"`} {
			if !strings.Contains(string(env.Raw), field) {
				t.Errorf("SelfUser lacks %s: %s", field, env.Raw)
			}
		}
		if strings.Contains(strings.ToLower(string(env.Raw)), "password") || strings.Contains(string(env.Raw), "argon2") {
			t.Fatalf("the response shows the password or its hash: %s", env.Raw)
		}
		admin := acctAdminUser(t, srv, "email=alice@example.com")
		if rs, refs := admin["rs"], admin["refList"].([]any); rs != "aff42" || len(refs) != 2 || refs[0] != "https://ref.example" {
			t.Fatalf("rs/refList: %v %v", rs, refs)
		}
		if lp := admin["loginProviders"].([]any); len(lp) != 1 || lp[0].(map[string]any)["providerId"] != "Password" {
			t.Fatalf("loginProviders %v", lp)
		}

		// With an OTP (and the refList as a comma-separated string).
		code := testsupport.RequestOTP(t, srv, "otp@example.com", true)
		env = post(acctNewSession(), map[string]any{"email": "otp@example.com", "otp": code, "refList": "x, y,,z"})
		testsupport.ExpectOK(t, env)
		admin = acctAdminUser(t, srv, "email=otp@example.com")
		if lp := admin["loginProviders"].([]any); len(lp) != 1 || lp[0].(map[string]any)["providerId"] != "OTP" ||
			lp[0].(map[string]any)["providerType"] != "internal" {
			t.Fatalf("loginProviders %v", lp)
		}
		if refs := admin["refList"].([]any); len(refs) != 3 || refs[2] != "z" {
			t.Fatalf("refList from a comma-separated string: %v", refs)
		}
		// The OTP was used up.
		testsupport.ExpectError(t, post("", map[string]any{"email": "otp2@example.com", "otp": code}), 401, acctWrongCredentials)

		// Errors; none of them creates anything.
		for _, c := range []struct {
			body   any
			status int
			want   string
		}{
			{map[string]any{"password": testsupport.TestPassword}, 400, "email"},
			{map[string]any{"email": 42, "password": testsupport.TestPassword}, 400, "email"},
			{map[string]any{"email": "bad@", "password": testsupport.TestPassword}, 400, "email: is not a valid email address"},
			{map[string]any{"email": "Bob <bad@example.com>", "password": testsupport.TestPassword}, 400, "email"},
			{map[string]any{"email": "bad@example.com"}, 400, "at least one of password and otp"},
			{map[string]any{"email": "bad@example.com", "password": "weakpass"}, 400, "password: must be at least 8"},
			{map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword, "username": "x"}, 400, "username"},
			{map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword, "username": "bad name"}, 400, "username"},
			{map[string]any{"email": "bad@example.com", "otp": "12ab56"}, 400, "otp: must be 6 digits"},
			{map[string]any{"email": "bad@example.com", "otp": "123456"}, 401, acctWrongCredentials},
			{map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword, "refList": 7}, 400, "refList"},
			{map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword, "isAtLeast18Confirmed": "yes"}, 400, "isAtLeast18Confirmed"},
			{`{"email": "bad@example.com", "password": `, 400, "body"},
			{map[string]any{"email": "ALICE@example.com", "password": testsupport.TestPassword}, 409, "email: already registered"},
			{map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword, "username": "alice_1"}, 409, "username: already taken"},
		} {
			testsupport.ExpectError(t, post("", c.body), c.status, c.want)
		}
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/createUser",
			SessionID: "not-a-uuid", Body: map[string]any{"email": "bad@example.com", "password": testsupport.TestPassword}}), 400, "X-Session-ID")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getUser?email=bad@example.com"), 404, "not found")

		// A bad username does not use up the OTP.
		code = testsupport.RequestOTP(t, srv, "keep@example.com", true)
		testsupport.ExpectError(t, post("", map[string]any{"email": "keep@example.com", "otp": code, "username": "alice_1"}), 409, "username")
		testsupport.ExpectOK(t, post("", map[string]any{"email": "keep@example.com", "otp": code}))
	})
}

func TestAuthenticateUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		auth := func(session string, body any) *testsupport.Envelope {
			return srv.Post(t, "/api/authenticateUser", session, body)
		}

		// Password sign-in rotates the session: the id sent no longer authenticates.
		old := acctNewSession()
		testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser", old))
		env := auth(old, map[string]any{"email": "ALICE@example.com", "password": a.Password, "isAtLeast18Confirmed": true})
		u := acctDecode[testsupport.SelfUser](t, env)
		if !u.IsAuthenticated || u.UserID != a.UserID || u.SessionID == old || !u.IsAtLeast18Confirmed {
			t.Fatalf("authenticate: %s", env.Raw)
		}
		if acctIsSignedIn(t, srv, old) {
			t.Fatal("the pre-sign-in session id still authenticates (session fixation)")
		}
		if !acctIsSignedIn(t, srv, u.SessionID) || !acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatal("the new session, or the other device's session, does not authenticate")
		}

		// Wrong password, unknown email: the same 401.
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "password": "Wrong-Passw0rd!"}), 401, acctWrongCredentials)
		testsupport.ExpectError(t, auth("", map[string]any{"email": "nobody@example.com", "password": "Wrong-Passw0rd!"}), 401, acctWrongCredentials)
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": "000000"}), 401, acctWrongCredentials)
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email}), 400, "at least one of password and otp")
		testsupport.ExpectError(t, auth("", map[string]any{"password": a.Password}), 400, "email")
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": 123456}), 400, "otp")
		testsupport.ExpectError(t, auth("", "[]"), 400, "body")

		// OTP sign-in: single use, recorded as a login provider.
		code := testsupport.RequestOTP(t, srv, a.Email, false)
		s1 := acctDecode[testsupport.SelfUser](t, auth("", map[string]any{"email": a.Email, "otp": code}))
		if s1.UserID != a.UserID {
			t.Fatal("OTP signed in another user")
		}
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": code}), 401, acctWrongCredentials)
		if lp := acctAdminUser(t, srv, "userID="+a.UserID)["loginProviders"].([]any); len(lp) != 2 {
			t.Fatalf("loginProviders after an OTP sign-in: %v", lp)
		}

		// An OTP expires after accounts.otpTTL (24 h).
		code = testsupport.RequestOTP(t, srv, a.Email, false)
		srv.Clock.Advance(24*time.Hour + time.Second)
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": code}), 401, acctWrongCredentials)

		// Five wrong tries void it; four do not.
		code = testsupport.RequestOTP(t, srv, a.Email, false)
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		for range 5 {
			testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": wrong}), 401, acctWrongCredentials)
		}
		testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": code}), 401, acctWrongCredentials)
		code = testsupport.RequestOTP(t, srv, a.Email, false)
		for range 4 {
			testsupport.ExpectError(t, auth("", map[string]any{"email": a.Email, "otp": wrong}), 401, acctWrongCredentials)
		}
		testsupport.ExpectOK(t, auth("", map[string]any{"email": a.Email, "otp": code}))

		// An unknown email with a valid OTP registers the account.
		code = testsupport.RequestOTP(t, srv, "New@Example.com", false)
		n := acctDecode[testsupport.SelfUser](t, auth("", map[string]any{"email": "new@example.com", "otp": code}))
		if !n.IsAuthenticated || n.Email != "new@example.com" || n.UserID == "" {
			t.Fatalf("auto-registration: %+v", n)
		}

		// A user with an OTP and no password cannot sign in with a password.
		testsupport.ExpectError(t, auth("", map[string]any{"email": "new@example.com", "password": testsupport.TestPassword}), 401, acctWrongCredentials)
	})
}

func TestDisabledAndDeletedUsersCannotSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "abuser@example.com")
		b := testsupport.SignUp(t, srv, "leaver@example.com")

		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 9}))
		testsupport.ExpectError(t, srv.Get(t, "/api/getUserKVP?key=k", a.SessionID), 401, "")
		if acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatal("a disabled user's session still authenticates")
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": a.Email, "password": a.Password}), 401, "disabled")
		// A wrong password for a disabled account says nothing more than for anyone else.
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": a.Email, "password": "Wrong-Passw0rd!"}), 401, acctWrongCredentials)
		// No OTP email goes to a disabled account, and the answer is the usual one.
		before := len(srv.Outbox(t))
		testsupport.ExpectOK(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": a.Email}))
		if len(srv.Outbox(t)) != before {
			t.Fatal("an OTP was sent to a disabled account")
		}

		testsupport.ExpectOK(t, acctDelete(t, srv, "/api/deleteUser", b.SessionID, ""))
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": b.Email, "password": b.Password}), 401, "disabled")
		// Re-enabling the abuser lets them in again.
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/setUserAbuseLevel", map[string]any{"userID": a.UserID, "abuse": 0}))
		testsupport.SignIn(t, srv, a.Email, a.Password)
	})
}

func TestSignOutUser(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		other := testsupport.SignIn(t, srv, a.Email, a.Password)

		got := acctDecode[map[string]any](t, srv.Post(t, "/api/signOutUser", a.SessionID, nil))
		if got["success"] != true {
			t.Fatalf("signOut: %v", got)
		}
		if acctIsSignedIn(t, srv, a.SessionID) {
			t.Fatal("the session still authenticates after signOut")
		}
		if !acctIsSignedIn(t, srv, other) {
			t.Fatal("signOut ended another session")
		}
		// Unknown session: success false, nothing created.
		unknown := acctNewSession()
		got = acctDecode[map[string]any](t, srv.Post(t, "/api/signOutUser", unknown, nil))
		if got["success"] != false || got["message"] == "" {
			t.Fatalf("signOut of an unknown session: %v", got)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/signOutUser", "", nil), 401, "not signed in")
		testsupport.ExpectError(t, srv.Post(t, "/api/signOutUser", "1234", nil), 400, "X-Session-ID")
	})
}

func TestRequestOTP(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.MagicLinkURL = "https://app.example/magic?lang=en"
		})
		a := testsupport.SignUp(t, srv, "alice@example.com")

		env := srv.Post(t, "/api/requestOTP", "", map[string]any{"email": "Fresh@Example.com", "signUp": true})
		got := acctDecode[map[string]any](t, env)
		if got["success"] != true || got["message"] == "" {
			t.Fatalf("requestOTP: %s", env.Raw)
		}
		msgs := srv.Outbox(t)
		m := msgs[len(msgs)-1]
		link := testsupport.MagicLink(t, m)
		if m.To != "fresh@example.com" && !strings.Contains(m.To, "<fresh@example.com>") {
			t.Fatalf("sent to %q", m.To)
		}
		if link.Email != "fresh@example.com" || link.URL.Host != "app.example" || link.URL.Path != "/magic" || link.URL.Query().Get("lang") != "en" {
			t.Fatalf("magic link %s for %q", link.URL, link.Email)
		}
		if !strings.Contains(m.Text, link.OTP) {
			t.Fatal("the email text lacks the code")
		}
		// The code is stored only as a keyed hash.
		stored := acctQueryString(t, srv, url, "SELECT code_hash FROM otps WHERE email = $1", "fresh@example.com")
		if len(stored) != 64 || strings.Contains(stored, link.OTP) {
			t.Fatalf("stored OTP %q", stored)
		}

		// signUp=true for a registered email: 409 (also in another case).
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": "ALICE@example.com", "signUp": true}), 409, "already registered")
		// signUp=false: registered or not, the same answer.
		m1 := acctDecode[map[string]any](t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": a.Email}))
		m2 := acctDecode[map[string]any](t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": "unknown@example.com"}))
		if strings.ReplaceAll(m1["message"].(string), a.Email, "") != strings.ReplaceAll(m2["message"].(string), "unknown@example.com", "") {
			t.Fatalf("answers differ: %v / %v", m1, m2)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": "not an email"}), 400, "email")
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{}), 400, "email")
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": a.Email, "signUp": "true"}), 400, "signUp")
	})
}

func TestDefaultMagicLinkIsPublicURLLogin(t *testing.T) {
	srv := acctServer(t, "sqlite:"+t.TempDir()+"/a.db")
	testsupport.RequestOTP(t, srv, "x@example.com", false)
	msgs := srv.Outbox(t)
	link := testsupport.MagicLink(t, msgs[len(msgs)-1])
	if want := srv.App.Config.PublicURL + "/login"; link.URL.Scheme+"://"+link.URL.Host+link.URL.Path != want {
		t.Fatalf("magic link %s, want %s?b=...", link.URL, want)
	}
}

func TestSignInRateLimits(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		rule := ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 2}
		srv := testsupport.NewServer(t, url, func(c *config.Config) {
			c.Service.RateLimits = map[string]ratelimit.Rule{
				"requestOTP:email": rule, "authenticateUser:email": rule, "createUser:ip": {Requests: 1, Per: time.Hour, Burst: 3},
			}
		})
		otp := func(email string) *testsupport.Envelope {
			return srv.Post(t, "/api/requestOTP", "", map[string]any{"email": email})
		}
		testsupport.ExpectOK(t, otp("a@example.com"))
		testsupport.ExpectOK(t, otp("A@example.com"))
		env := otp("a@example.com")
		testsupport.ExpectError(t, env, 429, "Too many requests")
		if env.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		testsupport.ExpectOK(t, otp("b@example.com")) // per email

		a := testsupport.SignUp(t, srv, "c@example.com")
		bad := map[string]any{"email": a.Email, "password": "Wrong-Passw0rd!"}
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", bad), 401, "")
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", bad), 401, "")
		// Over the limit even the right password waits: guessing stops here.
		testsupport.ExpectError(t, srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": a.Email, "password": a.Password}), 429, "Too many requests")
		srv.Clock.Advance(time.Hour)
		testsupport.SignIn(t, srv, a.Email, a.Password)

		// createUser:ip had 3 tokens and 1 more after the hour: c, d, e, f pass, g waits.
		for _, email := range []string{"d@example.com", "e@example.com", "f@example.com"} {
			testsupport.SignUp(t, srv, email)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/createUser", "", map[string]any{"email": "g@example.com", "password": testsupport.TestPassword}), 429, "Too many requests")
		testsupport.ExpectError(t, srv.AdminGet(t, "/api/getUser?email=g@example.com"), 404, "not found")
	})
}

func TestRequestOTPRateLimitPerClient(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, func(c *config.Config) {
			c.Service.RateLimits = map[string]ratelimit.Rule{"requestOTP:ip": {Requests: 1, Per: time.Hour, Burst: 3}}
		})
		for i, email := range []string{"a@x.io", "b@x.io", "c@x.io"} {
			if env := srv.Post(t, "/api/requestOTP", "", map[string]any{"email": email}); env.HasError {
				t.Fatalf("request %d: %s", i, env.Raw)
			}
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/requestOTP", "", map[string]any{"email": "d@x.io"}), 429, "Too many requests")
		if n := len(srv.Outbox(t)); n != 3 {
			t.Fatalf("%d emails sent, want 3", n)
		}
	})
}

func TestGuestIsHandedToTheAccountOnSignIn(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		guestSession := acctNewSession()
		// Confirming 18+ as a guest creates the guest record that remembers it.
		g := acctDecode[testsupport.SelfUser](t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", guestSession))
		if g.UserID == "" || g.IsAuthenticated || !g.IsAtLeast18Confirmed {
			t.Fatalf("guest: %+v", g)
		}
		if again := testsupport.Self(t, srv, guestSession); again.UserID != g.UserID || !again.IsAtLeast18Confirmed {
			t.Fatalf("guest not remembered: %+v", again)
		}
		u := acctDecode[testsupport.SelfUser](t, srv.Post(t, "/api/createUser", guestSession,
			map[string]any{"email": "g@example.com", "password": testsupport.TestPassword}))
		if u.UserID == g.UserID || !u.IsAtLeast18Confirmed {
			t.Fatalf("account after the guest: %+v", u)
		}
		into, err := srv.App.Store.GuestMergedInto(context.Background(), g.UserID)
		if err != nil || into != u.UserID {
			t.Fatalf("guest merged into %q, %v; want %s", into, err, u.UserID)
		}
		if acctIsSignedIn(t, srv, guestSession) || testsupport.Self(t, srv, guestSession).UserID == g.UserID {
			t.Fatal("the guest session survived sign-in")
		}
	})
}

func TestPasswordsAreNeverLoggedOrReturned(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		const first, second, wrong = "First-Secr3t!", "Second-Secr3t!", "Wrong-Secr3t!"
		var bodies []string
		record := func(env *testsupport.Envelope) { bodies = append(bodies, string(env.Raw)) }
		record(srv.Post(t, "/api/createUser", "", map[string]any{"email": "p@example.com", "password": first}))
		s := testsupport.SignIn(t, srv, "p@example.com", first)
		record(srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": "p@example.com", "password": wrong}))
		record(srv.Post(t, "/api/authenticateUser", "", map[string]any{"email": "nobody@example.com", "password": wrong}))
		record(srv.Post(t, "/api/setSelfUserProperties", s, map[string]any{"password": second}))
		record(srv.Post(t, "/api/setSelfUserProperties", s, map[string]any{"password": "weak"}))
		record(srv.Post(t, "/api/createUser", "", map[string]any{"email": 5, "password": first}))
		record(srv.AdminGet(t, "/api/getUser?email=p@example.com"))
		logs := srv.LogText()
		for _, secret := range []string{first, second, wrong, "weak\"", "$argon2id$"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q", secret)
			}
			for _, b := range bodies {
				if strings.Contains(b, secret) {
					t.Errorf("a response contains %q: %s", secret, b)
				}
			}
		}
	})
}
