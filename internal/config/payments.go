package config

import (
	"fmt"
	"time"
)

// Payments are the external payment providers (docs/payments.md). A
// provider without its secret key is disabled. The secrets also come from
// the environment: AIMG_STRIPE_SECRET_KEY, AIMG_STRIPE_WEBHOOK_SECRET,
// AIMG_ARKPAY_URL, AIMG_ARKPAY_API_KEY, AIMG_ARKPAY_WEBHOOK_SECRET.
type Payments struct {
	Stripe Stripe `yaml:"stripe"`
	Arkpay Arkpay `yaml:"arkpay"`
	// WebhookTolerance is how old a signed webhook delivery may be; older
	// ones are refused as replays.
	WebhookTolerance time.Duration `yaml:"webhookTolerance"`
}

// Stripe is the Stripe account: Checkout, the customer portal, webhooks.
type Stripe struct {
	SecretKey     string `yaml:"secretKey"`     // sk_…
	WebhookSecret string `yaml:"webhookSecret"` // whsec_… of <public URL>/api/payments/stripe/webhook
	APIURL        string `yaml:"apiURL"`        // "" = https://api.stripe.com (stripe-mock in tests)
}

// Enabled tells whether Stripe is configured.
func (s Stripe) Enabled() bool { return s.SecretKey != "" }

// Arkpay is the card processor of processCardSubscription.
type Arkpay struct {
	URL           string `yaml:"url"`
	APIKey        string `yaml:"apiKey"`
	WebhookSecret string `yaml:"webhookSecret"` // HMAC key of Arkpay-Signature
}

// Enabled tells whether arkpay is configured.
func (a Arkpay) Enabled() bool { return a.APIKey != "" }

func (p *Payments) fromEnv(getenv func(string) string) {
	for env, field := range map[string]*string{
		"AIMG_STRIPE_SECRET_KEY": &p.Stripe.SecretKey, "AIMG_STRIPE_WEBHOOK_SECRET": &p.Stripe.WebhookSecret,
		"AIMG_ARKPAY_URL": &p.Arkpay.URL, "AIMG_ARKPAY_API_KEY": &p.Arkpay.APIKey, "AIMG_ARKPAY_WEBHOOK_SECRET": &p.Arkpay.WebhookSecret,
	} {
		if v := getenv(env); v != "" {
			*field = v
		}
	}
}

func (p Payments) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config payments.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if p.WebhookTolerance < time.Minute || p.WebhookTolerance > time.Hour {
		bad("webhookTolerance", "must be between 1m and 1h, got %s", p.WebhookTolerance)
	}
	if p.Stripe.Enabled() && p.Stripe.WebhookSecret == "" {
		bad("stripe.webhookSecret", "is required with a secretKey (or AIMG_STRIPE_WEBHOOK_SECRET): subscriptions start from its webhooks")
	}
	if p.Stripe.APIURL != "" && !httpURL(p.Stripe.APIURL) {
		bad("stripe.apiURL", "%q is not an http(s) URL", p.Stripe.APIURL)
	}
	if p.Arkpay.Enabled() {
		if !httpURL(p.Arkpay.URL) {
			bad("arkpay.url", "%q is not an http(s) URL (or AIMG_ARKPAY_URL)", p.Arkpay.URL)
		}
		if p.Arkpay.WebhookSecret == "" {
			bad("arkpay.webhookSecret", "is required with an apiKey (or AIMG_ARKPAY_WEBHOOK_SECRET)")
		}
	}
	return errs
}
