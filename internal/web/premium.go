package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/billing"
)

// /account/premium: the Billing Plans (getBillingPlans), the caller's
// tier and subscriptions, gift cards (redeemGiftCard), cancelling
// (cancelMembership), and the payment buttons the server has providers
// for: Stripe Checkout (createStripeCheckout) and the card payment links
// by email (payWithCardEmail, with arkpay). The rate limits are the API
// handlers' own.

const premiumPath = "/account/premium"

func (s *Server) premiumPages(page route) {
	page("GET "+premiumPath, s.premiumPage)
	page("POST "+premiumPath+"/gift-card", s.redeemGiftCard)
	page("POST "+premiumPath+"/cancel", s.cancelMembership)
	page("POST "+premiumPath+"/checkout", s.stripeCheckout)
	page("POST "+premiumPath+"/card-email", s.payWithCardEmail)
}

// premiumView is what premium.html shows.
type premiumView struct {
	Plans         []planView
	Tier          int
	TierExpires   string
	Subscriptions []subscriptionView
	Renewing      bool // a subscription renews: cancelling means something
	Stripe        bool // Stripe Checkout buttons
	CardEmail     bool // the card payment links by email (arkpay)
	Flash         string
	Code          string // the gift card code, kept after an error
}

type planView struct {
	ID, Name, Description string
	Tier                  int
	Features, Benefits    []string
	Prices                []string
	Stripe                bool // has a Stripe price: a Checkout button
	Links                 []payLink
}

// payLink is a provider's own payment page for a plan (its paymentUrl).
type payLink struct{ Label, URL string }

type subscriptionView struct {
	Provider, ProductID, Status, Expires, NextBilling string
	Tier                                              int
}

// day formats t as the pages show dates; "" for nil.
func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2 Jan 2006")
}

func (s *Server) premiumPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.premium(w, r, c, nil, "")
}

// premium renders the page, with err at its field when a form failed.
func (s *Server) premium(w http.ResponseWriter, r *http.Request, c aimg.Caller, failed error, code string) {
	ctx := r.Context()
	if err := s.Accounts.Allow(ctx, "getBillingPlans:ip", c.ClientIP); err != nil {
		s.fail(w, r, c, err)
		return
	}
	plans, err := s.Billing.Plans(ctx, c, billing.PlansQuery{})
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	pay := s.Config.Service.Payments
	d := &premiumView{Stripe: pay.Stripe.Enabled(), CardEmail: pay.Arkpay.Enabled(), Code: code}
	for _, p := range plans {
		d.Plans = append(d.Plans, s.planView(p, d.Stripe))
	}
	now := s.Now()
	if c.SignedIn() {
		u := c.User
		d.Tier = u.EffectiveTier(now)
		if d.Tier > 0 {
			d.TierExpires = day(u.TierExpiration)
		}
		subs, err := s.Billing.Subscriptions(ctx, u.ID)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		for _, sub := range subs {
			d.Subscriptions = append(d.Subscriptions, subscriptionView{Provider: sub.Provider, ProductID: sub.ProductID,
				Status: sub.Status, Tier: sub.Tier, Expires: day(sub.ExpiresAt), NextBilling: day(sub.NextBillingAt)})
			d.Renewing = d.Renewing || (sub.Live(now) && sub.NextBillingAt != nil)
		}
	}
	if failed == nil {
		d.Flash = s.takeFlash(w, r, c)
		if r.URL.Query().Get("checkout") == "done" {
			d.Flash = "Thank you. Your tier starts as soon as Stripe confirms the payment."
		}
	}
	s.renderAfter(w, r, "premium", s.newView(r, c, "Premium", d), failed)
}

// planView is a plan as the page lists it; stripe tells whether Stripe
// Checkout is configured.
func (s *Server) planView(p aimg.BillingPlan, stripe bool) planView {
	pv := planView{ID: p.ID, Name: p.Name, Description: p.Description, Tier: p.Tier, Features: p.Features, Benefits: p.MainBenefits}
	for _, pr := range p.Prices {
		price := fmt.Sprintf("%g %s", pr.Value, pr.Currency)
		if pr.Period != "" && pr.Period != "none" {
			price += " " + pr.Period
		}
		if pr.Name != "" {
			price = pr.Name + ": " + price
		}
		pv.Prices = append(pv.Prices, price)
		for _, pp := range pr.PaymentProviders {
			switch {
			case pp.PaymentProvider == billing.ProviderStripe:
				pv.Stripe = pv.Stripe || (stripe && pp.ExternalID != "")
			case strings.HasPrefix(pp.PaymentURL, "https://") && !strings.ContainsAny(pp.PaymentURL, "{}"):
				label := pp.PaymentLabel
				if label == "" {
					label = "Pay with " + pp.PaymentProvider
				}
				pv.Links = append(pv.Links, payLink{Label: label, URL: pp.PaymentURL})
			}
		}
	}
	return pv
}

// premiumDone ends a successful premium form.
func (s *Server) premiumDone(w http.ResponseWriter, r *http.Request, c aimg.Caller, msg string) {
	s.setFlash(w, r, c, msg)
	seeOther(w, r, premiumPath)
}

func (s *Server) redeemGiftCard(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	ctx, code := r.Context(), r.PostFormValue("code")
	// Guessing codes: a token per client address and per account, as the API takes.
	err := s.Accounts.Allow(ctx, "redeemGiftCard:ip", c.ClientIP)
	if err == nil && c.User != nil {
		err = s.Accounts.Allow(ctx, "redeemGiftCard:user", c.User.ID)
	}
	var red *billing.Redemption
	if err == nil {
		red, err = s.Billing.RedeemGiftCard(ctx, c, code)
	}
	if err != nil {
		s.premium(w, r, c, atField("code", err), code)
		return
	}
	msg := fmt.Sprintf("Gift card redeemed: tier %d", red.Tier)
	if red.TierExpiration != nil {
		msg += " until " + day(red.TierExpiration)
	}
	s.premiumDone(w, r, c, msg+".")
}

func (s *Server) cancelMembership(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	out, err := s.Billing.CancelMembership(r.Context(), c, s.Config.PublicURL+premiumPath)
	if err != nil {
		s.premium(w, r, c, err, "")
		return
	}
	if out.PortalURL != "" { // Stripe's customer portal, where it is cancelled
		seeOther(w, r, out.PortalURL)
		return
	}
	s.premiumDone(w, r, c, out.Message+".")
}

func (s *Server) stripeCheckout(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	ctx := r.Context()
	if !c.SignedIn() {
		s.premium(w, r, c, aimg.ErrUnauthenticated, "")
		return
	}
	if err := s.Accounts.Allow(ctx, "createStripeCheckout:user", c.User.ID); err != nil {
		s.premium(w, r, c, err, "")
		return
	}
	back := s.Config.PublicURL + premiumPath
	u, err := s.Billing.StripeCheckout(ctx, c, r.PostFormValue("planID"), back+"?checkout=done", back)
	if err != nil {
		s.premium(w, r, c, err, "")
		return
	}
	seeOther(w, r, u)
}

func (s *Server) payWithCardEmail(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	ctx := r.Context()
	if !c.SignedIn() { // the page's button is for the signed-in caller's own email
		s.premium(w, r, c, aimg.ErrUnauthenticated, "")
		return
	}
	err := s.Accounts.Allow(ctx, "payWithCardEmail:ip", c.ClientIP)
	if err == nil {
		err = s.Accounts.Allow(ctx, "payWithCardEmail:email", c.User.Email)
	}
	ok := false
	if err == nil {
		ok, err = s.Billing.PayWithCardEmail(ctx, c, "")
	}
	switch {
	case err != nil:
		s.premium(w, r, c, err, "")
	case !ok:
		s.premiumDone(w, r, c, "No billing plan has a card payment link yet.")
	default:
		s.premiumDone(w, r, c, "The card payment links were sent to "+c.User.Email+".")
	}
}
