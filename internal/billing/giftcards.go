package billing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Gift card codes: 20 symbols of Crockford's base32 (100 bits from
// crypto/rand), shown in four groups of five: ABCDE-FGHJK-MNPQR-STVWX.
// Only the SHA-256 of the normalised code is stored (docs/security.md).
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeSymbols  = 20
	codeGroup    = 5
)

// Budgets of downloadGiftCards.
const (
	maxCardsPerDownload = 10000
	maxCardDays         = 3650
	maxExternalCode     = 200
)

// GiftCardBatch is downloadGiftCards' parameters (nil = the spec's default).
type GiftCardBatch struct {
	Provider              string
	Tier                  *int
	Days                  *int
	NumberOfCards         *int
	USDPrice              *float64
	ExternalCodes         []string
	AdditionalInformation string
}

// NewCard is one created gift card: the code is shown once, here.
type NewCard struct {
	Code         string
	ExternalCode string
}

// CreateGiftCards (admin) creates a batch of new gift cards and returns
// their codes; nothing can list them later.
func (s *Service) CreateGiftCards(ctx context.Context, c aimg.Caller, in GiftCardBatch) ([]NewCard, aimg.GiftCard, error) {
	if !c.Admin {
		return nil, aimg.GiftCard{}, aimg.ErrAdminRequired
	}
	tmpl := aimg.GiftCard{Domain: c.Domain, Provider: in.Provider, Tier: 1, Days: 30, AdditionalInformation: in.AdditionalInformation, CreatedAt: s.now()}
	if tmpl.Provider == "" {
		tmpl.Provider = aimg.ProviderGiftCard
	}
	if tmpl.Provider != aimg.ProviderGiftCard && tmpl.Provider != "g2a" {
		return nil, tmpl, aimg.Invalid("distributionProvider", "%s is not one of g2a, giftcard", aimg.Quote(tmpl.Provider))
	}
	if in.Tier != nil {
		tmpl.Tier = *in.Tier
	}
	if tmpl.Tier < 1 || tmpl.Tier > aimg.MaxTier {
		return nil, tmpl, aimg.Invalid("tier", "must be an integer from 1 to %d", aimg.MaxTier)
	}
	if in.Days != nil {
		tmpl.Days = *in.Days
	}
	if tmpl.Days < 1 || tmpl.Days > maxCardDays {
		return nil, tmpl, aimg.Invalid("days", "must be an integer from 1 to %d", maxCardDays)
	}
	if in.USDPrice != nil {
		tmpl.USDPrice = *in.USDPrice
	}
	if math.IsNaN(tmpl.USDPrice) || tmpl.USDPrice < 0 || tmpl.USDPrice > 1e9 {
		return nil, tmpl, aimg.Invalid("usdPrice", "must be a number from 0 to 1e9")
	}
	if len(in.AdditionalInformation) > maxTextBytes {
		return nil, tmpl, aimg.Invalid("additionalInformation", "must be at most %d bytes", maxTextBytes)
	}
	n := 100
	if in.NumberOfCards != nil {
		n = *in.NumberOfCards
	} else if len(in.ExternalCodes) > 0 {
		n = len(in.ExternalCodes)
	}
	if n < 1 || n > maxCardsPerDownload {
		return nil, tmpl, aimg.Invalid("numberOfCards", "must be an integer from 1 to %d", maxCardsPerDownload)
	}
	if len(in.ExternalCodes) > 0 && len(in.ExternalCodes) != n {
		return nil, tmpl, aimg.Invalid("externalCodes", "has %d codes; give one per card (numberOfCards is %d)", len(in.ExternalCodes), n)
	}
	for _, e := range in.ExternalCodes {
		if len(e) > maxExternalCode || strings.ContainsAny(e, "\r\n\t") {
			return nil, tmpl, aimg.Invalid("externalCodes", "each code must be at most %d bytes on one line", maxExternalCode)
		}
	}
	cards := make([]aimg.GiftCard, n)
	out := make([]NewCard, n)
	for i := range cards {
		code, err := newCode()
		if err != nil {
			return nil, tmpl, aimg.Internal(err)
		}
		cards[i] = tmpl
		cards[i].CodeHash = HashCode(c.Domain, code)
		out[i].Code = code
		if len(in.ExternalCodes) > 0 {
			cards[i].ExternalCode, out[i].ExternalCode = in.ExternalCodes[i], in.ExternalCodes[i]
		}
	}
	if err := s.store.CreateGiftCards(ctx, cards); err != nil {
		return nil, tmpl, err
	}
	s.log.InfoContext(ctx, "gift cards created", "count", n, "tier", tmpl.Tier, "days", tmpl.Days, "provider", tmpl.Provider)
	return out, tmpl, nil
}

// newCode draws a code: each symbol takes 5 bits of a random byte
// (256 is a multiple of 32, so the symbols are uniform).
func newCode() (string, error) {
	raw := make([]byte, codeSymbols)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%codeGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[r&31])
	}
	return b.String(), nil
}

// normalizeCode reads a code as a person may type it: case, dashes and
// spaces do not matter; O reads as 0 and I, L as 1 (Crockford). "" when it
// cannot be a code.
func normalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return ""
		}
		b.WriteRune(r)
		if b.Len() > codeSymbols {
			return ""
		}
	}
	if b.Len() != codeSymbols {
		return ""
	}
	return b.String()
}

// HashCode is what is stored of a code: SHA-256 over the domain and the
// normalised code (the code has 100 bits of entropy, so no slow hash is needed).
func HashCode(domain, code string) string {
	sum := sha256.Sum256([]byte("aimg giftcard v1\x00" + domain + "\x00" + normalizeCode(code)))
	return hex.EncodeToString(sum[:])
}

// Redemption is the outcome of RedeemGiftCard.
type Redemption struct {
	ProductID      string
	Tier           int
	TierExpiration *time.Time
}

// RedeemGiftCard gives the signed-in caller the gift card's tier for its
// days. A code is redeemed at most once. It is refused (409) while a live
// subscription of an equal or higher tier is not expiring (docs/decisions.md
// "Premium tiers"); a card of the same tier as an expiring subscription
// starts where that one ends, extending it.
func (s *Service) RedeemGiftCard(ctx context.Context, c aimg.Caller, code string) (*Redemption, error) {
	if !c.SignedIn() {
		return nil, aimg.ErrUnauthenticated
	}
	if strings.TrimSpace(code) == "" {
		return nil, aimg.Invalid("code", "is required")
	}
	norm := normalizeCode(code)
	if norm == "" {
		return nil, aimg.Invalid("code", "is not a gift card code (20 letters and digits, e.g. ABCDE-FGHJK-MNPQR-STVWX)")
	}
	now := s.now()
	hash := HashCode(c.Domain, norm)
	// The product id names the card without revealing any of its code.
	productID := "giftcard-" + hash[:16]
	g, err := s.store.RedeemGiftCard(ctx, c.Domain, hash, c.User.ID, now,
		func(card aimg.GiftCard, subs []aimg.Subscription) ([]aimg.Subscription, error) {
			start := now
			for _, sub := range subs {
				if !sub.Live(now) || sub.Tier < card.Tier {
					continue
				}
				if !sub.Expiring() {
					return nil, aimg.Errorf(aimg.CodeConflict, "You already have an active tier %d membership that does not expire; this gift card (tier %d) cannot be redeemed now", sub.Tier, card.Tier)
				}
				if sub.Tier == card.Tier && sub.ExpiresAt.After(start) {
					start = *sub.ExpiresAt
				}
			}
			end := start.Add(time.Duration(card.Days) * 24 * time.Hour)
			price := &aimg.PlanPrice{Type: "giftcard", Period: "none", Currency: "USD", CurrencyType: "fiat", Value: card.USDPrice}
			return []aimg.Subscription{{ID: uuid.NewString(), UserID: c.User.ID, Domain: c.Domain, Provider: card.Provider,
				ProductID: productID, Tier: card.Tier, Status: aimg.SubscriptionActive, ExpiresAt: &end,
				TransactionID: card.ExternalCode, AdditionalInformation: card.AdditionalInformation, Price: price,
				CreatedAt: now, UpdatedAt: now}}, nil
		})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "gift card redeemed", "user", c.User.ID, "tier", g.Subscription.Tier)
	return &Redemption{ProductID: productID, Tier: g.Subscription.Tier, TierExpiration: g.Subscription.ExpiresAt}, nil
}
