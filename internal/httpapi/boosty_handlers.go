package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/billing"
)

// Boosty (docs/payments.md "Boosty"): the Admin injects the blog owner's
// cookies; a signed-in user claims their Boosty subscription.

type injectBoostyCookiesInput struct {
	Auth
	Body struct {
		AccountID        string `json:"accountId" required:"true" doc:"The blog name in the Boosty URL (boosty.to/<accountId>)."`
		DomainIdentifier string `json:"domainIdentifier,omitempty" doc:"The domain (id or host) to inject for; default the current one."`
		Cookies          []any  `json:"cookies" required:"true" doc:"The cookies of boosty.to exported from a signed-in browser (EditThisCookie / Cookie-Editor JSON): objects with name, value, domain, …; the auth cookie is required. At most 200 cookies, 64 KiB. Stored encrypted, used for 7 days, never returned."`
	}
}

func (s *Server) injectBoostyAdminAccountCookies(ctx context.Context, c aimg.Caller, in *injectBoostyCookiesInput) (*Response[Success], error) {
	if s.Boosty == nil {
		return nil, aimg.Errorf(aimg.CodeUnavailable, "The Boosty integration is not configured")
	}
	b := in.Body
	if err := s.Boosty.InjectCookies(ctx, c, billing.BoostyCookies{AccountID: b.AccountID,
		DomainIdentifier: b.DomainIdentifier, Cookies: b.Cookies}); err != nil {
		return nil, err
	}
	return reply(Success{Success: true})
}

type checkBoostyInput struct {
	Auth
	Body *struct {
		BoostyEmail string `json:"boostyEmail,omitempty" doc:"The email of the Boosty account; default the current User's email."`
		BoostyName  string `json:"boostyName,omitempty" doc:"The name of the Boosty account, when it has no email."`
		BoostyCode  string `json:"boostyCode,omitempty" doc:"The confirmation code AIMG emailed to the Boosty account's email when it is not the User's."`
	}
}

// BoostyCheckPayload is checkBoostySubscription's answer.
type BoostyCheckPayload struct {
	Success        bool    `json:"success"`
	Message        string  `json:"message,omitempty"`
	ProductID      string  `json:"productID,omitempty" doc:"The Billing Plan the Boosty level maps to."`
	Tier           int     `json:"tier"`
	TierExpiration *string `json:"tierExpiration"`
}

const checkBoostyDoc = "Looks the current User up among the subscribers of this domain's Boosty blog (by boostyEmail, " +
	"boostyName or the User's email) and, when subscribed to a level a Billing Plan sells " +
	"(paymentProvider boosty, externalId = the level id), gives the plan's tier until Boosty's next payment date. " +
	"A Boosty account whose email is not the User's is confirmed with a code AIMG emails to it (success false, then call again with boostyCode). " +
	"success false: no such subscription. 409: another User claimed this Boosty subscriber. " +
	"503: the integration is unavailable (no or expired cookies, Boosty refusing or failing)."

func (s *Server) checkBoostySubscription(ctx context.Context, c aimg.Caller, in *checkBoostyInput) (*Response[BoostyCheckPayload], error) {
	if err := s.Accounts.Allow(ctx, "checkBoostySubscription:user", c.User.ID); err != nil {
		return nil, err
	}
	if s.Boosty == nil {
		return nil, aimg.Errorf(aimg.CodeUnavailable, "The Boosty integration is not configured")
	}
	var q billing.BoostyCheck
	if in.Body != nil {
		q = billing.BoostyCheck{Email: in.Body.BoostyEmail, Name: in.Body.BoostyName, Code: in.Body.BoostyCode}
	}
	r, err := s.Boosty.Check(ctx, c, q)
	if err != nil {
		return nil, err
	}
	out := BoostyCheckPayload{Success: r.Success, Message: r.Message}
	if r.Success {
		out.ProductID, out.Tier, out.TierExpiration = r.Plan.ID, r.Grant.Tier, isoTimePtr(r.Grant.Expiration)
	} else if c.User != nil {
		out.Tier = c.User.EffectiveTier(s.Now())
		out.TierExpiration = isoTimePtr(c.User.TierExpiration)
	}
	return reply(out)
}

// boostyConnections are the Boosty subscribers the user claimed, as the
// admin getUser's connectProviders.
func (s *Server) boostyConnections(ctx context.Context, userID string) ([]LoginProvider, error) {
	if s.Boosty == nil {
		return nil, nil
	}
	claims, err := s.Boosty.Claims(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]LoginProvider, 0, len(claims))
	for _, cl := range claims {
		out = append(out, LoginProvider{ProviderType: "oauth", ProviderID: "Boosty", UserID: cl.BoostyUserID})
	}
	return out, nil
}
