package aimg

import "time"

// ProviderEvent is what a payment provider's webhook says about a
// subscription, in the provider's own terms mapped to ours. A provider
// adapter makes it from a verified event; the billing service applies it
// once per (Provider, EventID).
type ProviderEvent struct {
	Provider string // "stripe", …
	EventID  string // the provider's event id: applying it twice is a no-op
	Kind     string // ProviderActivated, ProviderRenewed or ProviderCancelled
	// UserID is ours (Checkout's client_reference_id); empty on events that
	// name only the provider's subscription.
	UserID string
	// SubscriptionID and CustomerID are the provider's ids
	// (Subscription.transactionID and payerID).
	SubscriptionID string
	CustomerID     string
	PlanID         string    // our Billing Plan id, from the provider's metadata
	Tier           int       // from the plan's metadata; 0 = unknown
	PeriodEnd      time.Time // zero = unknown
	Created        time.Time // when the provider made the event (orders replays)
}

// ProviderEvent kinds.
const (
	ProviderActivated = "activated"
	ProviderRenewed   = "renewed"
	ProviderCancelled = "cancelled"
)

// CheckoutRequest starts a hosted payment page (Stripe Checkout) for one of
// our plans: the provider's price PriceID, paid by UserID. The user comes
// back to SuccessURL or CancelURL; the subscription starts with the
// provider's webhook, never with the redirect.
type CheckoutRequest struct {
	UserID, Email, PlanID string
	Tier                  int
	PriceID               string
	SuccessURL, CancelURL string
}
