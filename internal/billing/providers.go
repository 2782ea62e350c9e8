package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// The external payment providers (docs/payments.md). Their adapters live
// in internal/payments; the service sees them through these interfaces.

// Checkouts is a provider with a hosted payment page and a customer portal
// (Stripe).
type Checkouts interface {
	CheckoutURL(ctx context.Context, c aimg.CheckoutRequest) (string, error)
	PortalURL(ctx context.Context, customerID, returnURL string) (string, error)
}

// CardProcessor takes card subscriptions (arkpay).
type CardProcessor interface {
	Subscribe(ctx context.Context, s aimg.CardSubscribe) (aimg.CardSubscription, error)
	Cancel(ctx context.Context, subscriptionID string) (time.Time, error)
}

// Providers are the configured external providers; a nil one is off.
type Providers struct {
	Stripe Checkouts
	Arkpay CardProcessor
}

// Provider names of the external providers AIMG integrates.
const (
	ProviderStripe = "stripe"
	ProviderArkpay = "arkpay"
)

// planPrice is the first price of plan payable with provider, and that
// provider's entry.
func planPrice(p *aimg.BillingPlan, provider string) (aimg.PlanPrice, aimg.PaymentProvider, bool) {
	for _, pr := range p.Prices {
		for _, pp := range pr.PaymentProviders {
			if pp.PaymentProvider == provider {
				pr.PaymentProviders = nil
				return pr, pp, true
			}
		}
	}
	return aimg.PlanPrice{}, aimg.PaymentProvider{}, false
}

// periodEnd is when a period of price started at from ends; ok is false for
// prices that do not renew.
func periodEnd(price aimg.PlanPrice, from time.Time) (time.Time, bool) {
	switch price.Period {
	case "daily":
		return from.AddDate(0, 0, 1), true
	case "monthly":
		return from.AddDate(0, 1, 0), true
	case "yearly":
		return from.AddDate(1, 0, 0), true
	}
	return time.Time{}, false
}

// ApplyProviderEvent applies a verified webhook event: once per event id
// (a replay changes nothing), and never over a newer event of the same
// subscription (an older event delivered late changes nothing). applied
// tells whether it changed the subscriptions. An event that names no user
// we know, or a plan we cannot price, is acknowledged and logged: a retry
// would not make it applicable.
func (s *Service) ApplyProviderEvent(ctx context.Context, ev aimg.ProviderEvent) (bool, error) {
	if ev.EventID == "" || ev.SubscriptionID == "" {
		return false, aimg.Invalid("id", "the event has no id or names no subscription")
	}
	userID := ev.UserID
	if userID == "" {
		var err error
		if userID, err = s.store.SubscriptionUser(ctx, ev.Provider, ev.SubscriptionID); err != nil {
			return false, err
		}
	}
	if userID == "" {
		s.log.Warn("payment event for an unknown subscription ignored", "provider", ev.Provider, "event", ev.EventID, "subscription", ev.SubscriptionID)
		return false, nil
	}
	user, err := s.store.UserByID(ctx, userID)
	if aimg.ErrorCode(err) == aimg.CodeNotFound {
		s.log.Warn("payment event for an unknown user ignored", "provider", ev.Provider, "event", ev.EventID, "user", userID)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var plan *aimg.BillingPlan
	if ev.PlanID != "" {
		if plan, err = s.store.Plan(ctx, user.Domain, ev.PlanID); err != nil && aimg.ErrorCode(err) != aimg.CodeNotFound {
			return false, err
		}
	}
	now := s.now()
	applied, _, err := s.store.ApplyProviderEvent(ctx, ev, userID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
		var sub *aimg.Subscription
		for i := range subs {
			if subs[i].Provider == ev.Provider && subs[i].TransactionID == ev.SubscriptionID {
				sub = &subs[i]
			}
		}
		if ev.Kind == aimg.ProviderCancelled {
			if sub == nil {
				return nil, nil // never started here: nothing to end
			}
			end := ev.PeriodEnd
			if end.IsZero() {
				end = now
			}
			sub.Status, sub.ExpiresAt, sub.NextBillingAt, sub.UpdatedAt = aimg.SubscriptionCancelled, &end, nil, now
			if !end.After(now) {
				sub.Status = aimg.SubscriptionExpired
			}
			return []aimg.Subscription{*sub}, nil
		}
		if sub == nil {
			sub = &aimg.Subscription{ID: uuid.NewString(), UserID: userID, Domain: user.Domain, Provider: ev.Provider,
				TransactionID: ev.SubscriptionID, CreatedAt: now}
		}
		if ev.CustomerID != "" {
			sub.PayerID = ev.CustomerID
		}
		if plan != nil {
			sub.ProductID = plan.ID
			if price, _, ok := planPrice(plan, ev.Provider); ok {
				sub.Price = &price
			}
		}
		switch {
		case ev.Tier > 0:
			sub.Tier = ev.Tier
		case plan != nil:
			sub.Tier = plan.Tier
		}
		if sub.Tier <= 0 {
			s.log.Warn("payment event without a tier ignored", "provider", ev.Provider, "event", ev.EventID, "plan", ev.PlanID)
			return nil, nil
		}
		end := ev.PeriodEnd
		if end.IsZero() && sub.ExpiresAt != nil && sub.ExpiresAt.After(now) {
			end = *sub.ExpiresAt // activated without a period: keep what a renewal said
		}
		if end.IsZero() {
			// Stripe's checkout.session.completed has no period end; the
			// subscription's own event that follows sets the real one.
			end, _ = periodEnd(priceOr(sub.Price), now)
		}
		sub.Status, sub.ExpiresAt, sub.NextBillingAt, sub.UpdatedAt = aimg.SubscriptionActive, &end, &end, now
		return []aimg.Subscription{*sub}, nil
	})
	if err == nil && applied {
		s.log.Info("payment event applied", "provider", ev.Provider, "event", ev.EventID, "kind", ev.Kind, "user", userID)
	}
	return applied, err
}

// priceOr is p, or a monthly price when the plan is not known.
func priceOr(p *aimg.PlanPrice) aimg.PlanPrice {
	if p == nil {
		return aimg.PlanPrice{Period: "monthly"}
	}
	if _, ok := periodEnd(*p, time.Time{}); !ok {
		return aimg.PlanPrice{Period: "monthly"}
	}
	return *p
}

// CardPayment is processCardSubscription's body.
type CardPayment struct {
	MerchantProcessor string
	ProductID         string // the Billing Plan id
	Card              aimg.Card
	Billing           aimg.BillingAddress
}

// Budgets of the billing address (docs/security.md).
const maxAddressBytes = 200

func checkAddress(b *aimg.BillingAddress) error {
	for field, v := range map[string]string{"street": b.Street, "city": b.City, "postalCode": b.PostalCode} {
		if len(v) > maxAddressBytes || strings.ContainsAny(v, "\x00\r\n") {
			return aimg.Invalid(field, "must be at most %d bytes on one line", maxAddressBytes)
		}
	}
	twoLetters := func(v string) bool {
		return len(v) == 2 && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
	}
	b.StateOrProvince, b.Country = strings.ToUpper(b.StateOrProvince), strings.ToUpper(b.Country)
	if b.StateOrProvince != "" && !twoLetters(b.StateOrProvince) {
		return aimg.Invalid("stateOrProvince", "must be a 2-letter code")
	}
	if b.Country != "" && !twoLetters(b.Country) {
		return aimg.Invalid("country", "must be an ISO 3166-1 alpha-2 code")
	}
	if b.Phone != "" && (len(b.Phone) > 32 || strings.Trim(b.Phone, "0123456789+-() ") != "") {
		return aimg.Invalid("phoneNumber", "must be at most 32 digits, spaces and + - ( )")
	}
	b.Email = strings.ToLower(strings.TrimSpace(b.Email))
	if b.Email != "" && (len(b.Email) > 320 || !strings.Contains(b.Email, "@") || strings.ContainsAny(b.Email, " \r\n<>,")) {
		return aimg.Invalid("billingEmail", "is not an email address")
	}
	return nil
}

// ProcessCardSubscription starts the caller's subscription to a plan with
// a card, through the card processor. A declined card is success false
// with the reason; the card is never stored or logged (aimg.Card redacts).
func (s *Service) ProcessCardSubscription(ctx context.Context, c aimg.Caller, in CardPayment) (bool, string, error) {
	if !c.SignedIn() {
		return false, "", aimg.ErrUnauthenticated
	}
	if err := oneOf("merchantProcessor", in.MerchantProcessor, []string{ProviderArkpay}); err != nil {
		return false, "", err
	}
	if s.providers.Arkpay == nil {
		return false, "", aimg.Invalid("merchantProcessor", "arkpay is not configured on this server")
	}
	if in.ProductID == "" || len(in.ProductID) > maxNameBytes {
		return false, "", aimg.Invalid("productID", "is required: the id of a Billing Plan")
	}
	plan, err := s.store.Plan(ctx, c.Domain, in.ProductID)
	if aimg.ErrorCode(err) == aimg.CodeNotFound || (err == nil && !plan.Active) {
		return false, "", aimg.Invalid("productID", "no such Billing Plan")
	}
	if err != nil {
		return false, "", err
	}
	price, _, ok := planPrice(plan, ProviderArkpay)
	if !ok {
		return false, "", aimg.Invalid("productID", "this Billing Plan cannot be paid by card (no arkpay price)")
	}
	period, renews := map[string]string{"daily": "day", "monthly": "month", "yearly": "year"}[price.Period]
	if !renews || price.Value <= 0 || price.CurrencyType != "fiat" {
		return false, "", aimg.Invalid("productID", "this Billing Plan's card price is not a renewing fiat price")
	}
	now := s.now()
	if err := in.Card.Check(now); err != nil {
		return false, "", err
	}
	if err := checkAddress(&in.Billing); err != nil {
		return false, "", err
	}
	if c.User.Email != "" {
		in.Billing.Email = c.User.Email
	}
	subs, err := s.store.UserSubscriptions(ctx, c.User.ID)
	if err != nil {
		return false, "", err
	}
	for _, sub := range subs {
		if sub.Provider == ProviderArkpay && sub.ProductID == plan.ID && sub.Live(now) && sub.NextBillingAt != nil {
			return false, "", &aimg.Error{Code: aimg.CodeConflict, Field: "productID", Message: "productID: you already have this membership"}
		}
	}
	answer, err := s.providers.Arkpay.Subscribe(ctx, aimg.CardSubscribe{
		IdempotencyKey: cardAttemptKey(c.User.ID, plan.ID, in.Card, now),
		UserID:         c.User.ID, ProductID: plan.ID, AmountCents: minorUnits(price), Currency: price.Currency, Period: period,
		Card: in.Card, Billing: in.Billing,
	})
	if err != nil {
		s.log.Warn("card subscription failed", "user", c.User.ID, "plan", plan.ID, "card", in.Card, "err", err)
		return false, "", err
	}
	if !answer.Approved {
		s.log.Info("card declined", "user", c.User.ID, "plan", plan.ID, "card", in.Card, "reason", answer.DeclineReason)
		return false, "The card was declined (" + answer.DeclineReason + ")", nil
	}
	end := answer.NextBillingAt
	if !end.After(now) {
		end, _ = periodEnd(price, now)
	}
	_, err = s.store.ChangeSubscriptions(ctx, c.User.ID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
		sub := aimg.Subscription{ID: uuid.NewString(), UserID: c.User.ID, Domain: c.Domain, Provider: ProviderArkpay, CreatedAt: now}
		for _, old := range subs {
			if old.Provider == ProviderArkpay && old.TransactionID == answer.ID {
				sub = old // the processor answered a repeated attempt with the same subscription
			}
		}
		sub.ProductID, sub.Tier, sub.Status, sub.PayerID, sub.TransactionID = plan.ID, plan.Tier, aimg.SubscriptionActive, answer.CustomerID, answer.ID
		sub.ExpiresAt, sub.NextBillingAt, sub.Price, sub.UpdatedAt = &end, &end, &price, now
		return []aimg.Subscription{sub}, nil
	})
	if err != nil {
		return false, "", err
	}
	s.log.Info("card subscription started", "user", c.User.ID, "plan", plan.ID, "card", in.Card, "subscription", answer.ID)
	return true, fmt.Sprintf("Welcome to %s: your membership is active until %s", plan.Name, end.UTC().Format(time.DateOnly)), nil
}

// cardAttemptKey is the processor's Idempotency-Key: the same user, plan
// and card within ten minutes (a double submit, a retried request) is one
// attempt and is charged once. It holds no card data the processor lacks.
func cardAttemptKey(userID, planID string, card aimg.Card, now time.Time) string {
	d := card.Digits()
	last4 := d[max(0, len(d)-4):]
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%02d/%d|%d", userID, planID, last4, card.ExpMonth, card.ExpYear, now.Unix()/600))
	return hex.EncodeToString(sum[:16])
}

// minorUnits is the price in its currency's minor unit (cents; yen have none).
func minorUnits(p aimg.PlanPrice) int64 {
	if p.Currency == "JPY" {
		return int64(p.Value + 0.5)
	}
	return int64(p.Value*100 + 0.5)
}

// StripeCheckout starts a Stripe Checkout for the caller and a plan with a
// Stripe price; the URL is where to send the user. The tier starts with
// Stripe's webhook.
func (s *Service) StripeCheckout(ctx context.Context, c aimg.Caller, planID, successURL, cancelURL string) (string, error) {
	if !c.SignedIn() {
		return "", aimg.ErrUnauthenticated
	}
	if s.providers.Stripe == nil {
		return "", aimg.Errorf(aimg.CodeNotFound, "Stripe is not configured on this server")
	}
	if planID == "" || len(planID) > maxNameBytes {
		return "", aimg.Invalid("planID", "is required: the id of a Billing Plan")
	}
	for field, u := range map[string]string{"successURL": successURL, "cancelURL": cancelURL} {
		if err := checkURL(field, u); err != nil {
			return "", err
		}
	}
	plan, err := s.store.Plan(ctx, c.Domain, planID)
	if aimg.ErrorCode(err) == aimg.CodeNotFound || (err == nil && !plan.Active) {
		return "", aimg.Invalid("planID", "no such Billing Plan")
	}
	if err != nil {
		return "", err
	}
	_, pp, ok := planPrice(plan, ProviderStripe)
	if !ok || pp.ExternalID == "" {
		return "", aimg.Invalid("planID", "this Billing Plan has no Stripe price")
	}
	subs, err := s.store.UserSubscriptions(ctx, c.User.ID)
	if err != nil {
		return "", err
	}
	now := s.now()
	for _, sub := range subs {
		if sub.Provider == ProviderStripe && sub.ProductID == plan.ID && sub.Live(now) && sub.NextBillingAt != nil {
			return "", &aimg.Error{Code: aimg.CodeConflict, Field: "planID", Message: "planID: you already have this membership"}
		}
	}
	u, err := s.providers.Stripe.CheckoutURL(ctx, aimg.CheckoutRequest{UserID: c.User.ID, Email: c.User.Email, PlanID: plan.ID,
		Tier: plan.Tier, PriceID: pp.ExternalID, SuccessURL: successURL, CancelURL: cancelURL})
	if err != nil {
		s.log.Warn("stripe checkout failed", "user", c.User.ID, "plan", plan.ID, "err", err)
		return "", errStripeDown
	}
	return u, nil
}
