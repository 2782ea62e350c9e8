package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// maxGrantEmails bounds one setAdminProvidedPremiumTier call.
const maxGrantEmails = 1000

// AdminTier is setAdminProvidedPremiumTier's body.
type AdminTier struct {
	ProductID             string
	Email                 string
	Emails                []string
	Tier                  *int
	IsActive              *bool
	DeactivationDate      string // ISO 8601; "" = no end
	AdditionalInformation string
}

// AdminGrant is the state of one admin-provided tier after the call.
type AdminGrant struct {
	Subscription aimg.Subscription
	Email        string
	Env          string
}

// SetAdminTier (admin) activates or deactivates the admin-provided tier
// productID of each user named: one `admin` subscription per user and
// productID, updated in place. Every email must name a user of the domain
// (404 naming it), checked before anything is written.
func (s *Service) SetAdminTier(ctx context.Context, c aimg.Caller, in AdminTier) ([]AdminGrant, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	in.ProductID = strings.TrimSpace(in.ProductID)
	switch {
	case in.ProductID == "":
		return nil, aimg.Invalid("productId", "is required")
	case len(in.ProductID) > maxNameBytes:
		return nil, aimg.Invalid("productId", "must be at most %d bytes", maxNameBytes)
	case in.Tier == nil:
		return nil, aimg.Invalid("tier", "is required")
	case *in.Tier < 1 || *in.Tier > aimg.MaxTier:
		return nil, aimg.Invalid("tier", "must be an integer from 1 to %d", aimg.MaxTier)
	case in.IsActive == nil:
		return nil, aimg.Invalid("isActive", "is required")
	case len(in.AdditionalInformation) > maxTextBytes:
		return nil, aimg.Invalid("additionalInformation", "must be at most %d bytes", maxTextBytes)
	case in.Email == "" && len(in.Emails) == 0:
		return nil, aimg.Invalid("email", "at least one of email and emails is required")
	case len(in.Emails) > maxGrantEmails:
		return nil, aimg.Invalid("emails", "must have at most %d entries", maxGrantEmails)
	}
	now := s.now()
	var until *time.Time
	if in.DeactivationDate != "" {
		t, err := time.Parse(time.RFC3339Nano, in.DeactivationDate)
		if err != nil {
			if t, err = time.Parse("2006-01-02", in.DeactivationDate); err != nil {
				return nil, aimg.Invalid("deactivationDate", "must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z")
			}
		}
		t = t.UTC()
		if *in.IsActive && !t.After(now) {
			return nil, aimg.Invalid("deactivationDate", "must be in the future when isActive is true")
		}
		until = &t
	}
	emails := in.Emails
	if in.Email != "" {
		emails = append([]string{in.Email}, emails...)
	}
	users := make([]*aimg.User, 0, len(emails))
	seen := map[string]bool{}
	for i, e := range emails {
		field := "emails"
		if in.Email != "" && i == 0 {
			field = "email"
		}
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || len(e) > 320 || !strings.Contains(e, "@") {
			return nil, aimg.Invalid(field, "%s is not an email address", aimg.Quote(e))
		}
		if seen[e] {
			continue
		}
		seen[e] = true
		u, err := s.store.UserByEmail(ctx, c.Domain, e)
		if aimg.IsNotFound(err) || (err == nil && u.Deleted()) {
			return nil, &aimg.Error{Code: aimg.CodeNotFound, Field: field, Message: fmt.Sprintf("%s: no User has the email %s", field, aimg.Quote(e))}
		}
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	out := make([]AdminGrant, 0, len(users))
	for _, u := range users {
		g, err := s.store.ChangeSubscriptions(ctx, u.ID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
			var sub aimg.Subscription
			for _, old := range subs {
				if old.Provider == aimg.ProviderAdmin && old.ProductID == in.ProductID {
					sub = old
				}
			}
			if sub.ID == "" {
				sub = aimg.Subscription{ID: uuid.NewString(), UserID: u.ID, Domain: c.Domain, Provider: aimg.ProviderAdmin,
					ProductID: in.ProductID, CreatedAt: now}
			}
			sub.Tier, sub.AdditionalInformation, sub.UpdatedAt, sub.NextBillingAt = *in.Tier, in.AdditionalInformation, now, nil
			if *in.IsActive {
				sub.Status, sub.ExpiresAt = aimg.SubscriptionActive, until
			} else {
				// Deactivated now, or at deactivationDate when it is later.
				end := now
				if until != nil && until.After(now) {
					end = *until
				}
				sub.Status, sub.ExpiresAt = aimg.SubscriptionCancelled, &end
				if !end.After(now) {
					sub.Status = aimg.SubscriptionExpired
				}
			}
			return []aimg.Subscription{sub}, nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, AdminGrant{Subscription: g.Subscription, Email: u.Email, Env: s.cfg.Service.Environment})
	}
	s.log.InfoContext(ctx, "admin-provided tier set", "product", in.ProductID, "tier", *in.Tier, "active", *in.IsActive, "users", len(out))
	return out, nil
}

// Cancellation is cancelMembership's answer; PortalURL, when set, is the
// page of the provider where the user cancels (Stripe's customer portal).
type Cancellation struct {
	Success   bool
	Message   string
	PortalURL string
}

// CancelMembership stops the caller's renewing subscriptions: for the
// providers AIMG runs itself, and for arkpay (asked to cancel), the
// subscription stops renewing and its tier stays until the end of the paid
// period (the next billing date). A Stripe subscriber gets the customer
// portal's link, where the cancellation is made (its webhook then ends the
// renewal). For any other provider the instructions are emailed.
func (s *Service) CancelMembership(ctx context.Context, c aimg.Caller, returnURL string) (Cancellation, error) {
	if !c.SignedIn() {
		return Cancellation{}, aimg.ErrUnauthenticated
	}
	if returnURL != "" {
		if err := checkURL("returnURL", returnURL); err != nil {
			return Cancellation{}, err
		}
	} else {
		returnURL = s.cfg.PublicURL + "/"
	}
	now := s.now()
	subs, err := s.store.UserSubscriptions(ctx, c.User.ID)
	if err != nil {
		return Cancellation{}, err
	}
	// The processor is asked first, outside the transaction; ends holds the
	// end it gives each arkpay subscription.
	ends := map[string]time.Time{}
	var out Cancellation
	var external []aimg.Subscription
	var askErr error
	for _, sub := range subs {
		if !renewing(sub, now) {
			continue
		}
		switch {
		case sub.Provider == ProviderArkpay && s.providers.Arkpay != nil && sub.TransactionID != "":
			if askErr != nil {
				continue
			}
			end, err := s.providers.Arkpay.Cancel(ctx, sub.TransactionID)
			if err != nil {
				askErr = err // record those cancelled so far, then say so
				continue
			}
			if end.IsZero() && sub.NextBillingAt != nil {
				end = *sub.NextBillingAt
			}
			ends[sub.ID] = end
		case sub.Provider == ProviderStripe && s.providers.Stripe != nil && sub.PayerID != "":
			if out.PortalURL != "" {
				continue // one portal shows all of the customer's subscriptions
			}
			u, err := s.providers.Stripe.PortalURL(ctx, sub.PayerID, returnURL)
			if err != nil {
				s.log.Warn("stripe portal failed", "user", c.User.ID, "err", err)
				return Cancellation{}, errStripeDown
			}
			out.PortalURL = u
		case !internalProvider(sub.Provider):
			external = append(external, sub)
		}
	}
	cancelled := 0
	_, err = s.store.ChangeSubscriptions(ctx, c.User.ID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
		var changed []aimg.Subscription
		for _, sub := range subs {
			end, asked := ends[sub.ID]
			if !renewing(sub, now) || !(asked || internalProvider(sub.Provider)) {
				continue
			}
			if !asked {
				end = *sub.NextBillingAt
			}
			sub.Status, sub.ExpiresAt, sub.NextBillingAt, sub.UpdatedAt = aimg.SubscriptionCancelled, &end, nil, now
			changed = append(changed, sub)
		}
		cancelled = len(changed)
		return changed, nil
	})
	if err != nil {
		return Cancellation{}, err
	}
	if askErr != nil {
		return Cancellation{}, askErr
	}
	switch {
	case len(external) > 0:
		if err := s.mail.Send(ctx, cancelInstructions(c.User.Email, s.domainName(c.Domain), external)); err != nil {
			return Cancellation{}, aimg.Errorf(aimg.CodeUnavailable, "The email with the instructions could not be sent; try again later")
		}
		out.Success, out.Message = true, "The instructions to cancel your membership were sent to your email"
	case out.PortalURL != "":
		out.Success, out.Message = true, "Cancel your Stripe subscription on the page at portalURL; your tier stays until the end of the current period"
	case cancelled > 0:
		out.Success, out.Message = true, "Your membership will not renew; your tier stays until the end of the current period"
	default:
		out.Message = "You have no renewing membership to cancel; your tier (if any) ends at its expiration date"
	}
	return out, nil
}

// renewing tells whether sub is live and will renew.
func renewing(sub aimg.Subscription, now time.Time) bool {
	return sub.Live(now) && sub.Status == aimg.SubscriptionActive && sub.NextBillingAt != nil
}

var errStripeDown = aimg.Errorf(aimg.CodeUnavailable, "Stripe is not available; try again later")

func internalProvider(p string) bool {
	return p == aimg.ProviderAdmin || p == aimg.ProviderGiftCard || p == aimg.ProviderWhitelist
}

func cancelInstructions(to, site string, subs []aimg.Subscription) aimg.Email {
	var b strings.Builder
	fmt.Fprintf(&b, "You asked to cancel your %s membership.\n\n", site)
	b.WriteString("These subscriptions are billed by a payment provider; cancel them there:\n\n")
	for _, sub := range subs {
		fmt.Fprintf(&b, "- %s (product %s, tier %d)", sub.Provider, sub.ProductID, sub.Tier)
		if sub.NextBillingAt != nil {
			fmt.Fprintf(&b, ", next billing %s", sub.NextBillingAt.UTC().Format(time.DateOnly))
		}
		b.WriteString(": sign in to your account with that provider and cancel the recurring payment.\n")
	}
	b.WriteString("\nYour tier stays until the end of the period you paid for.\n")
	return aimg.Email{To: to, Subject: site + ": how to cancel your membership", Text: b.String()}
}

// PayWithCardEmail emails the payment links of the domain's plans to the
// caller's email, or to email when the caller is not signed in. It says
// false when no plan has a payment link.
func (s *Service) PayWithCardEmail(ctx context.Context, c aimg.Caller, email string) (bool, error) {
	to := strings.ToLower(strings.TrimSpace(email))
	if c.SignedIn() && c.User.Email != "" {
		to = c.User.Email
	}
	if to == "" {
		return false, aimg.Invalid("email", "is required when not signed in")
	}
	if len(to) > 320 || !strings.Contains(to, "@") || strings.ContainsAny(to, " \r\n<>,") {
		return false, aimg.Invalid("email", "is not an email address")
	}
	plans, err := s.store.Plans(ctx, c.Domain, "")
	if err != nil {
		return false, err
	}
	site := s.domainName(c.Domain)
	var b strings.Builder
	fmt.Fprintf(&b, "Pay for your %s membership with your card:\n\n", site)
	links := 0
	for _, p := range plans {
		for _, pr := range p.Prices {
			for _, pp := range pr.PaymentProviders {
				u := paymentURL(pp.PaymentURL, p.ID, pp.PaymentProvider, PlansQuery{})
				if u == "" || strings.ContainsAny(u, "{}") {
					continue
				}
				fmt.Fprintf(&b, "- %s (%s %s, %g %s): %s\n", p.Name, pr.Type, pr.Period, pr.Value, pr.Currency, u)
				links++
			}
		}
	}
	if links == 0 {
		return false, nil
	}
	if err := s.mail.Send(ctx, aimg.Email{To: to, Subject: site + ": pay for your membership", Text: b.String()}); err != nil {
		return false, aimg.Errorf(aimg.CodeUnavailable, "The email could not be sent; try again later")
	}
	return true, nil
}
