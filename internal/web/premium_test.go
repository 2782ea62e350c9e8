package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/billing"
	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// premiumPlan creates a tier-2 plan with an arkpay link and a Stripe price.
func premiumPlan(t *testing.T, srv *testsupport.Server) string {
	t.Helper()
	env := srv.AdminPost(t, "/api/createBillingPlan", map[string]any{"name": "Pro", "tier": 2, "mainBenefits": []string{"Faster queue"},
		"prices": []map[string]any{{"type": "base", "period": "monthly", "currency": "USD", "currencyType": "fiat", "value": 9.99,
			"paymentProviders": []map[string]any{{"paymentProvider": "arkpay", "paymentUrl": "https://pay.example/card?plan={planID}"},
				{"paymentProvider": "stripe", "externalId": "price_pro_monthly"}}}}})
	testsupport.ExpectOK(t, env)
	var p struct{ ID string }
	env.Decode(t, &p)
	return p.ID
}

func giftCode(t *testing.T, srv *testsupport.Server, tier int) string {
	t.Helper()
	days, n := 30, 1
	cards, _, err := srv.App.Billing.CreateGiftCards(context.Background(), aimg.Caller{Admin: true, Domain: "localhost"},
		billing.GiftCardBatch{Tier: &tier, Days: &days, NumberOfCards: &n})
	if err != nil {
		t.Fatal(err)
	}
	return cards[0].Code
}

func TestPremiumPage(t *testing.T) {
	srv := newServer(t, func(c *config.Config) {
		c.Service.Payments.Arkpay = config.Arkpay{URL: "https://arkpay.example", APIKey: "ak", WebhookSecret: "ws"}
	})
	plan := premiumPlan(t, srv)
	if p := newVisitor(t, srv).get("/account/premium"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="plan-`+plan+`"`) ||
		strings.Contains(p.Body, `id="gift-form"`) || strings.Contains(p.Body, "Subscribe with Stripe") {
		t.Fatalf("a visitor's premium page: %d %s", p.Status, p.Body)
	}
	a := newVisitor(t, srv)
	a.signUpWithCode("a@example.com")
	p := a.get("/account/premium")
	if !strings.Contains(p.Body, "No premium tier.") || !strings.Contains(p.Body, "Faster queue") || !strings.Contains(p.Body, "9.99 USD monthly") ||
		!strings.Contains(p.Body, `href="https://pay.example/card?plan=`+plan+`"`) || strings.Contains(p.Body, "Subscribe with Stripe") {
		t.Fatalf("premium page: %s", p.Body)
	}

	// Gift cards: errors at the field, the code kept; then the tier.
	expectFieldError(t, a.post("/account/premium/gift-card", url.Values{"code": {"nonsense"}}), 400, "code", "is not a gift card code")
	p = a.post("/account/premium/gift-card", url.Values{"code": {"ABCDE-FGHJK-MNPQR-STVWX"}})
	expectFieldError(t, p, 404, "code", "not valid or was already redeemed")
	if !strings.Contains(p.Body, `value="ABCDE-FGHJK-MNPQR-STVWX"`) {
		t.Fatal("the code was not kept")
	}
	code := giftCode(t, srv, 2)
	p = a.post("/account/premium/gift-card", url.Values{"code": {code}})
	expectFlash(t, p, "Gift card redeemed: tier 2 until ")
	if !strings.Contains(p.Body, `id="tier">Tier 2 until `) || !strings.Contains(p.Body, "<td>giftcard</td>") {
		t.Fatalf("tier after the gift card: %s", p.Body)
	}
	expectFieldError(t, a.post("/account/premium/gift-card", url.Values{"code": {code}}), 404, "code", "already redeemed")
	if p := a.post("/account/premium/gift-card", url.Values{"code": {code}, "csrf": {"x"}}); p.Status != http.StatusForbidden {
		t.Fatalf("without the token: %d", p.Status)
	}

	// A gift card does not renew: cancelling says so.
	expectFlash(t, a.post("/account/premium/cancel", url.Values{}), "You have no renewing membership to cancel")

	// The card payment links by email (arkpay is configured).
	p = a.get("/account/premium")
	if !strings.Contains(p.Body, `id="card-email"`) {
		t.Fatalf("no card email button: %s", p.Body)
	}
	expectFlash(t, a.post("/account/premium/card-email", url.Values{}), "The card payment links were sent to a@example.com")
	sent := false
	for _, m := range srv.Outbox(t) {
		sent = sent || (strings.Contains(m.Text, "https://pay.example/card?plan="+plan) && strings.Contains(m.To, "a@example.com"))
	}
	if !sent {
		t.Fatalf("no payment links email: %+v", srv.Outbox(t))
	}

	// Another user sees none of it.
	b := newVisitor(t, srv)
	b.signUpWithCode("b@example.com")
	if p := b.get("/account/premium"); !strings.Contains(p.Body, "No premium tier.") || strings.Contains(p.Body, `id="subscriptions"`) {
		t.Fatalf("b's premium page: %s", p.Body)
	}
}

// Stripe Checkout against stripe-mock: the form answers 303 to Stripe's
// page; a bad plan is an error at the plans.
func TestPremiumStripeCheckout(t *testing.T) {
	stripeURL := testsupport.ServiceURL(t, "AIMG_TEST_STRIPE_URL", "scripts/stripe-mock-server.sh starts stripe-mock")
	srv := newServer(t, func(c *config.Config) {
		c.Service.Payments.Stripe = config.Stripe{SecretKey: "sk_test_123", WebhookSecret: "whsec_test", APIURL: stripeURL}
	})
	plan := premiumPlan(t, srv)
	v := newVisitor(t, srv)
	if p := v.post("/account/premium/checkout", url.Values{"planID": {plan}}); p.Status != http.StatusForbidden {
		t.Fatalf("checkout without a session's token: %d", p.Status)
	}
	v.get("/signin") // a page with a form: the token
	if p := v.post("/account/premium/checkout", url.Values{"planID": {plan}}); p.Status != http.StatusUnauthorized {
		t.Fatalf("a visitor's checkout: %d", p.Status)
	}
	v.signUpWithCode("s@example.com")
	p := v.get("/account/premium")
	if !strings.Contains(p.Body, `id="checkout-`+plan+`"`) {
		t.Fatalf("no Stripe button: %s", p.Body)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://checkout.stripe.com https://billing.stripe.com") {
		t.Fatalf("the CSP does not let the form go to Stripe: %s", csp)
	}
	form := url.Values{"planID": {plan}, "csrf": {v.csrf}}
	resp, err := v.noFollow().PostForm(srv.URL+"/account/premium/checkout", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://") {
		t.Fatalf("checkout: %d to %q", resp.StatusCode, loc)
	}
	expectFieldError(t, v.post("/account/premium/checkout", url.Values{"planID": {"nope"}}), 400, "planID", "no such Billing Plan")

	// Stripe says the subscription started (as its webhook would): the
	// tier shows, and cancelling goes to Stripe's customer portal.
	self := testsupport.Self(t, srv, v.session())
	if _, err := srv.App.Billing.ApplyProviderEvent(context.Background(), aimg.ProviderEvent{Provider: "stripe", EventID: "evt_1",
		Kind: aimg.ProviderActivated, UserID: self.UserID, SubscriptionID: "sub_A", CustomerID: "cus_A", PlanID: plan, Tier: 2,
		PeriodEnd: srv.Clock.Now().AddDate(0, 1, 0), Created: srv.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	p = v.get("/account/premium")
	if !strings.Contains(p.Body, `id="tier">Tier 2`) || !strings.Contains(p.Body, `id="cancel-membership"`) {
		t.Fatalf("after Stripe's event: %s", p.Body)
	}
	resp, err = v.noFollow().PostForm(srv.URL+"/account/premium/cancel", url.Values{"csrf": {v.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://") {
		t.Fatalf("cancel: %d to %q", resp.StatusCode, loc)
	}
}
