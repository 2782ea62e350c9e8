package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/billing"
)

// Payments through external providers (docs/payments.md): card
// subscriptions (arkpay), Stripe Checkout, and each provider's webhook.

type processCardSubscriptionInput struct {
	Auth
	Body struct {
		MerchantProcessor string `json:"merchantProcessor" doc:"arkpay."`
		ProductID         string `json:"productID" doc:"The Billing Plan's id; its arkpay price is charged."`
		CardNumber        string `json:"cardNumber"`
		CardHolderName    string `json:"cardHolderName"`
		ExpirationMonth   int    `json:"expirationMonth"`
		ExpirationYear    int    `json:"expirationYear"`
		SecurityCode      string `json:"securityCode"`
		Street            string `json:"street,omitempty"`
		City              string `json:"city,omitempty"`
		StateOrProvince   string `json:"stateOrProvince,omitempty" doc:"A 2-letter code."`
		PostalCode        string `json:"postalCode,omitempty"`
		Country           string `json:"country,omitempty" doc:"ISO 3166-1 alpha-2."`
		BillingEmail      string `json:"billingEmail,omitempty" doc:"Ignored when the signed-in User has an email."`
		PhoneNumber       string `json:"phoneNumber,omitempty"`
	}
}

func (s *Server) processCardSubscription(ctx context.Context, c aimg.Caller, in *processCardSubscriptionInput) (*Response[Success], error) {
	for _, l := range []struct{ name, key string }{{"processCardSubscription:user", c.User.ID}, {"processCardSubscription:ip", c.ClientIP}} {
		if err := s.Accounts.Allow(ctx, l.name, l.key); err != nil {
			return nil, err
		}
	}
	b := in.Body
	ok, msg, err := s.Billing.ProcessCardSubscription(ctx, c, billing.CardPayment{
		MerchantProcessor: b.MerchantProcessor, ProductID: b.ProductID,
		Card: aimg.Card{Number: b.CardNumber, HolderName: b.CardHolderName, ExpMonth: b.ExpirationMonth, ExpYear: b.ExpirationYear,
			SecurityCode: b.SecurityCode},
		Billing: aimg.BillingAddress{Street: b.Street, City: b.City, StateOrProvince: b.StateOrProvince, PostalCode: b.PostalCode,
			Country: b.Country, Email: b.BillingEmail, Phone: b.PhoneNumber},
	})
	if err != nil {
		return nil, err
	}
	return reply(Success{Success: ok, Message: msg})
}

type createStripeCheckoutInput struct {
	Auth
	Body struct {
		PlanID     string `json:"planID" doc:"A Billing Plan with a stripe payment provider and its externalId (the Stripe Price)."`
		SuccessURL string `json:"successURL" doc:"Where Stripe sends the User after paying."`
		CancelURL  string `json:"cancelURL" doc:"Where Stripe sends the User who gives up."`
	}
}

// CheckoutURL is createStripeCheckout's answer.
type CheckoutURL struct {
	URL string `json:"url" doc:"The Stripe Checkout page to send the User to."`
}

func (s *Server) createStripeCheckout(ctx context.Context, c aimg.Caller, in *createStripeCheckoutInput) (*Response[CheckoutURL], error) {
	if err := s.Accounts.Allow(ctx, "createStripeCheckout:user", c.User.ID); err != nil {
		return nil, err
	}
	u, err := s.Billing.StripeCheckout(ctx, c, in.Body.PlanID, in.Body.SuccessURL, in.Body.CancelURL)
	if err != nil {
		return nil, err
	}
	return reply(CheckoutURL{URL: u})
}

type cancelMembershipInput struct {
	Auth
	ReturnURL string `query:"returnURL" doc:"Where Stripe's customer portal sends the User back (default: the site)."`
}

// Cancellation is cancelMembership's answer.
type Cancellation struct {
	Success   bool   `json:"success"`
	Message   string `json:"message,omitempty"`
	PortalURL string `json:"portalURL,omitempty" doc:"Stripe subscribers: the customer portal page where the subscription is cancelled."`
}

func (s *Server) cancelMembership(ctx context.Context, c aimg.Caller, in *cancelMembershipInput) (*Response[Cancellation], error) {
	out, err := s.Billing.CancelMembership(ctx, c, in.ReturnURL)
	if err != nil {
		return nil, err
	}
	return reply(Cancellation{Success: out.Success, Message: out.Message, PortalURL: out.PortalURL})
}

type stripeWebhookInput struct {
	Signature string `header:"Stripe-Signature"`
	RawBody   []byte
}

type arkpayWebhookInput struct {
	Signature string `header:"Arkpay-Signature"`
	RawBody   []byte
}

// Webhook is a webhook delivery's answer: applied is false for a replay,
// an older event than one already applied, or an event type AIMG ignores.
type Webhook struct {
	Received bool `json:"received"`
	Applied  bool `json:"applied"`
}

func (s *Server) stripeWebhook(ctx context.Context, c aimg.Caller, in *stripeWebhookInput) (*Response[Webhook], error) {
	if s.Stripe == nil {
		return nil, errProviderOff("stripe")
	}
	return s.applyWebhook(ctx, c, func() (aimg.ProviderEvent, bool, error) { return s.Stripe.Event(in.RawBody, in.Signature) })
}

func (s *Server) arkpayWebhook(ctx context.Context, c aimg.Caller, in *arkpayWebhookInput) (*Response[Webhook], error) {
	if s.Arkpay == nil {
		return nil, errProviderOff("arkpay")
	}
	return s.applyWebhook(ctx, c, func() (aimg.ProviderEvent, bool, error) { return s.Arkpay.Event(in.RawBody, in.Signature, s.Now()) })
}

func errProviderOff(name string) error {
	return aimg.Errorf(aimg.CodeNotFound, "The %s provider is not configured on this server", name)
}

// applyWebhook verifies a delivery (verify), then applies its event once.
func (s *Server) applyWebhook(ctx context.Context, c aimg.Caller, verify func() (aimg.ProviderEvent, bool, error)) (*Response[Webhook], error) {
	if err := s.Accounts.Allow(ctx, "paymentWebhook:ip", c.ClientIP); err != nil {
		return nil, err
	}
	ev, ok, err := verify()
	if err != nil {
		return nil, err
	}
	if !ok {
		return reply(Webhook{Received: true})
	}
	applied, err := s.Billing.ApplyProviderEvent(ctx, ev)
	if err != nil {
		return nil, err
	}
	return reply(Webhook{Received: true, Applied: applied})
}
