package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"aimg/internal/config"
	"aimg/internal/payments/arkpay"
	"aimg/internal/payments/arkpay/arkpayfake"
	"aimg/internal/testsupport"
)

const (
	arkpayKey    = "ak_test_key"
	arkpaySecret = "arkpay-webhook-secret"
	stripeSecret = "whsec_aimg_test"
	// The card of the tests; its number and code must appear nowhere.
	testCardNumber = "4242 4242 4242 4242"
	testCardCode   = "7391"
)

// paidPlan creates a tier-2 monthly plan payable with arkpay and Stripe
// and returns its id.
func paidPlan(t *testing.T, srv *testsupport.Server) string {
	t.Helper()
	env := adminPostBilling(t, srv, "/api/createBillingPlan", map[string]any{"name": "Pro", "tier": 2, "prices": []map[string]any{{
		"type": "base", "period": "monthly", "currency": "USD", "currencyType": "fiat", "value": 9.99,
		"paymentProviders": []map[string]any{{"paymentProvider": "arkpay", "paymentUrl": "https://pay.example/card?plan={planID}"},
			{"paymentProvider": "stripe", "externalId": "price_pro_monthly"}},
	}}})
	testsupport.ExpectOK(t, env)
	var p struct{ ID string }
	env.Decode(t, &p)
	return p.ID
}

func cardBody(planID string, edit ...func(map[string]any)) map[string]any {
	b := map[string]any{"merchantProcessor": "arkpay", "productID": planID, "cardNumber": testCardNumber,
		"cardHolderName": "Ada Lovelace", "expirationMonth": 12, "expirationYear": 2030, "securityCode": testCardCode,
		"country": "gb", "city": "London"}
	for _, e := range edit {
		e(b)
	}
	return b
}

func webhookPost(t *testing.T, srv *testsupport.Server, provider, header string, body []byte, sig string) *testsupport.Envelope {
	t.Helper()
	return srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/payments/" + provider + "/webhook", Body: body,
		Header: map[string]string{header: sig}})
}

type webhookAnswer struct{ Received, Applied bool }

func expectWebhook(t *testing.T, env *testsupport.Envelope, applied bool) {
	t.Helper()
	testsupport.ExpectOK(t, env)
	var w webhookAnswer
	env.Decode(t, &w)
	if !w.Received || w.Applied != applied {
		t.Fatalf("webhook answer %s, want applied=%v", env.Payload, applied)
	}
}

func isoMS(tm time.Time) string { return tm.UTC().Format("2006-01-02T15:04:05.000Z") }

func TestCardSubscriptionThroughArkpay(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		fake := arkpayfake.New(arkpayKey)
		t.Cleanup(fake.Close)
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.Payments.Arkpay = config.Arkpay{URL: fake.URL, APIKey: arkpayKey, WebhookSecret: arkpaySecret}
			c.Service.Accounts.SessionTTL = 365 * 24 * time.Hour // the test lives through billing periods
		})
		fake.Now = srv.Clock.Now
		plan := paidPlan(t, srv)
		a := testsupport.SignUp(t, srv, "card-a@example.com")
		b := testsupport.SignUp(t, srv, "card-b@example.com")

		// Bad input: 400s naming the field, before the processor is asked.
		for field, edit := range map[string]func(map[string]any){
			"merchantProcessor": func(m map[string]any) { m["merchantProcessor"] = "paypal" },
			"productID":         func(m map[string]any) { m["productID"] = "no-such-plan" },
			"cardNumber":        func(m map[string]any) { m["cardNumber"] = "4242 4242 4242 4241" },
			"expirationYear":    func(m map[string]any) { m["expirationYear"] = 2020 },
			"securityCode":      func(m map[string]any) { m["securityCode"] = "1x3" },
			"country":           func(m map[string]any) { m["country"] = "GBR" },
			"stateOrProvince":   func(m map[string]any) { m["stateOrProvince"] = "Kent" },
			"billingEmail":      func(m map[string]any) { m["billingEmail"] = "not an email" },
		} {
			testsupport.ExpectError(t, srv.Post(t, "/api/processCardSubscription", b.SessionID, cardBody(plan, edit)), 400, field)
		}
		guest := testsupport.Self(t, srv, "").SessionID
		testsupport.ExpectError(t, srv.Post(t, "/api/processCardSubscription", guest, cardBody(plan)), 401, "not signed in")
		if fake.Charges != 0 {
			t.Fatalf("%d charges after refused requests", fake.Charges)
		}

		// A good card: the tier starts at once, until the next billing date.
		env := srv.Post(t, "/api/processCardSubscription", a.SessionID, cardBody(plan))
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":true`) {
			t.Fatalf("payment: %s", env.Payload)
		}
		next := srv.Clock.Now().AddDate(0, 1, 0).Truncate(time.Second)
		me := selfTier(t, srv, a.SessionID, "")
		if me.Tier != 2 || me.MerchantProcessor != "arkpay" || me.TierExpiration == nil || *me.TierExpiration != isoMS(next) {
			t.Fatalf("after paying: %+v", me)
		}
		// Paying again for the same plan is refused; the card is charged once.
		testsupport.ExpectError(t, srv.Post(t, "/api/processCardSubscription", a.SessionID, cardBody(plan)), 409, "productID")
		// A declined card: success false with the reason, no tier.
		env = srv.Post(t, "/api/processCardSubscription", b.SessionID, cardBody(plan, func(m map[string]any) { m["cardNumber"] = arkpayfake.DeclinedCard }))
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":false`) || !strings.Contains(string(env.Payload), "card_declined") {
			t.Fatalf("declined: %s", env.Payload)
		}
		if fake.Charges != 1 || selfTier(t, srv, b.SessionID, "").Tier != 0 {
			t.Fatalf("charges %d, b %+v", fake.Charges, selfTier(t, srv, b.SessionID, ""))
		}

		// The processor renews: the tier is extended; a replay changes nothing.
		srv.Clock.Advance(30 * 24 * time.Hour)
		renewed := fake.Renew("ark_sub_1")
		body, sig := fake.Webhook("evt_renew_1", "subscription.renewed", "ark_sub_1", arkpaySecret, srv.Clock.Now())
		expectWebhook(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", body, sig), true)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 2 || *me.TierExpiration != isoMS(renewed) {
			t.Fatalf("after renewal to %s: %+v", renewed, me)
		}
		expectWebhook(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", body, sig), false)
		// Tampered, unsigned or foreign deliveries are refused.
		testsupport.ExpectError(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", []byte(strings.Replace(string(body), "evt_renew_1", "evt_x", 1)), sig), 400, "Arkpay-Signature")
		testsupport.ExpectError(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", body, ""), 400, "Arkpay-Signature")
		// An older event delivered late (a cancellation made before the
		// renewal) does not undo the renewal.
		late, lateSig := fake.Webhook("evt_old_cancel", "subscription.cancelled", "ark_sub_1", arkpaySecret, srv.Clock.Now().Add(-time.Minute))
		expectWebhook(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", late, lateSig), false)
		if me := selfTier(t, srv, a.SessionID, ""); me.Subscriptions[0].Status != "active" {
			t.Fatalf("a late old event changed the subscription: %+v", me)
		}

		// b's cancelMembership does not touch a's subscription; a's own asks
		// the processor and keeps the tier until the paid period ends.
		env = acctDelete(t, srv, "/api/cancelMembership", b.SessionID, "")
		testsupport.ExpectOK(t, env)
		if fake.Status("ark_sub_1") != "approved" {
			t.Fatal("b's cancel cancelled a's subscription at the processor")
		}
		env = acctDelete(t, srv, "/api/cancelMembership", a.SessionID, "")
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"success":true`) || fake.Status("ark_sub_1") != "cancelled" {
			t.Fatalf("cancel: %s, processor says %s", env.Payload, fake.Status("ark_sub_1"))
		}
		me = selfTier(t, srv, a.SessionID, "")
		if me.Tier != 2 || me.Subscriptions[0].Status != "cancelled" || *me.TierExpiration != isoMS(renewed) {
			t.Fatalf("after cancel: %+v", me)
		}
		// The processor's cancellation webhook agrees; the tier ends with the period.
		body, sig = fake.Webhook("evt_cancel_1", "subscription.cancelled", "ark_sub_1", arkpaySecret, srv.Clock.Now())
		expectWebhook(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", body, sig), true)
		srv.Clock.Advance(31 * 24 * time.Hour)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 0 {
			t.Fatalf("after the period: %+v", me)
		}

		// The card number and security code are nowhere: not in the logs,
		// not in any row of any table (the logs do show the redacted card).
		code := regexp.MustCompile(`\b` + testCardCode + `\b`)
		for name, text := range map[string]string{"logs": srv.LogText(), "database": srv.DumpDatabase(t)} {
			if strings.Contains(text, "4242424242424242") || strings.Contains(text, testCardNumber) || code.MatchString(text) {
				t.Errorf("card data in the %s", name)
			}
		}
		if !strings.Contains(srv.LogText(), "card ****4242") {
			t.Error("the payment was not logged (with the redacted card)")
		}
	})
}

// stripeEvent is a Stripe webhook delivery: an event created at created
// (Stripe's order), signed now (the signature's freshness).
func stripeEvent(t *testing.T, id, typ string, created time.Time, object map[string]any) ([]byte, string) {
	t.Helper()
	raw, _ := json.Marshal(object)
	payload, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(),
		"api_version": stripe.APIVersion, "data": map[string]any{"object": json.RawMessage(raw)}})
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: stripeSecret, Timestamp: time.Now()})
	return sp.Payload, sp.Header
}

func TestStripeSubscriptionLifecycle(t *testing.T) {
	stripeURL := testsupport.ServiceURL(t, "AIMG_TEST_STRIPE_URL", "scripts/stripe-mock-server.sh starts stripe-mock")
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.Service.Payments.Stripe = config.Stripe{SecretKey: "sk_test_123", WebhookSecret: stripeSecret, APIURL: stripeURL}
		})
		plan := paidPlan(t, srv)
		a := testsupport.SignUp(t, srv, "stripe-a@example.com")
		b := testsupport.SignUp(t, srv, "stripe-b@example.com")

		// Checkout goes through Stripe's API (stripe-mock validates the request).
		checkout := map[string]any{"planID": plan, "successURL": "https://site.example/ok", "cancelURL": "https://site.example/no"}
		env := srv.Post(t, "/api/createStripeCheckout", a.SessionID, checkout)
		testsupport.ExpectOK(t, env)
		var c struct{ URL string }
		env.Decode(t, &c)
		if !strings.HasPrefix(c.URL, "https://") {
			t.Fatalf("checkout: %s", env.Payload)
		}
		bad := map[string]any{"planID": plan, "successURL": "javascript:alert(1)", "cancelURL": "https://site.example/no"}
		testsupport.ExpectError(t, srv.Post(t, "/api/createStripeCheckout", a.SessionID, bad), 400, "successURL")
		testsupport.ExpectError(t, srv.Post(t, "/api/createStripeCheckout", a.SessionID, map[string]any{"planID": "nope",
			"successURL": "https://site.example/ok", "cancelURL": "https://site.example/no"}), 400, "planID")

		// Stripe says the Checkout completed: the tier starts (a month until
		// the subscription's own event gives the period end).
		t0 := time.Now().Add(-time.Hour)
		meta := map[string]string{"aimg_user_id": a.UserID, "aimg_plan_id": plan, "aimg_tier": "2"}
		body, sig := stripeEvent(t, "evt_1", "checkout.session.completed", t0, map[string]any{"id": "cs_1", "object": "checkout.session",
			"mode": "subscription", "client_reference_id": a.UserID, "subscription": "sub_A", "customer": "cus_A", "metadata": meta})
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, sig), true)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 2 || me.MerchantProcessor != "stripe" || me.Subscriptions[0].ProductID != plan {
			t.Fatalf("after checkout: %+v", me)
		}
		subscription := func(periodEnd time.Time, extra map[string]any) map[string]any {
			m := map[string]any{"id": "sub_A", "object": "subscription", "status": "active", "customer": "cus_A", "metadata": meta,
				"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_1", "object": "subscription_item",
					"current_period_end": periodEnd.Unix()}}}}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		end := srv.Clock.Now().AddDate(0, 1, 3).Truncate(time.Second)
		body, sig = stripeEvent(t, "evt_2", "customer.subscription.updated", t0.Add(time.Minute), subscription(end, nil))
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, sig), true)
		if me := selfTier(t, srv, a.SessionID, ""); *me.TierExpiration != isoMS(end) {
			t.Fatalf("after the subscription event: %+v, want expiry %s", me, end)
		}
		// A replay, and an older event delivered late, change nothing.
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, sig), false)
		old, oldSig := stripeEvent(t, "evt_0", "customer.subscription.deleted", t0.Add(-time.Minute), subscription(end, map[string]any{"status": "canceled"}))
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", old, oldSig), false)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 2 {
			t.Fatalf("an old event ended the tier: %+v", me)
		}
		// Signed with another secret, or not signed: refused.
		forged := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_someone_else", Timestamp: time.Now()})
		testsupport.ExpectError(t, webhookPost(t, srv, "stripe", "Stripe-Signature", forged.Payload, forged.Header), 400, "Stripe-Signature")
		testsupport.ExpectError(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, ""), 400, "Stripe-Signature")
		// An event for a user AIMG does not know is acknowledged and ignored.
		stranger, strangerSig := stripeEvent(t, "evt_9", "customer.subscription.updated", t0, map[string]any{"id": "sub_X",
			"object": "subscription", "status": "active", "customer": "cus_X", "metadata": map[string]string{"aimg_user_id": "no-such-user"}})
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", stranger, strangerSig), false)

		// cancelMembership sends a Stripe subscriber to the customer portal.
		env = acctDelete(t, srv, "/api/cancelMembership?returnURL=https://site.example/account", a.SessionID, "")
		testsupport.ExpectOK(t, env)
		var cancel struct {
			Success   bool
			PortalURL string
		}
		env.Decode(t, &cancel)
		if !cancel.Success || !strings.HasPrefix(cancel.PortalURL, "https://") {
			t.Fatalf("cancel: %s", env.Payload)
		}
		// Cancelled there: it stops renewing and runs to the period end.
		body, sig = stripeEvent(t, "evt_3", "customer.subscription.updated", t0.Add(2*time.Minute), subscription(end, map[string]any{"cancel_at_period_end": true}))
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, sig), true)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 2 || me.Subscriptions[0].Status != "cancelled" || *me.TierExpiration != isoMS(end) {
			t.Fatalf("after cancelling in the portal: %+v", me)
		}
		// Deleted: the tier ends now.
		body, sig = stripeEvent(t, "evt_4", "customer.subscription.deleted", t0.Add(3*time.Minute), subscription(end, map[string]any{"status": "canceled",
			"ended_at": srv.Clock.Now().Add(-time.Second).Unix()}))
		expectWebhook(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, sig), true)
		if me := selfTier(t, srv, a.SessionID, ""); me.Tier != 0 {
			t.Fatalf("after deletion: %+v", me)
		}
		// b was never touched.
		if o := selfTier(t, srv, b.SessionID, ""); o.Tier != 0 || len(o.Subscriptions) != 0 {
			t.Fatalf("b: %+v", o)
		}
	})
}

// A provider that is not configured has no webhook and no checkout.
func TestPaymentProvidersOffByDefault(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	plan := paidPlan(t, srv)
	a := testsupport.SignUp(t, srv, "off@example.com")
	body, sig := []byte(`{"id":"evt_1"}`), arkpay.Signature(arkpaySecret, []byte(`{"id":"evt_1"}`), srv.Clock.Now())
	testsupport.ExpectError(t, webhookPost(t, srv, "arkpay", "Arkpay-Signature", body, sig), 404, "not configured")
	testsupport.ExpectError(t, webhookPost(t, srv, "stripe", "Stripe-Signature", body, "t=1,v1=00"), 404, "not configured")
	testsupport.ExpectError(t, srv.Post(t, "/api/processCardSubscription", a.SessionID, cardBody(plan)), 400, "merchantProcessor")
	testsupport.ExpectError(t, srv.Post(t, "/api/createStripeCheckout", a.SessionID, map[string]any{"planID": plan,
		"successURL": "https://site.example/ok", "cancelURL": "https://site.example/no"}), 404, "Stripe is not configured")
}
