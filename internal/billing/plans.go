package billing

import (
	"context"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// The enums of BillingPlanPrice and BillingPlanPaymentProvider.
var (
	PriceTypes     = []string{"base", "discount", "bundle", "trial", "free", "giftcard", "other", "none"}
	PricePeriods   = []string{"daily", "monthly", "yearly", "lifetime", "none"}
	Currencies     = []string{"USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "CNY", "BTC", "ETH", "SOL", "BNB", "MATIC", "USDC", "USDT", "none"}
	CurrencyTypes  = []string{"fiat", "crypto", "other", "none"}
	ProviderNames  = []string{"arkpay", "boosty", "ccbill", "epoch", "g2a", "helio", "nmi", "patreon", "paypal", "stripe", "giftcard", "admin", "whitelist", "other", "none"}
	urlFreeProvide = []string{"giftcard", "admin", "whitelist", "none"} // may have an empty paymentUrl
)

// Budgets of createBillingPlan (docs/security.md).
const (
	maxNameBytes     = 200
	maxTextBytes     = 4000
	maxListEntries   = 50
	maxPrices        = 20
	maxProviders     = 20
	maxURLBytes      = 2000
	maxCodeBytes     = 100
	maxPlanIDsFilter = 100
)

// PlanInput is createBillingPlan's body.
type PlanInput struct {
	Name         string
	Description  string
	Features     []string
	MainBenefits []string
	Prices       []aimg.PlanPrice
	Tier         int
	Env          string
	Code         string
}

// CreatePlan (admin) adds a plan to the caller's domain.
func (s *Service) CreatePlan(ctx context.Context, c aimg.Caller, in PlanInput) (*aimg.BillingPlan, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	if err := validatePlan(&in); err != nil {
		return nil, err
	}
	env := in.Env
	if env == "" {
		env = s.cfg.Service.Environment
	}
	p := &aimg.BillingPlan{ID: uuid.NewString(), Domain: c.Domain, Env: env, Code: in.Code, Name: in.Name,
		Description: in.Description, Features: in.Features, MainBenefits: in.MainBenefits, Prices: in.Prices,
		Tier: in.Tier, Active: true, CreatedAt: s.now()}
	if err := s.store.CreatePlan(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func validatePlan(in *PlanInput) error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return aimg.Invalid("name", "is required")
	case len(in.Name) > maxNameBytes:
		return aimg.Invalid("name", "must be at most %d bytes", maxNameBytes)
	case len(in.Description) > maxTextBytes:
		return aimg.Invalid("description", "must be at most %d bytes", maxTextBytes)
	case in.Tier < 1 || in.Tier > aimg.MaxTier:
		return aimg.Invalid("tier", "must be an integer from 1 to %d", aimg.MaxTier)
	case len(in.Code) > maxCodeBytes:
		return aimg.Invalid("code", "must be at most %d bytes", maxCodeBytes)
	case len(in.Env) > maxNameBytes:
		return aimg.Invalid("env", "must be at most %d bytes", maxNameBytes)
	}
	for name, list := range map[string][]string{"features": in.Features, "mainBenefits": in.MainBenefits} {
		if len(list) > maxListEntries {
			return aimg.Invalid(name, "must have at most %d entries", maxListEntries)
		}
		for i, f := range list {
			if len(f) > maxTextBytes {
				return aimg.Invalid(name, "entry %d must be at most %d bytes", i, maxTextBytes)
			}
		}
	}
	if len(in.Prices) == 0 {
		return aimg.Invalid("prices", "must have at least one price")
	}
	if len(in.Prices) > maxPrices {
		return aimg.Invalid("prices", "must have at most %d prices", maxPrices)
	}
	for i := range in.Prices {
		if err := validatePrice(i, &in.Prices[i]); err != nil {
			return err
		}
	}
	return nil
}

func oneOf(field, v string, allowed []string) error {
	if v == "" {
		return aimg.Invalid(field, "is required; one of %s", strings.Join(allowed, ", "))
	}
	if !slices.Contains(allowed, v) {
		return aimg.Invalid(field, "%s is not one of %s", aimg.Quote(v), strings.Join(allowed, ", "))
	}
	return nil
}

func validatePrice(i int, p *aimg.PlanPrice) error {
	f := func(name string) string { return "prices[" + strconv.Itoa(i) + "]." + name }
	if len(p.Name) > maxNameBytes {
		return aimg.Invalid(f("name"), "must be at most %d bytes", maxNameBytes)
	}
	for _, e := range []struct {
		field, v string
		allowed  []string
	}{{"type", p.Type, PriceTypes}, {"period", p.Period, PricePeriods}, {"currency", p.Currency, Currencies},
		{"currencyType", p.CurrencyType, CurrencyTypes}} {
		if err := oneOf(f(e.field), e.v, e.allowed); err != nil {
			return err
		}
	}
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value < 0 || p.Value > 1e12 {
		return aimg.Invalid(f("value"), "must be a number from 0 to 1e12")
	}
	if p.TrialDays < 0 || p.TrialDays > 3650 {
		return aimg.Invalid(f("trialDays"), "must be from 0 to 3650")
	}
	if len(p.PaymentProviders) == 0 {
		return aimg.Invalid(f("paymentProviders"), "must have at least one payment provider")
	}
	if len(p.PaymentProviders) > maxProviders {
		return aimg.Invalid(f("paymentProviders"), "must have at most %d payment providers", maxProviders)
	}
	for j, pp := range p.PaymentProviders {
		g := func(name string) string { return f("paymentProviders[" + strconv.Itoa(j) + "]." + name) }
		if err := oneOf(g("paymentProvider"), pp.PaymentProvider, ProviderNames); err != nil {
			return err
		}
		if len(pp.PaymentLabel) > maxNameBytes {
			return aimg.Invalid(g("paymentLabel"), "must be at most %d bytes", maxNameBytes)
		}
		if len(pp.ExternalID) > maxNameBytes || strings.ContainsAny(pp.ExternalID, "\x00\r\n") {
			return aimg.Invalid(g("externalId"), "must be at most %d bytes on one line", maxNameBytes)
		}
		if pp.PaymentProvider == "stripe" && !strings.HasPrefix(pp.ExternalID, "price_") {
			return aimg.Invalid(g("externalId"), "must be the Stripe Price id (price_…) of this price")
		}
		if pp.PaymentURL == "" && (slices.Contains(urlFreeProvide, pp.PaymentProvider) || pp.PaymentProvider == "stripe") {
			continue // stripe: the client asks createStripeCheckout for the Checkout URL
		}
		if err := checkURL(g("paymentUrl"), strings.NewReplacer("{redirectURL}", "", "{paymentURL}", "", "{planID}", "").Replace(pp.PaymentURL)); err != nil {
			return err
		}
	}
	return nil
}

// checkURL requires an absolute http(s) URL.
func checkURL(field, raw string) error {
	if raw == "" {
		return aimg.Invalid(field, "is required")
	}
	if len(raw) > maxURLBytes {
		return aimg.Invalid(field, "must be at most %d bytes", maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return aimg.Invalid(field, "must be an absolute http or https URL")
	}
	return nil
}

// PlansQuery is getBillingPlans' parameters.
type PlansQuery struct {
	PlanIDs     []string
	Code        string
	RedirectURL string
	PaymentURL  string
}

// Plans returns the domain's active plans (and the special ones of q.Code),
// with each provider's paymentUrl completed from q (docs/decisions.md
// "Premium tiers"): {redirectURL}, {paymentURL} and {planID} in a stored
// URL are replaced by the query-escaped values; an empty stored URL becomes
// paymentURL?planID=<id>&paymentProvider=<name> when paymentURL is given.
func (s *Service) Plans(ctx context.Context, c aimg.Caller, q PlansQuery) ([]aimg.BillingPlan, error) {
	if len(q.PlanIDs) > maxPlanIDsFilter {
		return nil, aimg.Invalid("planIDs", "must have at most %d identifiers", maxPlanIDsFilter)
	}
	if len(q.Code) > maxCodeBytes {
		return nil, aimg.Invalid("code", "must be at most %d bytes", maxCodeBytes)
	}
	for field, v := range map[string]string{"redirectURL": q.RedirectURL, "paymentURL": q.PaymentURL} {
		if v != "" {
			if err := checkURL(field, v); err != nil {
				return nil, err
			}
		}
	}
	plans, err := s.store.Plans(ctx, c.Domain, q.Code)
	if err != nil {
		return nil, err
	}
	out := plans[:0]
	for _, p := range plans {
		if len(q.PlanIDs) > 0 && !slices.Contains(q.PlanIDs, p.ID) {
			continue
		}
		for i := range p.Prices {
			for j := range p.Prices[i].PaymentProviders {
				pp := &p.Prices[i].PaymentProviders[j]
				pp.PaymentURL = paymentURL(pp.PaymentURL, p.ID, pp.PaymentProvider, q)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func paymentURL(stored, planID, provider string, q PlansQuery) string {
	if stored == "" {
		if q.PaymentURL == "" {
			return ""
		}
		sep := "?"
		if strings.Contains(q.PaymentURL, "?") {
			sep = "&"
		}
		return q.PaymentURL + sep + "planID=" + url.QueryEscape(planID) + "&paymentProvider=" + url.QueryEscape(provider)
	}
	return strings.NewReplacer("{redirectURL}", url.QueryEscape(q.RedirectURL), "{paymentURL}", url.QueryEscape(q.PaymentURL),
		"{planID}", url.QueryEscape(planID)).Replace(stored)
}
