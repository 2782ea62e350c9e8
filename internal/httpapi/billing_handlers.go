package httpapi

import (
	"context"
	"mime"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/aimg"
	"aimg/internal/billing"
)

// Premium Membership Management: plans, admin grants, cancelling, gift
// cards (docs/decisions.md "Premium tiers").

// BillingPlan is the spec's BillingPlan.
type BillingPlan struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Description  string           `json:"description,omitempty"`
	Features     []string         `json:"features"`
	MainBenefits []string         `json:"mainBenefits"`
	Prices       []aimg.PlanPrice `json:"prices"`
	Tier         int              `json:"tier"`
	Code         string           `json:"code,omitempty" doc:"Set on special plans, shown only with getBillingPlans?code=."`
	Env          string           `json:"env"`
}

func billingPlan(p aimg.BillingPlan) BillingPlan {
	return BillingPlan{ID: p.ID, Name: p.Name, Description: p.Description, Features: nonNil(p.Features),
		MainBenefits: nonNil(p.MainBenefits), Prices: p.Prices, Tier: p.Tier, Code: p.Code, Env: p.Env}
}

type getBillingPlansInput struct {
	Auth
	RedirectURL string `query:"redirectURL" doc:"Replaces {redirectURL} in a provider's stored paymentUrl (query-escaped)."`
	PaymentURL  string `query:"paymentURL" doc:"Replaces {paymentURL}; a provider without a stored paymentUrl gets paymentURL?planID=&paymentProvider=."`
	PlanIDs     string `query:"planIDs" doc:"Comma-separated plan ids to return (at most 100)."`
	Code        string `query:"code" doc:"Also return the special plans created with this code."`
}

func (s *Server) getBillingPlans(ctx context.Context, c aimg.Caller, in *getBillingPlansInput) (*Response[[]BillingPlan], error) {
	if !c.Admin {
		if err := s.Accounts.Allow(ctx, "getBillingPlans:ip", c.ClientIP); err != nil {
			return nil, err
		}
	}
	plans, err := s.Billing.Plans(ctx, c, billing.PlansQuery{PlanIDs: SplitCommaList(in.PlanIDs), Code: in.Code,
		RedirectURL: in.RedirectURL, PaymentURL: in.PaymentURL})
	if err != nil {
		return nil, err
	}
	out := make([]BillingPlan, len(plans))
	for i, p := range plans {
		out[i] = billingPlan(p)
	}
	return reply(out)
}

type createBillingPlanInput struct {
	Auth
	Body struct {
		Name         string           `json:"name" required:"true"`
		Description  string           `json:"description,omitempty"`
		Features     []string         `json:"features,omitempty"`
		MainBenefits []string         `json:"mainBenefits,omitempty"`
		Prices       []aimg.PlanPrice `json:"prices" required:"true"`
		Tier         int              `json:"tier" required:"true" doc:"1 to 9."`
		Env          string           `json:"env,omitempty"`
		Code         string           `json:"code,omitempty" doc:"Makes a special plan, shown only with getBillingPlans?code=<code>."`
	}
}

func (s *Server) createBillingPlan(ctx context.Context, c aimg.Caller, in *createBillingPlanInput) (*Response[BillingPlan], error) {
	b := in.Body
	p, err := s.Billing.CreatePlan(ctx, c, billing.PlanInput{Name: b.Name, Description: b.Description, Features: b.Features,
		MainBenefits: b.MainBenefits, Prices: b.Prices, Tier: b.Tier, Env: b.Env, Code: b.Code})
	if err != nil {
		return nil, err
	}
	return reply(billingPlan(*p))
}

type setAdminTierInput struct {
	Auth
	Body struct {
		ProductID             string   `json:"productId" required:"true"`
		Email                 string   `json:"email,omitempty"`
		Emails                []string `json:"emails,omitempty" doc:"At most 1,000."`
		Tier                  *int     `json:"tier" required:"true" doc:"1 to 9."`
		IsActive              *bool    `json:"isActive" required:"true"`
		DeactivationDate      string   `json:"deactivationDate,omitempty" doc:"ISO 8601. Active: the tier ends then. Inactive: the tier ends now, or then if later."`
		AdditionalInformation string   `json:"additionalInformation,omitempty"`
	}
}

// AdminTierPayload is setAdminProvidedPremiumTier's answer.
type AdminTierPayload struct {
	ID                    string   `json:"_id,omitempty"`
	Domain                string   `json:"domain"`
	PaymentProvider       string   `json:"paymentProvider"`
	ProductID             string   `json:"productId"`
	Email                 string   `json:"email,omitempty"`
	Emails                []string `json:"emails,omitempty"`
	Tier                  int      `json:"tier"`
	IsActive              bool     `json:"isActive"`
	CreatedDate           string   `json:"createdDate"`
	UpdatedDate           string   `json:"updatedDate"`
	DeactivationDate      *string  `json:"deactivationDate,omitempty"`
	Env                   string   `json:"env"`
	AdditionalInformation string   `json:"additionalInformation,omitempty"`
}

func (s *Server) setAdminProvidedPremiumTier(ctx context.Context, c aimg.Caller, in *setAdminTierInput) (*Response[AdminTierPayload], error) {
	b := in.Body
	grants, err := s.Billing.SetAdminTier(ctx, c, billing.AdminTier{ProductID: b.ProductID, Email: b.Email, Emails: b.Emails,
		Tier: b.Tier, IsActive: b.IsActive, DeactivationDate: b.DeactivationDate, AdditionalInformation: b.AdditionalInformation})
	if err != nil {
		return nil, err
	}
	g := grants[0]
	sub := g.Subscription
	out := AdminTierPayload{Domain: c.Domain, PaymentProvider: aimg.ProviderAdmin, ProductID: sub.ProductID, Tier: sub.Tier,
		IsActive: *b.IsActive, CreatedDate: isoTime(sub.CreatedAt), UpdatedDate: isoTime(sub.UpdatedAt),
		DeactivationDate: isoTimePtr(sub.ExpiresAt), Env: g.Env, AdditionalInformation: sub.AdditionalInformation}
	if len(b.Emails) == 0 {
		out.ID, out.Email = sub.ID, g.Email
	} else {
		for _, g := range grants {
			out.Emails = append(out.Emails, g.Email)
		}
	}
	return reply(out)
}

type payWithCardEmailInput struct {
	Auth
	Body struct {
		Email string `json:"email,omitempty" doc:"Mandatory when not signed in."`
	}
}

func (s *Server) payWithCardEmail(ctx context.Context, c aimg.Caller, in *payWithCardEmailInput) (*Response[Success], error) {
	if err := s.Accounts.Allow(ctx, "payWithCardEmail:ip", c.ClientIP); err != nil {
		return nil, err
	}
	to := strings.ToLower(strings.TrimSpace(in.Body.Email))
	if c.SignedIn() {
		to = c.User.Email
	}
	if to != "" {
		if err := s.Accounts.Allow(ctx, "payWithCardEmail:email", to); err != nil {
			return nil, err
		}
	}
	ok, err := s.Billing.PayWithCardEmail(ctx, c, in.Body.Email)
	if err != nil {
		return nil, err
	}
	if !ok {
		return reply(Success{Success: false, Message: "No billing plan has a payment link"})
	}
	return reply(Success{Success: true})
}

type redeemGiftCardInput struct {
	Auth
	Body struct {
		Code string `json:"code" doc:"Mandatory. The gift card code (case, dashes and spaces do not matter)."`
	}
}

// RedeemGiftCardPayload is redeemGiftCard's answer.
type RedeemGiftCardPayload struct {
	ProductID      string  `json:"productID"`
	Tier           int     `json:"tier"`
	TierExpiration *string `json:"tierExpiration"`
}

func (s *Server) redeemGiftCard(ctx context.Context, c aimg.Caller, in *redeemGiftCardInput) (*Response[RedeemGiftCardPayload], error) {
	// Guessing codes: every attempt takes a token per account and per
	// client address (docs/security.md "Gift cards").
	if err := s.Accounts.Allow(ctx, "redeemGiftCard:ip", c.ClientIP); err != nil {
		return nil, err
	}
	if c.User != nil {
		if err := s.Accounts.Allow(ctx, "redeemGiftCard:user", c.User.ID); err != nil {
			return nil, err
		}
	}
	r, err := s.Billing.RedeemGiftCard(ctx, c, in.Body.Code)
	if err != nil {
		return nil, err
	}
	return reply(RedeemGiftCardPayload{ProductID: r.ProductID, Tier: r.Tier, TierExpiration: isoTimePtr(r.TierExpiration)})
}

type downloadGiftCardsInput struct {
	Auth
	DistributionProvider  string  `query:"distributionProvider" doc:"g2a or giftcard (default)."`
	Tier                  int     `query:"tier" default:"1" doc:"1 to 9."`
	Days                  int     `query:"days" default:"30" doc:"1 to 3650."`
	NumberOfCards         int     `query:"numberOfCards" doc:"1 to 10,000; default 100, or one per external code."`
	USDPrice              float64 `query:"usdPrice" doc:"Default 0."`
	ExternalCodes         string  `query:"externalCodes" doc:"Comma-separated, one per card, written beside each code."`
	AdditionalInformation string  `query:"additionalInformation"`
}

const downloadGiftCardsDoc = "Creates numberOfCards new gift cards and downloads their codes as a text file, one card a line: " +
	"the code, then a tab and the external code when externalCodes was given. The codes are shown only here " +
	"(stored as SHA-256 hashes); download again to make more."

func (s *Server) downloadGiftCards(ctx context.Context, c aimg.Caller, in *downloadGiftCardsInput) (*huma.StreamResponse, error) {
	batch := billing.GiftCardBatch{Provider: in.DistributionProvider, Tier: &in.Tier, Days: &in.Days, USDPrice: &in.USDPrice,
		ExternalCodes: SplitCommaList(in.ExternalCodes), AdditionalInformation: in.AdditionalInformation}
	if in.NumberOfCards != 0 {
		batch.NumberOfCards = &in.NumberOfCards
	}
	cards, _, err := s.Billing.CreateGiftCards(ctx, c, batch)
	if err != nil {
		return nil, err
	}
	name := "giftcards-" + s.Now().UTC().Format("20060102T150405Z") + ".txt"
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, rw := humago.Unwrap(hctx)
		h := rw.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		var b strings.Builder
		for _, card := range cards {
			b.WriteString(card.Code)
			if card.ExternalCode != "" {
				b.WriteString("\t" + card.ExternalCode)
			}
			b.WriteString("\n")
		}
		_, _ = rw.Write([]byte(b.String()))
	}}, nil
}

// textResponse documents a 200 that is a text file, not an envelope.
func textResponse(_ *Server, op *huma.Operation) {
	op.Responses = map[string]*huma.Response{"200": {
		Description: "The text file.",
		Content:     map[string]*huma.MediaType{"text/plain": {Schema: &huma.Schema{Type: "string"}}},
	}}
}
