package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/payments/boosty/boostyfake"
	"aimg/internal/testsupport"
)

const boostyBlog = "sexyai"

// boostyCookies is a Cookie-Editor style export of boosty.to with the
// auth cookie holding token (expiring at expiresAt).
func boostyCookies(token string, expiresAt time.Time) []map[string]any {
	auth, _ := json.Marshal(map[string]any{"accessToken": token, "refreshToken": "refresh-" + token,
		"expiresAt": expiresAt.UnixMilli()})
	return []map[string]any{
		{"name": "_clientId", "value": "client-123", "domain": ".boosty.to", "path": "/", "expirationDate": 1900000000.5},
		{"name": "auth", "value": url.QueryEscape(string(auth)), "domain": ".boosty.to", "path": "/",
			"expirationDate": float64(expiresAt.Unix()), "hostOnly": false, "httpOnly": false, "secure": false},
	}
}

func injectBody(token string, expiresAt time.Time) map[string]any {
	return map[string]any{"accountId": boostyBlog, "cookies": boostyCookies(token, expiresAt)}
}

func boostyServer(t *testing.T, url string, fake *boostyfake.Server, edits ...func(*config.Config)) *testsupport.Server {
	return testsupport.NewServer(t, url, append([]func(*config.Config){func(c *config.Config) {
		c.Service.Payments.Boosty.APIURL = fake.URL
	}}, edits...)...)
}

func boostyPlan(t *testing.T, srv *testsupport.Server, level string, tier int) string {
	t.Helper()
	env := adminPostBilling(t, srv, "/api/createBillingPlan", map[string]any{"name": "Boosty " + level, "tier": tier,
		"prices": []map[string]any{{"type": "base", "period": "monthly", "currency": "USD", "currencyType": "fiat", "value": 5,
			"paymentProviders": []map[string]any{{"paymentProvider": "boosty", "externalId": level,
				"paymentUrl": "https://boosty.to/" + boostyBlog + "/purchase/" + level}}}}})
	testsupport.ExpectOK(t, env)
	var p struct {
		ID string `json:"id"`
	}
	env.Decode(t, &p)
	return p.ID
}

type boostyCheck struct {
	Success        bool    `json:"success"`
	Message        string  `json:"message"`
	ProductID      string  `json:"productID"`
	Tier           int     `json:"tier"`
	TierExpiration *string `json:"tierExpiration"`
}

func checkBoosty(t *testing.T, srv *testsupport.Server, session string, body any) (*testsupport.Envelope, boostyCheck) {
	t.Helper()
	env := srv.Post(t, "/api/checkBoostySubscription", session, body)
	var out boostyCheck
	if !env.HasError {
		env.Decode(t, &out)
	}
	return env, out
}

func TestBoostyInjectCookies(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := boostyfake.New(boostyBlog, "tok-secret-1")
		defer fake.Close()
		srv := boostyServer(t, dbURL, fake, testsupport.WithoutRateLimits)
		now := srv.Clock.Now()
		user := testsupport.SignUp(t, srv, "inject@example.com")
		good := injectBody("tok-secret-1", now.Add(30*24*time.Hour))

		// Admin only.
		testsupport.ExpectError(t, srv.Post(t, "/api/injectBoostyAdminAccountCookies", "", good), 401, "")
		testsupport.ExpectError(t, srv.Post(t, "/api/injectBoostyAdminAccountCookies", user.SessionID, good), 403, "")

		edit := func(f func(b map[string]any)) map[string]any {
			b := injectBody("tok-secret-1", now.Add(30*24*time.Hour))
			f(b)
			return b
		}
		many := make([]map[string]any, 201)
		for i := range many {
			many[i] = map[string]any{"name": "c", "value": "v"}
		}
		big := boostyCookies("tok-secret-1", now.Add(time.Hour))
		big = append(big, map[string]any{"name": "big", "value": strings.Repeat("x", 70<<10)})
		for _, c := range []struct {
			name string
			body any
			want string
		}{
			{"no accountId", edit(func(b map[string]any) { delete(b, "accountId") }), "accountId"},
			{"bad accountId", edit(func(b map[string]any) { b["accountId"] = "../admin" }), "accountId"},
			{"unknown domain", edit(func(b map[string]any) { b["domainIdentifier"] = "evil.example" }), "domainIdentifier"},
			{"no cookies", edit(func(b map[string]any) { delete(b, "cookies") }), "cookies"},
			{"empty cookies", edit(func(b map[string]any) { b["cookies"] = []any{} }), "cookies"},
			{"not an array", edit(func(b map[string]any) { b["cookies"] = "auth=x" }), "cookies"},
			{"not objects", edit(func(b map[string]any) { b["cookies"] = []any{"auth", 1} }), "cookies"},
			{"no value", edit(func(b map[string]any) { b["cookies"] = []any{map[string]any{"name": "auth"}} }), "cookies"},
			{"no auth cookie", edit(func(b map[string]any) {
				b["cookies"] = []any{map[string]any{"name": "_clientId", "value": "x"}}
			}), "auth"},
			{"auth not JSON", edit(func(b map[string]any) {
				b["cookies"] = []any{map[string]any{"name": "auth", "value": "abc"}}
			}), "accessToken"},
			{"auth without token", edit(func(b map[string]any) {
				b["cookies"] = []any{map[string]any{"name": "auth", "value": url.QueryEscape(`{"refreshToken":"r"}`)}}
			}), "accessToken"},
			{"token expired", injectBody("tok-secret-1", now.Add(-time.Minute)), "expired"},
			{"too many", edit(func(b map[string]any) { b["cookies"] = many }), "at most 200"},
			{"too large", edit(func(b map[string]any) { b["cookies"] = big }), "bytes"},
		} {
			env := adminPostBilling(t, srv, "/api/injectBoostyAdminAccountCookies", c.body)
			testsupport.ExpectError(t, env, 400, c.want)
			if c.want != "" && !env.HasError {
				t.Errorf("%s: accepted", c.name)
			}
		}
		if _, err := srv.App.Store.BoostyAccount(context.Background(), "localhost"); err == nil {
			t.Fatal("a refused injection stored something")
		}

		env := adminPostBilling(t, srv, "/api/injectBoostyAdminAccountCookies", good)
		testsupport.ExpectOK(t, env)
		var ok struct {
			Success bool `json:"success"`
		}
		env.Decode(t, &ok)
		if !ok.Success {
			t.Fatalf("inject: %s", env.Raw)
		}
		// The domain by host works too.
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/injectBoostyAdminAccountCookies",
			edit(func(b map[string]any) { b["domainIdentifier"] = "127.0.0.1" })))

		// At rest: sealed, the token nowhere in the row.
		acct, err := srv.App.Store.BoostyAccount(context.Background(), "localhost")
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []string{"tok-secret-1", "accessToken", "refresh-tok", "client-123"} {
			if bytes.Contains(acct.SealedCookies, []byte(plain)) {
				t.Errorf("the stored row contains %q in plain text", plain)
			}
		}
		if acct.AccountID != boostyBlog || !acct.ExpiresAt.Equal(acct.CreatedAt.Add(7*24*time.Hour)) {
			t.Errorf("stored %s, %s..%s; want %s for 7 days", acct.AccountID, acct.CreatedAt, acct.ExpiresAt, boostyBlog)
		}
		// Nothing answers the token: the injection, the admin's and the user's views, the logs.
		for _, raw := range [][]byte{env.Raw, srv.AdminGet(t, "/api/getUser?email=inject@example.com").Raw,
			srv.Get(t, "/api/getSelfUser", user.SessionID).Raw, srv.AdminGet(t, "/api/openapi").Raw, []byte(srv.LogText())} {
			if bytes.Contains(raw, []byte("tok-secret-1")) {
				t.Errorf("the token is in %.200s", raw)
			}
		}
	})
}

func TestBoostyClaim(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := boostyfake.New(boostyBlog, "tok-1")
		defer fake.Close()
		srv := boostyServer(t, dbURL, fake, testsupport.WithoutRateLimits)
		now := srv.Clock.Now()
		paid := now.Add(20 * 24 * time.Hour).Truncate(time.Second)
		gold := boostyfake.Level{ID: 101, Name: "Gold", Price: 300}
		fake.Add(
			boostyfake.Subscriber{ID: 5001, Name: "Alice", Email: "Alice@Example.com", Level: gold, Subscribed: true,
				OnTime: now.Add(-40 * 24 * time.Hour).Unix(), NextPayTime: paid.Unix()},
			boostyfake.Subscriber{ID: 5002, Name: "Bob", Email: "bob@example.com", Level: boostyfake.Level{ID: 999, Name: "Other"},
				Subscribed: true, OnTime: now.Add(-time.Hour).Unix()},
			boostyfake.Subscriber{ID: 5003, Name: "Carol", Email: "carol@example.com", Level: gold, Subscribed: false,
				OnTime: now.Add(-2 * time.Hour).Unix()},
			boostyfake.Subscriber{ID: 5004, Name: "Erin Nomail", Level: gold, Subscribed: true, OnTime: now.Add(-3 * time.Hour).Unix()},
			boostyfake.Subscriber{ID: 5005, Name: "Frank", Email: "frank@boosty.example", Level: gold, Subscribed: true,
				OnTime: now.Add(-4 * time.Hour).Unix(), NextPayTime: paid.Unix()},
		)
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		mallory := testsupport.SignUp(t, srv, "mallory@example.com")

		// Nothing injected yet: unavailable, the admin must inject.
		env, _ := checkBoosty(t, srv, alice.SessionID, nil)
		testsupport.ExpectError(t, env, 503, "inject")
		testsupport.ExpectError(t, srv.Post(t, "/api/checkBoostySubscription", "", nil), 401, "")

		planID := boostyPlan(t, srv, "101", 2)
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/injectBoostyAdminAccountCookies", injectBody("tok-1", now.Add(30*24*time.Hour))))

		env, got := checkBoosty(t, srv, alice.SessionID, nil)
		testsupport.ExpectOK(t, env)
		if !got.Success || got.Tier != 2 || got.ProductID != planID || got.TierExpiration == nil {
			t.Fatalf("alice's claim: %s", env.Raw)
		}
		if exp, _ := time.Parse(time.RFC3339Nano, *got.TierExpiration); !exp.Equal(paid) {
			t.Errorf("tierExpiration %s, want Boosty's next payment %s", *got.TierExpiration, paid)
		}
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests to Boosty, want 1", len(reqs))
		}
		r := reqs[0]
		if r.URL.Path != "/v1/blog/sexyai/subscribers" || r.Header.Get("Authorization") != "Bearer tok-1" ||
			r.URL.Query().Get("level_ids") != "101" || r.URL.Query().Get("limit") != "100" {
			t.Errorf("request %s %v", r.URL, r.Header)
		}
		self := selfTier(t, srv, alice.SessionID, "")
		if self.Tier != 2 || self.MerchantProcessor != "boosty" || len(self.Subscriptions) != 1 ||
			self.Subscriptions[0].ProductID != planID {
			t.Fatalf("alice's self view: %+v", self)
		}
		// cancelMembership cannot cancel on Boosty: it emails how to.
		env = srv.Do(t, testsupport.Req{Method: http.MethodDelete, Path: "/api/cancelMembership", SessionID: alice.SessionID})
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), "instructions") {
			t.Errorf("cancelMembership of a Boosty subscriber: %s", env.Payload)
		}
		// Claiming again renews the same subscription.
		env, got = checkBoosty(t, srv, alice.SessionID, map[string]any{"boostyEmail": "alice@example.com"})
		testsupport.ExpectOK(t, env)
		if !got.Success || len(selfTier(t, srv, alice.SessionID, "").Subscriptions) != 1 {
			t.Errorf("second claim: %s", env.Raw)
		}

		// Another user cannot take alice's subscription, by email or by name.
		env, _ = checkBoosty(t, srv, mallory.SessionID, map[string]any{"boostyEmail": "alice@example.com"})
		testsupport.ExpectError(t, env, 409, "another account")
		env, _ = checkBoosty(t, srv, mallory.SessionID, map[string]any{"boostyName": "alice"})
		testsupport.ExpectError(t, env, 409, "another account")
		if s := selfTier(t, srv, mallory.SessionID, ""); s.Tier != 0 || len(s.Subscriptions) != 0 {
			t.Errorf("mallory got %+v", s)
		}
		// Not subscribed: success false, no tier.
		for _, c := range []struct{ email, name string }{{"bob@example.com", ""}, {"carol@example.com", ""}, {"nobody@example.com", ""}} {
			u := testsupport.SignUp(t, srv, c.email)
			env, got = checkBoosty(t, srv, u.SessionID, nil)
			testsupport.ExpectOK(t, env)
			if got.Success || got.Tier != 0 || !strings.Contains(got.Message, "No active Boosty subscription") {
				t.Errorf("%s: %s", c.email, env.Raw)
			}
		}
		// By name, when the Boosty account has no email; no next payment date: a month.
		erin := testsupport.SignUp(t, srv, "erin@example.com")
		env, got = checkBoosty(t, srv, erin.SessionID, map[string]any{"boostyName": "Erin Nomail"})
		testsupport.ExpectOK(t, env)
		if exp, _ := time.Parse(time.RFC3339Nano, deref(got.TierExpiration)); !got.Success || !exp.Equal(now.AddDate(0, 1, 0)) {
			t.Errorf("erin: %s", env.Raw)
		}
		env, _ = checkBoosty(t, srv, erin.SessionID, map[string]any{"boostyEmail": "not-an-email"})
		testsupport.ExpectError(t, env, 400, "boostyEmail")

		// A Boosty email that is not the account's: confirmed by a code
		// emailed to it, bound to the caller and valid for a day.
		frank := testsupport.SignUp(t, srv, "frank@example.com")
		// codeFor returns the code of the one email to frank@boosty.example
		// not seen before (the outbox is not in sending order).
		seen := map[string]bool{}
		codeFor := func() string {
			t.Helper()
			var fresh []string
			for _, m := range srv.Outbox(t) {
				code := regexp.MustCompile(`\b\d{8}\b`).FindString(m.Text)
				if m.To == "frank@boosty.example" && !seen[m.Text] {
					seen[m.Text] = true
					fresh = append(fresh, code)
				}
			}
			if len(fresh) != 1 || fresh[0] == "" {
				t.Fatalf("new codes emailed to frank@boosty.example: %q, want one", fresh)
			}
			return fresh[0]
		}
		byFrank := map[string]any{"boostyEmail": "frank@boosty.example"}
		env, got = checkBoosty(t, srv, mallory.SessionID, byFrank)
		testsupport.ExpectOK(t, env)
		if got.Success || !strings.Contains(got.Message, "confirmation code") {
			t.Fatalf("mallory asking for frank's: %s", env.Raw)
		}
		malloryCode := codeFor()
		env, got = checkBoosty(t, srv, frank.SessionID, byFrank)
		testsupport.ExpectOK(t, env)
		frankCode := codeFor()
		if got.Success || frankCode == malloryCode {
			t.Fatalf("frank's first call: %s (codes %s, %s)", env.Raw, frankCode, malloryCode)
		}
		// Mallory cannot use frank's code; a wrong code is a 400.
		env, _ = checkBoosty(t, srv, mallory.SessionID, map[string]any{"boostyEmail": "frank@boosty.example", "boostyCode": frankCode})
		testsupport.ExpectError(t, env, 400, "boostyCode")
		env, _ = checkBoosty(t, srv, frank.SessionID, map[string]any{"boostyEmail": "frank@boosty.example", "boostyCode": "12345678"})
		testsupport.ExpectError(t, env, 400, "boostyCode")
		// Two days later the code is stale; a new one works.
		srv.Clock.Advance(49 * time.Hour)
		env, _ = checkBoosty(t, srv, frank.SessionID, map[string]any{"boostyEmail": "frank@boosty.example", "boostyCode": frankCode})
		testsupport.ExpectError(t, env, 400, "boostyCode")
		checkBoosty(t, srv, frank.SessionID, byFrank)
		env, got = checkBoosty(t, srv, frank.SessionID, map[string]any{"boostyEmail": "frank@boosty.example", "boostyCode": codeFor()})
		testsupport.ExpectOK(t, env)
		if !got.Success || got.Tier != 2 {
			t.Fatalf("frank with the code: %s", env.Raw)
		}
		if s := selfTier(t, srv, mallory.SessionID, ""); s.Tier != 0 {
			t.Errorf("mallory's tier: %d", s.Tier)
		}

		// The admin view names the Boosty account in connectProviders; others have none.
		var view struct {
			ConnectProviders []struct {
				ProviderType, ProviderID, UserID string
			} `json:"connectProviders"`
		}
		env = srv.AdminGet(t, "/api/getUser?email=alice@example.com")
		testsupport.ExpectOK(t, env)
		env.Decode(t, &view)
		if len(view.ConnectProviders) != 1 || view.ConnectProviders[0].ProviderID != "Boosty" ||
			view.ConnectProviders[0].ProviderType != "oauth" || view.ConnectProviders[0].UserID != "5001" {
			t.Errorf("alice's connectProviders: %s", env.Payload)
		}
		env = srv.AdminGet(t, "/api/getUser?email=mallory@example.com")
		view.ConnectProviders = nil
		env.Decode(t, &view)
		if view.ConnectProviders == nil || len(view.ConnectProviders) != 0 {
			t.Errorf("mallory's connectProviders: %s", env.Payload)
		}

		// Boosty failing: a clear 503, never a 500, and alice keeps her tier.
		for _, f := range []struct {
			status int
			body   string
			want   string
		}{
			{401, `{"error":"unauthorized"}`, "inject new"},
			{403, `{}`, "inject new"},
			{500, `oops`, "did not answer"},
			{502, `<html>bad gateway</html>`, "did not answer"},
			{200, `<html>not json</html>`, "did not answer"},
			{200, `{"total": 3}`, "did not answer"},
		} {
			fake.Fail(f.status, f.body)
			env, _ = checkBoosty(t, srv, alice.SessionID, nil)
			testsupport.ExpectError(t, env, 503, f.want)
		}
		fake.Fail(0, "")
		if s := selfTier(t, srv, alice.SessionID, ""); s.Tier != 2 {
			t.Errorf("alice's tier after Boosty failures: %d", s.Tier)
		}

		// 7 days after the injection the cookies are not used any more.
		before := len(fake.Requests())
		srv.Clock.Advance(7*24*time.Hour + time.Second)
		env, _ = checkBoosty(t, srv, alice.SessionID, nil)
		testsupport.ExpectError(t, env, 503, "expired")
		if len(fake.Requests()) != before {
			t.Error("expired cookies were sent to Boosty")
		}
		// New cookies (another token) replace them.
		fake.Token = "tok-2"
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/injectBoostyAdminAccountCookies",
			injectBody("tok-2", srv.Clock.Now().Add(30*24*time.Hour))))
		env, got = checkBoosty(t, srv, alice.SessionID, nil)
		testsupport.ExpectOK(t, env)
		if !got.Success {
			t.Errorf("after new cookies: %s", env.Raw)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkBoostySubscription takes a token per account (config rateLimits).
func TestBoostyClaimRateLimit(t *testing.T) {
	fake := boostyfake.New(boostyBlog, "tok-1")
	defer fake.Close()
	srv := boostyServer(t, "", fake)
	user := testsupport.SignUp(t, srv, "limited@example.com")
	other := testsupport.SignUp(t, srv, "other@example.com")
	limited := false
	for range 10 {
		env := srv.Post(t, "/api/checkBoostySubscription", user.SessionID, nil)
		if env.Status == http.StatusTooManyRequests {
			limited = true
			break
		}
		testsupport.ExpectError(t, env, 503, "inject") // nothing injected
	}
	if !limited {
		t.Fatal("10 calls in a row were not rate limited")
	}
	// Another account is not affected.
	testsupport.ExpectError(t, srv.Post(t, "/api/checkBoostySubscription", other.SessionID, nil), 503, "inject")
}
