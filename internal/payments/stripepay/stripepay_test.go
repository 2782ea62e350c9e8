package stripepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"aimg/internal/aimg"
	"aimg/internal/payments/stripepay"
	"aimg/internal/testsupport"
)

const whsec = "whsec_test_secret"

func provider(t *testing.T) *stripepay.Provider {
	url := testsupport.ServiceURL(t, "AIMG_TEST_STRIPE_URL", "scripts/stripe-mock-server.sh starts stripe-mock")
	return stripepay.New(stripepay.Config{SecretKey: "sk_test_123", WebhookSecret: whsec, APIURL: url}, nil)
}

// Checkout and the customer portal go through Stripe's API (stripe-mock
// checks each request against Stripe's OpenAPI spec: a parameter Stripe
// does not know, or a missing required one, is a 400 there).
func TestCheckoutAndPortalAgainstStripeMock(t *testing.T) {
	p := provider(t)
	ctx := context.Background()
	url, err := p.CheckoutURL(ctx, aimg.CheckoutRequest{UserID: "u-1", Email: "ada@example.com", PlanID: "plan-1", Tier: 2,
		PriceID: "price_123", SuccessURL: "https://aimg.example/ok", CancelURL: "https://aimg.example/cancel"})
	if err != nil || !strings.HasPrefix(url, "https://") {
		t.Fatalf("checkout: %q %v", url, err)
	}
	portal, err := p.PortalURL(ctx, "cus_123", "https://aimg.example/account")
	if err != nil || !strings.HasPrefix(portal, "https://") {
		t.Fatalf("portal: %q %v", portal, err)
	}
	// A Price stripe-mock cannot parse is an error, not a URL.
	bad := stripepay.New(stripepay.Config{SecretKey: "sk_test_123", APIURL: "http://127.0.0.1:1"}, nil)
	if _, err := bad.CheckoutURL(ctx, aimg.CheckoutRequest{UserID: "u", PriceID: "p", SuccessURL: "x", CancelURL: "y"}); err == nil {
		t.Fatal("checkout against a server that is not there succeeded")
	}
}

// signed is a webhook delivery of an event of type typ with object as its
// data, signed as Stripe signs (t=…,v1=HMAC-SHA256) at the given time.
func signed(t *testing.T, id, typ string, object any, at time.Time, secret string) ([]byte, string) {
	t.Helper()
	raw, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": at.Unix(),
		"api_version": stripe.APIVersion, "data": map[string]any{"object": json.RawMessage(raw)}})
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return sp.Payload, sp.Header
}

func TestWebhookEvents(t *testing.T) {
	p := stripepay.New(stripepay.Config{WebhookSecret: whsec}, nil)
	now := time.Now()
	meta := map[string]string{"aimg_user_id": "u-1", "aimg_plan_id": "plan-1", "aimg_tier": "2"}
	end := now.Add(30 * 24 * time.Hour).Truncate(time.Second).UTC()
	sub := func(status string) map[string]any {
		return map[string]any{"id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1", "metadata": meta,
			"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_1", "object": "subscription_item",
				"current_period_end": end.Unix()}}}}
	}
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	for _, tc := range []struct {
		name, typ string
		object    any
		want      aimg.ProviderEvent
		ok        bool
	}{
		{"checkout completed", "checkout.session.completed", map[string]any{"id": "cs_1", "object": "checkout.session",
			"mode": "subscription", "client_reference_id": "u-1", "subscription": "sub_1", "customer": "cus_1", "metadata": meta},
			aimg.ProviderEvent{Kind: aimg.ProviderActivated, UserID: "u-1", SubscriptionID: "sub_1", CustomerID: "cus_1", PlanID: "plan-1", Tier: 2}, true},
		{"one-off payment", "checkout.session.completed", map[string]any{"id": "cs_2", "object": "checkout.session", "mode": "payment"},
			aimg.ProviderEvent{}, false},
		{"renewed", "customer.subscription.updated", sub("active"),
			aimg.ProviderEvent{Kind: aimg.ProviderRenewed, UserID: "u-1", SubscriptionID: "sub_1", CustomerID: "cus_1", PlanID: "plan-1", Tier: 2, PeriodEnd: end}, true},
		{"past due: nothing yet", "customer.subscription.updated", sub("past_due"), aimg.ProviderEvent{}, false},
		// Deleted: it ends when Stripe ended it (or now), not at the period end.
		{"deleted", "customer.subscription.deleted", sub("canceled"),
			aimg.ProviderEvent{Kind: aimg.ProviderCancelled, UserID: "u-1", SubscriptionID: "sub_1", CustomerID: "cus_1", PlanID: "plan-1", Tier: 2,
				PeriodEnd: now.Truncate(time.Second).UTC()}, true},
		{"deleted with ended_at", "customer.subscription.deleted", with(sub("canceled"), "ended_at", end.Add(-time.Hour).Unix()),
			aimg.ProviderEvent{Kind: aimg.ProviderCancelled, UserID: "u-1", SubscriptionID: "sub_1", CustomerID: "cus_1", PlanID: "plan-1", Tier: 2,
				PeriodEnd: end.Add(-time.Hour)}, true},
		// Cancelled in the portal: still active, runs to the period end.
		{"cancel at period end", "customer.subscription.updated", with(sub("active"), "cancel_at_period_end", true),
			aimg.ProviderEvent{Kind: aimg.ProviderCancelled, UserID: "u-1", SubscriptionID: "sub_1", CustomerID: "cus_1", PlanID: "plan-1", Tier: 2, PeriodEnd: end}, true},
		{"other type", "invoice.created", map[string]any{"id": "in_1", "object": "invoice"}, aimg.ProviderEvent{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, sig := signed(t, "evt_"+tc.name, tc.typ, tc.object, now, whsec)
			ev, ok, err := p.Event(body, sig)
			if err != nil || ok != tc.ok {
				t.Fatalf("event: ok %v err %v", ok, err)
			}
			if !ok {
				return
			}
			if ev.EventID != "evt_"+tc.name || ev.Provider != "stripe" || ev.Created.Unix() != now.Unix() {
				t.Fatalf("event ids: %+v", ev)
			}
			ev.EventID, ev.Provider, ev.Created = "", "", time.Time{}
			if ev != tc.want {
				t.Fatalf("event\n got %+v\nwant %+v", ev, tc.want)
			}
		})
	}
}

// Stripe's signature scheme: a wrong secret, a changed body, a missing
// header and a replay older than the tolerance are all refused.
func TestWebhookSignature(t *testing.T) {
	p := stripepay.New(stripepay.Config{WebhookSecret: whsec, Tolerance: 5 * time.Minute}, nil)
	obj := map[string]any{"id": "in_1", "object": "invoice"}
	now := time.Now()
	body, sig := signed(t, "evt_1", "invoice.created", obj, now, whsec)
	if _, _, err := p.Event(body, sig); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	otherBody, otherSig := signed(t, "evt_1", "invoice.created", obj, now, "whsec_someone_else")
	old, oldSig := signed(t, "evt_1", "invoice.created", obj, now.Add(-10*time.Minute), whsec)
	for name, d := range map[string]struct {
		body []byte
		sig  string
	}{
		"wrong secret":   {otherBody, otherSig},
		"changed body":   {append(append([]byte{}, body[:len(body)-1]...), []byte(` `+"}")...), sig},
		"no header":      {body, ""},
		"garbage header": {body, "t=abc,v1=zz"},
		"replayed late":  {old, oldSig},
	} {
		if _, _, err := p.Event(d.body, d.sig); !errors.Is(err, stripepay.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}
