// Package stripepay is the Stripe payment provider: subscription Checkout
// Sessions, the customer portal (cancelMembership) and webhooks verified
// with Stripe's signature scheme, mapped to aimg.ProviderEvent. It talks to
// Stripe through stripe-go; tests run it against stripe-mock.
package stripepay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"aimg/internal/aimg"
)

// Config is the provider's part of the service config.
type Config struct {
	SecretKey     string // sk_…
	WebhookSecret string // whsec_…, of the webhook endpoint
	// APIURL overrides https://api.stripe.com (stripe-mock in tests).
	APIURL string
	// Tolerance is how old a signed webhook may be (replays older than it
	// are refused); 0 = stripe-go's default of 5 minutes.
	Tolerance time.Duration
}

// Provider is one Stripe account.
type Provider struct {
	cfg    Config
	client *stripe.Client
}

// New builds the provider; httpClient bounds its requests (nil: 30 s).
func New(cfg Config, httpClient *http.Client) *Provider {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &stripe.BackendConfig{HTTPClient: httpClient, MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if cfg.APIURL != "" {
		bc.URL = stripe.String(cfg.APIURL)
	}
	return &Provider{cfg: cfg, client: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))}
}

// CheckoutURL creates the Checkout Session and returns the URL to send the
// user to.
func (p *Provider) CheckoutURL(ctx context.Context, c aimg.CheckoutRequest) (string, error) {
	meta := map[string]string{"aimg_user_id": c.UserID, "aimg_plan_id": c.PlanID, "aimg_tier": strconv.Itoa(c.Tier)}
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		ClientReferenceID: stripe.String(c.UserID),
		SuccessURL:        stripe.String(c.SuccessURL),
		CancelURL:         stripe.String(c.CancelURL),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(c.PriceID), Quantity: stripe.Int64(1)}},
		SubscriptionData:  &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
		Metadata:          meta,
	}
	if c.Email != "" {
		params.CustomerEmail = stripe.String(c.Email)
	}
	s, err := p.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("stripe checkout: %w", err)
	}
	return s.URL, nil
}

// PortalURL is a customer portal session for the Stripe customer, where the
// user cancels or changes the subscription (cancelMembership).
func (p *Provider) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	s, err := p.client.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(customerID), ReturnURL: stripe.String(returnURL),
	})
	if err != nil {
		return "", fmt.Errorf("stripe portal: %w", err)
	}
	return s.URL, nil
}

// ErrBadSignature is a webhook whose Stripe-Signature does not verify, or
// whose signed time is outside the tolerance (a replay).
var ErrBadSignature = &aimg.Error{Code: aimg.CodeInvalid, Field: "Stripe-Signature", Message: "Stripe-Signature: does not verify"}

// Event verifies a webhook delivery (the raw body and its Stripe-Signature
// header) and maps it. ok is false for event types that do not concern
// subscriptions (acknowledge and ignore them).
func (p *Provider) Event(payload []byte, signature string) (ev aimg.ProviderEvent, ok bool, err error) {
	e, err := webhook.ConstructEventWithOptions(payload, signature, p.cfg.WebhookSecret, webhook.ConstructEventOptions{
		Tolerance: p.cfg.Tolerance, IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return ev, false, errors.Join(ErrBadSignature, err)
	}
	ev = aimg.ProviderEvent{Provider: "stripe", EventID: e.ID, Created: time.Unix(e.Created, 0).UTC()}
	switch e.Type {
	case "checkout.session.completed":
		var s stripe.CheckoutSession
		if err := json.Unmarshal(e.Data.Raw, &s); err != nil {
			return ev, false, aimg.Invalid("data", "not a Checkout Session: %v", err)
		}
		if s.Mode != stripe.CheckoutSessionModeSubscription || s.Subscription == nil {
			return ev, false, nil
		}
		ev.Kind, ev.UserID, ev.SubscriptionID = aimg.ProviderActivated, s.ClientReferenceID, s.Subscription.ID
		if s.Customer != nil {
			ev.CustomerID = s.Customer.ID
		}
		fromMetadata(&ev, s.Metadata)
		return ev, ev.UserID != "", nil
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var s stripe.Subscription
		if err := json.Unmarshal(e.Data.Raw, &s); err != nil {
			return ev, false, aimg.Invalid("data", "not a Subscription: %v", err)
		}
		ev.SubscriptionID = s.ID
		if s.Customer != nil {
			ev.CustomerID = s.Customer.ID
		}
		fromMetadata(&ev, s.Metadata)
		if s.Items != nil {
			for _, it := range s.Items.Data {
				if end := time.Unix(it.CurrentPeriodEnd, 0).UTC(); it.CurrentPeriodEnd > 0 && end.After(ev.PeriodEnd) {
					ev.PeriodEnd = end
				}
			}
		}
		switch {
		case e.Type == "customer.subscription.deleted",
			s.Status == stripe.SubscriptionStatusCanceled, s.Status == stripe.SubscriptionStatusUnpaid,
			s.Status == stripe.SubscriptionStatusIncompleteExpired:
			// Ended now (or when Stripe says): the paid period is not kept.
			ev.Kind, ev.PeriodEnd = aimg.ProviderCancelled, ev.Created
			if s.EndedAt > 0 {
				ev.PeriodEnd = time.Unix(s.EndedAt, 0).UTC()
			}
		case (s.Status == stripe.SubscriptionStatusActive || s.Status == stripe.SubscriptionStatusTrialing) &&
			(s.CancelAtPeriodEnd || s.CancelAt > 0):
			// Cancelled in the portal: it stops renewing and runs to the
			// end of the period (or the date it is set to cancel at).
			ev.Kind = aimg.ProviderCancelled
			if s.CancelAt > 0 {
				ev.PeriodEnd = time.Unix(s.CancelAt, 0).UTC()
			}
		case s.Status == stripe.SubscriptionStatusActive, s.Status == stripe.SubscriptionStatusTrialing:
			ev.Kind = aimg.ProviderRenewed
		default: // incomplete, past_due, paused: the tier runs to its expiry
			return ev, false, nil
		}
		return ev, true, nil
	}
	return ev, false, nil
}

func fromMetadata(ev *aimg.ProviderEvent, m map[string]string) {
	if ev.UserID == "" {
		ev.UserID = m["aimg_user_id"]
	}
	ev.PlanID = m["aimg_plan_id"]
	ev.Tier, _ = strconv.Atoi(m["aimg_tier"])
}
