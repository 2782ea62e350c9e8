package aimg

import "time"

// Payment providers (BillingPlanPaymentProvider.paymentProvider). The
// internal ones (admin, giftcard, whitelist) are handled by AIMG itself.
const (
	ProviderAdmin     = "admin"
	ProviderGiftCard  = "giftcard"
	ProviderWhitelist = "whitelist"
)

// Subscription statuses.
const (
	SubscriptionActive    = "active"
	SubscriptionCancelled = "cancelled" // stops renewing; the tier stays until ExpiresAt
	SubscriptionExpired   = "expired"
)

// MaxTier is the highest PRO tier a plan, grant or gift card may give.
const MaxTier = 9

// Subscription is one source of a PRO tier for a user.
type Subscription struct {
	ID                    string
	UserID                string
	Domain                string
	Provider              string // merchantProcessor: admin, giftcard, whitelist, stripe, arkpay ...
	ProductID             string
	Tier                  int
	Status                string
	ExpiresAt             *time.Time // nil: no expiry
	NextBillingAt         *time.Time // set only while the subscription renews
	PayerID               string
	TransactionID         string
	AdditionalInformation string
	Price                 *PlanPrice // the price paid, when known (extendedPriceInfo)
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Live tells whether s gives its tier at now: active or cancelled (a
// cancelled one runs to its expiry) and not expired.
func (s *Subscription) Live(now time.Time) bool {
	return s.Status != SubscriptionExpired && (s.ExpiresAt == nil || s.ExpiresAt.After(now))
}

// Expiring tells whether s is "enqueued for expiration" (redeemGiftCard):
// it has an expiry and nothing renews it (docs/decisions.md "Premium tiers").
func (s *Subscription) Expiring() bool { return s.ExpiresAt != nil && s.NextBillingAt == nil }

// BestSubscription is the live subscription that gives the tier: the highest
// tier, then the latest expiry (no expiry counts as the latest). nil if none.
func BestSubscription(subs []Subscription, now time.Time) *Subscription {
	var best *Subscription
	for i := range subs {
		s := &subs[i]
		if !s.Live(now) || s.Tier <= 0 {
			continue
		}
		if best == nil || s.Tier > best.Tier || (s.Tier == best.Tier && laterExpiry(s.ExpiresAt, best.ExpiresAt)) {
			best = s
		}
	}
	return best
}

func laterExpiry(a, b *time.Time) bool {
	switch {
	case b == nil:
		return false
	case a == nil:
		return true
	default:
		return a.After(*b)
	}
}

// BillingPlan is the spec's BillingPlan, per domain.
type BillingPlan struct {
	ID           string
	Domain       string
	Env          string
	Code         string // "" for the plans everyone sees; else shown with getBillingPlans?code=
	Name         string
	Description  string
	Features     []string
	MainBenefits []string
	Prices       []PlanPrice
	Tier         int
	Active       bool
	CreatedAt    time.Time
}

// PlanPrice is the spec's BillingPlanPrice.
type PlanPrice struct {
	Name             string            `json:"name,omitempty"`
	Type             string            `json:"type"`
	Period           string            `json:"period"`
	Currency         string            `json:"currency"`
	CurrencyType     string            `json:"currencyType"`
	Value            float64           `json:"value"`
	TrialDays        int               `json:"trialDays,omitempty"`
	PaymentProviders []PaymentProvider `json:"paymentProviders,omitempty"`
}

// PaymentProvider is the spec's BillingPlanPaymentProvider.
type PaymentProvider struct {
	PaymentProvider string `json:"paymentProvider"`
	PaymentLabel    string `json:"paymentLabel,omitempty"`
	PaymentURL      string `json:"paymentUrl"`
	// ExternalID is the provider's id of what is sold (beyond the spec): a
	// Stripe Price (price_…), a Boosty subscription level id. Empty for
	// providers that need none.
	ExternalID string `json:"externalId,omitempty"`
}

// GiftCard is a batch row of downloadGiftCards (the code itself is never stored).
type GiftCard struct {
	CodeHash              string
	Domain                string
	Provider              string
	Tier                  int
	Days                  int
	USDPrice              float64
	ExternalCode          string
	AdditionalInformation string
	CreatedAt             time.Time
}

// TierGrant is the outcome of a change to a user's subscriptions.
type TierGrant struct {
	Subscription Subscription
	Tier         int        // the user's tier afterwards
	Expiration   *time.Time // the user's tier expiration afterwards
}
