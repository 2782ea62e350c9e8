package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

type apiSelfTier struct {
	Tier              int     `json:"tier"`
	TierExpiration    *string `json:"tierExpiration"`
	MerchantProcessor string  `json:"merchantProcessor"`
	Subscriptions     []struct {
		MerchantProcessor string  `json:"merchantProcessor"`
		Tier              int     `json:"tier"`
		TierExpiration    *string `json:"tierExpiration"`
		ProductID         string  `json:"productID"`
		Status            string  `json:"status"`
		Price             *struct {
			Type  string  `json:"type"`
			Value float64 `json:"value"`
		} `json:"price"`
	} `json:"subscriptions"`
}

func selfTier(t *testing.T, srv *testsupport.Server, session, query string) apiSelfTier {
	t.Helper()
	env := srv.Get(t, "/api/getSelfUser"+query, session)
	testsupport.ExpectOK(t, env)
	var v apiSelfTier
	env.Decode(t, &v)
	return v
}

func adminPostBilling(t *testing.T, srv *testsupport.Server, path string, body any) *testsupport.Envelope {
	t.Helper()
	return srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: path, AdminKey: testsupport.AdminKey, Body: body})
}

func validPlan() map[string]any {
	return map[string]any{"name": "Pro", "tier": 1, "features": []string{"fast"}, "prices": []map[string]any{{
		"type": "base", "period": "monthly", "currency": "USD", "currencyType": "fiat", "value": 9.99,
		"paymentProviders": []map[string]any{{"paymentProvider": "stripe", "externalId": "price_pro_monthly", "paymentUrl": "https://pay.example/checkout?plan={planID}&back={redirectURL}"},
			{"paymentProvider": "arkpay"}},
	}}}
}

func TestBillingPlans(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		user := testsupport.SignUp(t, srv, "plans@example.com")
		// Not an Admin: 401 anonymous, 403 signed in.
		testsupport.ExpectError(t, srv.Post(t, "/api/createBillingPlan", "", validPlan()), 401, "")
		testsupport.ExpectError(t, srv.Post(t, "/api/createBillingPlan", user.SessionID, validPlan()), 403, "")

		bad := func(edit func(p map[string]any)) map[string]any {
			p := validPlan()
			edit(p)
			return p
		}
		price := func(p map[string]any) map[string]any { return p["prices"].([]map[string]any)[0] }
		provider := func(p map[string]any) map[string]any {
			return price(p)["paymentProviders"].([]map[string]any)[0]
		}
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{bad(func(p map[string]any) { p["name"] = " " }), "name"},
			{bad(func(p map[string]any) { p["tier"] = 0 }), "tier"},
			{bad(func(p map[string]any) { p["tier"] = 10 }), "tier"},
			{bad(func(p map[string]any) { p["prices"] = []any{} }), "prices"},
			{bad(func(p map[string]any) { price(p)["type"] = "weekly" }), "prices[0].type"},
			{bad(func(p map[string]any) { price(p)["period"] = "weekly" }), "prices[0].period"},
			{bad(func(p map[string]any) { price(p)["currency"] = "XYZ" }), "prices[0].currency"},
			{bad(func(p map[string]any) { delete(price(p), "currencyType") }), "prices[0].currencyType"},
			{bad(func(p map[string]any) { price(p)["value"] = -1 }), "prices[0].value"},
			{bad(func(p map[string]any) { price(p)["paymentProviders"] = []any{} }), "prices[0].paymentProviders"},
			{bad(func(p map[string]any) { provider(p)["paymentProvider"] = "visa" }), "prices[0].paymentProviders[0].paymentProvider"},
			{bad(func(p map[string]any) { provider(p)["paymentUrl"] = "javascript:alert(1)" }), "prices[0].paymentProviders[0].paymentUrl"},
		} {
			testsupport.ExpectError(t, adminPostBilling(t, srv, "/api/createBillingPlan", c.body), 400, c.want)
		}
		// arkpay without a paymentUrl is refused; fixing it creates the plan.
		testsupport.ExpectError(t, adminPostBilling(t, srv, "/api/createBillingPlan", validPlan()), 400, "prices[0].paymentProviders[1].paymentUrl")
		good := bad(func(p map[string]any) {
			price(p)["paymentProviders"].([]map[string]any)[1]["paymentProvider"] = "giftcard"
		})
		env := adminPostBilling(t, srv, "/api/createBillingPlan", good)
		testsupport.ExpectOK(t, env)
		var plan struct {
			ID   string `json:"id"`
			Tier int    `json:"tier"`
		}
		env.Decode(t, &plan)
		special := validPlan()
		special["code"], special["name"] = "SPRING", "Spring deal"
		price(special)["paymentProviders"] = []map[string]any{{"paymentProvider": "giftcard"}}
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/createBillingPlan", special))

		type apiPlan struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Prices []struct {
				PaymentProviders []struct {
					PaymentProvider string `json:"paymentProvider"`
					PaymentURL      string `json:"paymentUrl"`
				} `json:"paymentProviders"`
			} `json:"prices"`
		}
		list := func(q string) []apiPlan {
			env := srv.Get(t, "/api/getBillingPlans"+q, "")
			testsupport.ExpectOK(t, env)
			var v []apiPlan
			env.Decode(t, &v)
			return v
		}
		if got := list(""); len(got) != 1 || got[0].ID != plan.ID {
			t.Fatalf("plans without code: %+v", got)
		}
		if got := list("?code=SPRING"); len(got) != 2 {
			t.Fatalf("plans with code: %+v", got)
		}
		if got := list("?planIDs=" + uuid.NewString()); len(got) != 0 {
			t.Fatalf("planIDs filter: %+v", got)
		}
		got := list("?planIDs=" + plan.ID + "&redirectURL=https%3A%2F%2Fsite.example%2Fdone&paymentURL=https%3A%2F%2Fsite.example%2Fpay")
		pp := got[0].Prices[0].PaymentProviders
		if want := "https://pay.example/checkout?plan=" + plan.ID + "&back=https%3A%2F%2Fsite.example%2Fdone"; pp[0].PaymentURL != want {
			t.Fatalf("stripe paymentUrl = %q, want %q", pp[0].PaymentURL, want)
		}
		if want := "https://site.example/pay?planID=" + plan.ID + "&paymentProvider=giftcard"; pp[1].PaymentURL != want {
			t.Fatalf("giftcard paymentUrl = %q, want %q", pp[1].PaymentURL, want)
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getBillingPlans?redirectURL=nope", ""), 400, "redirectURL")

		// payWithCardEmail: the links go to the signed-in user's email.
		testsupport.ExpectError(t, srv.Post(t, "/api/payWithCardEmail", "", map[string]any{}), 400, "email")
		env = srv.Post(t, "/api/payWithCardEmail", user.SessionID, map[string]any{"email": "someone@else.example"})
		testsupport.ExpectOK(t, env)
		msgs := srv.Outbox(t)
		last := msgs[len(msgs)-1]
		if last.To != "plans@example.com" || !strings.Contains(last.Text, "https://pay.example/checkout?plan="+plan.ID) {
			t.Fatalf("payWithCardEmail mail to %q: %s", last.To, last.Text)
		}
	})
}

func TestGetBillingPlansAndPayWithCardEmailAreRateLimited(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits["getBillingPlans:ip"] = ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 2}
	})
	for range 2 {
		testsupport.ExpectOK(t, srv.Get(t, "/api/getBillingPlans", ""))
	}
	testsupport.ExpectError(t, srv.Get(t, "/api/getBillingPlans", ""), 429, "")
	for range 3 {
		srv.Post(t, "/api/payWithCardEmail", "", map[string]any{"email": "x@example.com"})
	}
	testsupport.ExpectError(t, srv.Post(t, "/api/payWithCardEmail", "", map[string]any{"email": "x@example.com"}), 429, "")
}

// An admin grant takes effect on the next request: the tier-1 Model opens,
// getSelfUser shows it, and deactivating closes it again.
func TestAdminProvidedTierTakesEffectAtOnce(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		acct := testsupport.SignUp(t, srv, "granted@example.com")
		other := testsupport.SignUp(t, srv, "other@example.com")
		deluxe := map[string]any{"prompt": "a red sun", "modelName": "deluxe"}
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, deluxe), 403, "tier")

		grantBody := map[string]any{"productId": "press", "email": "granted@example.com", "tier": 2, "isActive": true,
			"deactivationDate": srv.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}
		testsupport.ExpectError(t, srv.Post(t, "/api/setAdminProvidedPremiumTier", acct.SessionID, grantBody), 403, "")
		testsupport.ExpectError(t, srv.Post(t, "/api/setAdminProvidedPremiumTier", "", grantBody), 401, "")
		for _, c := range []struct {
			edit func(b map[string]any)
			want string
		}{
			{func(b map[string]any) { delete(b, "productId") }, "productId"},
			{func(b map[string]any) { delete(b, "tier") }, "tier"},
			{func(b map[string]any) { b["tier"] = 0 }, "tier"},
			{func(b map[string]any) { delete(b, "isActive") }, "isActive"},
			{func(b map[string]any) { delete(b, "email") }, "email"},
			{func(b map[string]any) { b["deactivationDate"] = "tomorrow" }, "deactivationDate"},
			{func(b map[string]any) { b["deactivationDate"] = "2000-01-01T00:00:00Z" }, "deactivationDate"},
			{func(b map[string]any) { b["emails"] = []string{"nobody@example.com"} }, "nobody@example.com"},
		} {
			b := map[string]any{}
			for k, v := range grantBody {
				b[k] = v
			}
			c.edit(b)
			env := adminPostBilling(t, srv, "/api/setAdminProvidedPremiumTier", b)
			if env.Status != 400 && env.Status != 404 || !strings.Contains(env.ErrorMessage, c.want) {
				t.Fatalf("%v: %d %s", b, env.Status, env.Raw)
			}
		}
		env := adminPostBilling(t, srv, "/api/setAdminProvidedPremiumTier", grantBody)
		testsupport.ExpectOK(t, env)
		var grant struct {
			ID              string `json:"_id"`
			PaymentProvider string `json:"paymentProvider"`
			Email           string `json:"email"`
			Tier            int    `json:"tier"`
			IsActive        bool   `json:"isActive"`
		}
		env.Decode(t, &grant)
		if grant.ID == "" || grant.PaymentProvider != "admin" || grant.Email != "granted@example.com" || grant.Tier != 2 || !grant.IsActive {
			t.Fatalf("grant: %s", env.Raw)
		}
		// The next request sees tier 2.
		if st := generate(t, srv, "/api/generateImage", acct.SessionID, deluxe); st.Status != "queued" {
			t.Fatalf("deluxe after the grant: %+v", st)
		}
		me := selfTier(t, srv, acct.SessionID, "")
		if me.Tier != 2 || me.MerchantProcessor != "admin" || me.TierExpiration == nil || len(me.Subscriptions) != 1 ||
			me.Subscriptions[0].ProductID != "press" || me.Subscriptions[0].Price != nil {
			t.Fatalf("self after grant: %+v", me)
		}
		// The other user is untouched, and sees none of it.
		if o := selfTier(t, srv, other.SessionID, ""); o.Tier != 0 || len(o.Subscriptions) != 0 {
			t.Fatalf("other user: %+v", o)
		}
		var admin struct {
			Tier          int `json:"tier"`
			Subscriptions []struct {
				ProductID string `json:"productID"`
			} `json:"subscriptions"`
		}
		env = srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: "/api/getUser?userID=" + acct.UserID, AdminKey: testsupport.AdminKey})
		testsupport.ExpectOK(t, env)
		env.Decode(t, &admin)
		if admin.Tier != 2 || len(admin.Subscriptions) != 1 {
			t.Fatalf("getUser admin view: %s", env.Raw)
		}
		// Expiry: after the deactivation date the tier is 0, and the sweeper marks it expired.
		srv.Clock.Advance(49 * time.Hour)
		testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", acct.SessionID, deluxe), 403, "tier")
		if n, err := srv.App.Billing.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v", n, err)
		}
		if me := selfTier(t, srv, acct.SessionID, ""); me.Tier != 0 || me.MerchantProcessor != "" || me.Subscriptions[0].Status != "expired" {
			t.Fatalf("self after expiry: %+v", me)
		}
		// Re-activated for both, then deactivated: the tier ends at once.
		bulk := map[string]any{"productId": "press", "emails": []string{"granted@example.com", "other@example.com"}, "tier": 1, "isActive": true}
		env = adminPostBilling(t, srv, "/api/setAdminProvidedPremiumTier", bulk)
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"emails":["granted@example.com","other@example.com"]`) || strings.Contains(string(env.Payload), `"_id"`) {
			t.Fatalf("bulk grant: %s", env.Payload)
		}
		if o := selfTier(t, srv, other.SessionID, ""); o.Tier != 1 {
			t.Fatalf("other after bulk grant: %+v", o)
		}
		bulk["isActive"] = false
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/setAdminProvidedPremiumTier", bulk))
		if o := selfTier(t, srv, other.SessionID, ""); o.Tier != 0 || len(o.Subscriptions) != 1 {
			t.Fatalf("other after deactivation: %+v", o)
		}

		// cancelMembership: nothing renews, so nothing is cancelled; signed-in only.
		testsupport.ExpectError(t, acctDelete(t, srv, "/api/cancelMembership", "", ""), 401, "")
		env = acctDelete(t, srv, "/api/cancelMembership", acct.SessionID, "")
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":false`) {
			t.Fatalf("cancel without renewing subscription: %s", env.Payload)
		}
	})
}

func downloadCards(t *testing.T, srv *testsupport.Server, query, key string) (int, []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/downloadGiftCards"+query, nil)
	if key != "" {
		req.Header.Set("X-Administration-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, []string{string(b)}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	return 200, strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestGiftCards(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		acct := testsupport.SignUp(t, srv, "gift@example.com")
		if st, _ := downloadCards(t, srv, "?numberOfCards=2", ""); st != 401 {
			t.Fatalf("anonymous download: %d", st)
		}
		for _, q := range []string{"?distributionProvider=amazon", "?tier=0", "?tier=10", "?days=0", "?numberOfCards=10001",
			"?usdPrice=-1", "?numberOfCards=2&externalCodes=a", "?tier=x"} {
			if st, body := downloadCards(t, srv, q, testsupport.AdminKey); st != 400 {
				t.Fatalf("%s: %d %v", q, st, body)
			}
		}
		st, codes := downloadCards(t, srv, "?numberOfCards=5&tier=2&days=10&usdPrice=5", testsupport.AdminKey)
		if st != 200 || len(codes) != 5 {
			t.Fatalf("download: %d %v", st, codes)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 23 || strings.Count(c, "-") != 3 || seen[c] {
				t.Fatalf("code %q", c)
			}
			seen[c] = true
		}
		_, ext := downloadCards(t, srv, "?externalCodes=G2A-1,G2A-2&distributionProvider=g2a", testsupport.AdminKey)
		if len(ext) != 2 || !strings.HasSuffix(ext[0], "\tG2A-1") {
			t.Fatalf("external codes: %v", ext)
		}
		// Codes are stored hashed: no table holds a code.
		if n := acctQueryString(t, srv, url, `SELECT count(*) FROM gift_cards WHERE code_hash = $1`, codes[0]); n != "0" {
			t.Fatal("a code is stored in clear")
		}

		redeem := func(session, code string) *testsupport.Envelope {
			return srv.Post(t, "/api/redeemGiftCard", session, map[string]any{"code": code})
		}
		testsupport.ExpectError(t, redeem("", codes[0]), 401, "")
		testsupport.ExpectError(t, redeem(uuid.NewString(), codes[0]), 401, "")
		testsupport.ExpectError(t, redeem(acct.SessionID, ""), 400, "code")
		testsupport.ExpectError(t, redeem(acct.SessionID, "short"), 400, "code")
		testsupport.ExpectError(t, redeem(acct.SessionID, "00000-00000-00000-00000"), 404, "code")

		env := redeem(acct.SessionID, strings.ToLower(codes[0]))
		testsupport.ExpectOK(t, env)
		var r struct {
			Tier           int    `json:"tier"`
			TierExpiration string `json:"tierExpiration"`
			ProductID      string `json:"productID"`
		}
		env.Decode(t, &r)
		tenDays := srv.Clock.Now().Add(10 * 24 * time.Hour)
		if r.Tier != 2 || r.TierExpiration != tenDays.UTC().Format("2006-01-02T15:04:05.000Z") || r.ProductID == "" {
			t.Fatalf("redeem: %s", env.Raw)
		}
		testsupport.ExpectError(t, redeem(acct.SessionID, codes[0]), 404, "already redeemed")
		me := selfTier(t, srv, acct.SessionID, "?extendedPriceInfo=true")
		if me.Tier != 2 || me.MerchantProcessor != "giftcard" || me.Subscriptions[0].Price == nil || me.Subscriptions[0].Price.Value != 5 {
			t.Fatalf("self after redeem: %+v", me)
		}
		// The same tier extends the expiring one: 20 days in all.
		env = redeem(acct.SessionID, codes[1])
		testsupport.ExpectOK(t, env)
		env.Decode(t, &r)
		if want := tenDays.Add(10 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"); r.TierExpiration != want {
			t.Fatalf("extended expiration %s, want %s", r.TierExpiration, want)
		}
		// A non-expiring equal or higher tier refuses a card.
		testsupport.ExpectOK(t, adminPostBilling(t, srv, "/api/setAdminProvidedPremiumTier",
			map[string]any{"productId": "staff", "email": "gift@example.com", "tier": 3, "isActive": true}))
		testsupport.ExpectError(t, redeem(acct.SessionID, codes[2]), 409, "cannot be redeemed")
		// ... and the refused card was not used up: another user may redeem it.
		other := testsupport.SignUp(t, srv, "gift2@example.com")
		testsupport.ExpectOK(t, redeem(other.SessionID, codes[2]))
		if me := selfTier(t, srv, other.SessionID, ""); me.Tier != 2 || len(me.Subscriptions) != 1 {
			t.Fatalf("other after redeem: %+v", me)
		}
		if me := selfTier(t, srv, acct.SessionID, ""); me.Tier != 3 || len(me.Subscriptions) != 3 {
			t.Fatalf("first user: %+v", me)
		}

		// Concurrent redemptions of one code by several users: exactly one wins.
		var sessions []string
		for i := range 6 {
			sessions = append(sessions, testsupport.SignUp(t, srv, "race"+string(rune('a'+i))+"@example.com").SessionID)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for _, s := range sessions {
			wg.Go(func() {
				env := redeem(s, codes[3])
				mu.Lock()
				defer mu.Unlock()
				if env.Status == 200 {
					won++
				} else if env.Status != 404 {
					t.Errorf("concurrent redeem: %d %s", env.Status, env.Raw)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d concurrent redemptions won, want 1", won)
		}
		if n := acctQueryString(t, srv, url, `SELECT count(*) FROM subscriptions WHERE provider = 'giftcard' AND user_id <> $1 AND user_id <> $2`, acct.UserID, other.UserID); n != "1" {
			t.Fatalf("subscriptions from the raced code: %s", n)
		}
	})
}

// Failed guesses are limited per account and per client address.
func TestRedeemGiftCardIsRateLimited(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	acct := testsupport.SignUp(t, srv, "guess@example.com")
	var last *testsupport.Envelope
	for range 6 {
		last = srv.Post(t, "/api/redeemGiftCard", acct.SessionID, map[string]any{"code": "00000-00000-00000-00000"})
	}
	testsupport.ExpectError(t, last, 429, "Too many")
}

// cancelMembership stops the caller's own renewing subscriptions: an
// internal one runs to its next billing date, an external one gets the
// instructions email; another user's subscriptions are untouched.
func TestCancelMembership(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		a := testsupport.SignUp(t, srv, "cancel-a@example.com")
		b := testsupport.SignUp(t, srv, "cancel-b@example.com")
		now := srv.Clock.Now()
		next := now.Add(10 * 24 * time.Hour)
		renewing := func(userID, provider string) {
			t.Helper()
			if _, err := srv.App.Store.ChangeSubscriptions(context.Background(), userID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
				return []aimg.Subscription{{ID: uuid.NewString(), UserID: userID, Domain: "localhost", Provider: provider, ProductID: "monthly",
					Tier: 1, Status: aimg.SubscriptionActive, NextBillingAt: &next, CreatedAt: now, UpdatedAt: now}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		renewing(a.UserID, aimg.ProviderWhitelist)
		renewing(b.UserID, aimg.ProviderWhitelist)
		env := acctDelete(t, srv, "/api/cancelMembership", a.SessionID, "")
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":true`) {
			t.Fatalf("cancel: %s", env.Payload)
		}
		me := selfTier(t, srv, a.SessionID, "")
		want := next.UTC().Format("2006-01-02T15:04:05.000Z")
		if me.Tier != 1 || me.Subscriptions[0].Status != "cancelled" || me.Subscriptions[0].TierExpiration == nil || *me.Subscriptions[0].TierExpiration != want {
			t.Fatalf("a after cancel: %+v", me)
		}
		if o := selfTier(t, srv, b.SessionID, ""); o.Subscriptions[0].Status != "active" || o.Subscriptions[0].TierExpiration != nil {
			t.Fatalf("b touched by a's cancel: %+v", o)
		}
		// The tier stays until the next billing date, then the sweeper ends it.
		srv.Clock.Advance(11 * 24 * time.Hour)
		if n, err := srv.App.Billing.Sweep(context.Background()); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v", n, err)
		}
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 0 {
			t.Fatalf("a after the period: %+v", me)
		}
		// An external provider: the instructions are emailed.
		renewing(b.UserID, "stripe")
		before := len(srv.Outbox(t))
		env = acctDelete(t, srv, "/api/cancelMembership", b.SessionID, "")
		testsupport.ExpectOK(t, env)
		msgs := srv.Outbox(t)
		if len(msgs) != before+1 || msgs[len(msgs)-1].To != "cancel-b@example.com" || !strings.Contains(msgs[len(msgs)-1].Text, "stripe") {
			t.Fatalf("instructions email: %d -> %d %+v", before, len(msgs), msgs[len(msgs)-1])
		}
	})
}
