package billing

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

// Boosty (docs/payments.md "Boosty"): an Admin injects the blog owner's
// browser cookies (sealed at rest, used for 7 days, never returned); a
// signed-in user claims their Boosty subscription, which AIMG finds in the
// blog's subscriber list and maps to a Billing Plan through the plan
// price's {"paymentProvider":"boosty","externalId":"<level id>"}.

// Budgets of injectBoostyAdminAccountCookies (docs/security.md "Boosty").
const (
	maxBoostyCookies      = 200
	maxBoostyCookiesBytes = 64 << 10
	maxBoostyTokenBytes   = 4096
	maxBoostyNameBytes    = 200
)

var boostyAccountID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// BoostyStore is the persistence the Boosty use cases need; *store.Store has it.
type BoostyStore interface {
	Plans(ctx context.Context, domain, code string) ([]aimg.BillingPlan, error)
	PutBoostyAccount(ctx context.Context, a aimg.BoostyAccount) error
	BoostyAccount(ctx context.Context, domain string) (*aimg.BoostyAccount, error)
	ClaimBoostySubscriber(ctx context.Context, domain, boostyUserID, userID string, now time.Time,
		fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error)
	BoostyClaims(ctx context.Context, userID string) ([]aimg.BoostyClaim, error)
	BoostyClaimOwner(ctx context.Context, domain, boostyUserID string) (string, error)
}

// BoostyFinder looks a subscriber of blog up with the owner's access
// token; nil, nil when there is none. A refused token is
// aimg.ErrBoostyTokenRefused. *boosty.Client has it.
type BoostyFinder interface {
	FindSubscriber(ctx context.Context, accessToken, blog string, q aimg.BoostyQuery) (*aimg.BoostySubscriber, error)
}

// Boosty implements the Boosty use cases.
type Boosty struct {
	store   BoostyStore
	finder  BoostyFinder
	key     []byte // the cookie-sealing key, derived from the secrets key; nil = cannot store cookies
	codeKey []byte // the key of the claim confirmation codes, derived from the secrets key
	domains []config.Domain
	mail    Sender
	log     *slog.Logger
	now     func() time.Time
}

// NewBoosty builds the Boosty use cases; secretsKey is AIMG_SECRETS_KEY's
// 32 bytes (nil: cookies cannot be stored, 503).
func NewBoosty(st BoostyStore, finder BoostyFinder, secretsKey []byte, cfg config.Config, sender Sender, log *slog.Logger, now func() time.Time) *Boosty {
	b := &Boosty{store: st, finder: finder, domains: cfg.Service.Domains, mail: sender, log: log, now: now}
	if len(secretsKey) == 32 {
		// A key of its own per purpose: the secrets key may seal other things later.
		derive := func(purpose string) []byte {
			m := hmac.New(sha256.New, secretsKey)
			m.Write([]byte(purpose))
			return m.Sum(nil)
		}
		b.key, b.codeKey = derive("aimg boosty cookies v1"), derive("aimg boosty claim codes v1")
	}
	return b
}

// BoostyCookies is injectBoostyAdminAccountCookies' body.
type BoostyCookies struct {
	AccountID        string
	DomainIdentifier string
	Cookies          []any
}

// InjectCookies (admin) checks and seals the blog owner's cookies and
// stores them for the domain, replacing those injected before; they are
// used until 7 days after now.
func (b *Boosty) InjectCookies(ctx context.Context, c aimg.Caller, in BoostyCookies) error {
	if !c.Admin {
		return aimg.ErrAdminRequired
	}
	in.AccountID = strings.TrimSpace(in.AccountID)
	if !boostyAccountID.MatchString(in.AccountID) {
		return aimg.Invalid("accountId", "must be the blog name of the Boosty URL (boosty.to/<accountId>): "+
			"1 to 64 letters, digits, '_', '.' or '-'")
	}
	domain := c.Domain
	if d := strings.TrimSpace(in.DomainIdentifier); d != "" {
		var ok bool
		if domain, ok = b.resolveDomain(d); !ok {
			return aimg.Invalid("domainIdentifier", "%s is not a domain of this service", aimg.Quote(d))
		}
	}
	now := b.now()
	plain, err := checkBoostyCookies(in.Cookies, now)
	if err != nil {
		return err
	}
	if b.key == nil {
		return aimg.Errorf(aimg.CodeUnavailable, "Boosty cookies cannot be stored: AIMG_SECRETS_KEY is not set")
	}
	sealed, err := b.seal(plain, domain, in.AccountID)
	if err != nil {
		return err
	}
	if err := b.store.PutBoostyAccount(ctx, aimg.BoostyAccount{Domain: domain, AccountID: in.AccountID,
		SealedCookies: sealed, CreatedAt: now, ExpiresAt: now.Add(aimg.BoostyCookieTTL)}); err != nil {
		return err
	}
	b.log.InfoContext(ctx, "boosty cookies injected", "domain", domain, "account", in.AccountID, "cookies", len(in.Cookies))
	return nil
}

func (b *Boosty) resolveDomain(id string) (string, bool) {
	for _, d := range b.domains {
		if strings.EqualFold(d.ID, id) {
			return d.ID, true
		}
		for _, h := range d.Hosts {
			if strings.EqualFold(h, id) {
				return d.ID, true
			}
		}
	}
	return "", false
}

// checkBoostyCookies validates the exported cookies (a non-empty array of
// objects with string name and value, within the budgets, with Boosty's
// `auth` cookie holding an unexpired access token) and returns them as
// JSON, the plain text that is sealed.
func checkBoostyCookies(cookies []any, now time.Time) ([]byte, error) {
	if len(cookies) == 0 {
		return nil, aimg.Invalid("cookies", "must be a non-empty array of the cookies exported from the browser (JSON)")
	}
	if len(cookies) > maxBoostyCookies {
		return nil, aimg.Invalid("cookies", "must have at most %d cookies", maxBoostyCookies)
	}
	for i, v := range cookies {
		m, ok := v.(map[string]any)
		name, nameOK := m["name"].(string)
		_, valueOK := m["value"].(string)
		if !ok || !nameOK || name == "" || !valueOK {
			return nil, aimg.Invalid("cookies", "cookies[%d] must be an object with the string fields name and value", i)
		}
	}
	plain, err := json.Marshal(cookies)
	if err != nil {
		return nil, aimg.Invalid("cookies", "must be JSON objects")
	}
	if len(plain) > maxBoostyCookiesBytes {
		return nil, aimg.Invalid("cookies", "must be at most %d bytes of JSON", maxBoostyCookiesBytes)
	}
	tok, err := boostyAccessToken(cookies)
	if err != nil {
		return nil, err
	}
	if tok.expiresAt != nil && !tok.expiresAt.After(now) {
		return nil, aimg.Invalid("cookies", "the access token of the auth cookie expired at %s; sign in to Boosty again and export the cookies anew",
			tok.expiresAt.UTC().Format(time.RFC3339))
	}
	return plain, nil
}

type boostyToken struct {
	access    string
	expiresAt *time.Time
}

// boostyAccessToken reads Boosty's `auth` cookie: URL-encoded JSON
// {"accessToken":…, "refreshToken":…, "expiresAt": <Unix ms>}. Several
// cookies named auth: the one of boosty.to wins.
func boostyAccessToken(cookies []any) (boostyToken, error) {
	var value string
	found := false
	for _, v := range cookies {
		m, _ := v.(map[string]any)
		if name, _ := m["name"].(string); name != "auth" {
			continue
		}
		dom, _ := m["domain"].(string)
		if !found || strings.HasSuffix(strings.ToLower(dom), "boosty.to") {
			value, _ = m["value"].(string)
			found = true
		}
	}
	if !found {
		return boostyToken{}, aimg.Invalid("cookies", "must include Boosty's cookie named auth (it holds the access token); "+
			"export every cookie of boosty.to while signed in")
	}
	if u, err := url.PathUnescape(value); err == nil {
		value = u
	}
	var auth struct {
		AccessToken string          `json:"accessToken"`
		ExpiresAt   json.RawMessage `json:"expiresAt"`
	}
	if err := json.Unmarshal([]byte(value), &auth); err != nil || strings.TrimSpace(auth.AccessToken) == "" {
		return boostyToken{}, aimg.Invalid("cookies", "the auth cookie must hold Boosty's URL-encoded JSON with an accessToken")
	}
	if len(auth.AccessToken) > maxBoostyTokenBytes || strings.ContainsAny(auth.AccessToken, "\r\n\x00 ") {
		return boostyToken{}, aimg.Invalid("cookies", "the auth cookie's accessToken is not a token")
	}
	tok := boostyToken{access: auth.AccessToken}
	var ms float64
	if json.Unmarshal(auth.ExpiresAt, &ms) == nil && ms > 0 {
		if ms < 1e11 { // seconds
			ms *= 1000
		}
		t := time.UnixMilli(int64(ms)).UTC()
		tok.expiresAt = &t
	}
	return tok, nil
}

func boostyAAD(domain, accountID string) []byte {
	return []byte("aimg boosty v1\x00" + domain + "\x00" + accountID)
}

// seal is AES-256-GCM with a random nonce: nonce || ciphertext || tag.
func (b *Boosty) seal(plain []byte, domain, accountID string) ([]byte, error) {
	gcm, err := b.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, boostyAAD(domain, accountID)), nil
}

func (b *Boosty) open(sealed []byte, domain, accountID string) ([]byte, error) {
	if b.key == nil {
		return nil, errors.New("no secrets key")
	}
	gcm, err := b.gcm()
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize()+gcm.Overhead() {
		return nil, errors.New("sealed cookies too short")
	}
	n := gcm.NonceSize()
	return gcm.Open(nil, sealed[:n], sealed[n:], boostyAAD(domain, accountID))
}

func (b *Boosty) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(b.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// BoostyCheck is checkBoostySubscription's body: whom to look for in the
// blog's subscriber list (default: the caller's email).
type BoostyCheck struct {
	Email string
	Name  string
	Code  string // the confirmation code emailed to the Boosty account's email
}

// BoostyResult is what a check found.
type BoostyResult struct {
	Success bool
	Message string
	Plan    *aimg.BillingPlan
	Grant   aimg.TierGrant
}

// unavailable is the 503 that tells the user the integration cannot be used now.
func boostyUnavailable(why string) error {
	return aimg.Errorf(aimg.CodeUnavailable, "The Boosty integration is unavailable: %s", why)
}

// Check finds the caller's subscription in the domain's Boosty blog and,
// when it is to a level a Billing Plan maps, writes the caller's `boosty`
// subscription (tier of the plan, until Boosty's next payment date). One
// Boosty subscriber is claimed by one AIMG user (409 for anyone else).
func (b *Boosty) Check(ctx context.Context, c aimg.Caller, in BoostyCheck) (BoostyResult, error) {
	if !c.SignedIn() {
		return BoostyResult{}, aimg.ErrUnauthenticated
	}
	q := aimg.BoostyQuery{Email: strings.ToLower(strings.TrimSpace(in.Email)), Name: strings.TrimSpace(in.Name)}
	switch {
	case len(q.Email) > 320 || (q.Email != "" && !strings.Contains(q.Email, "@")):
		return BoostyResult{}, aimg.Invalid("boostyEmail", "is not an email address")
	case len(q.Name) > maxBoostyNameBytes:
		return BoostyResult{}, aimg.Invalid("boostyName", "must be at most %d bytes", maxBoostyNameBytes)
	case q.Email == "" && q.Name == "":
		q.Email = strings.ToLower(c.User.Email)
		if q.Email == "" {
			return BoostyResult{}, aimg.Invalid("boostyEmail", "is required: your account has no email")
		}
	}
	now := b.now()
	acct, err := b.store.BoostyAccount(ctx, c.Domain)
	if aimg.IsNotFound(err) {
		return BoostyResult{}, boostyUnavailable("an Admin must inject the Boosty account cookies (injectBoostyAdminAccountCookies)")
	}
	if err != nil {
		return BoostyResult{}, err
	}
	if !acct.ExpiresAt.After(now) {
		return BoostyResult{}, boostyUnavailable("the Boosty account cookies expired; an Admin must inject new ones")
	}
	plain, err := b.open(acct.SealedCookies, acct.Domain, acct.AccountID)
	var cookies []any
	if err == nil {
		err = json.Unmarshal(plain, &cookies)
	}
	var tok boostyToken
	if err == nil {
		tok, err = boostyAccessToken(cookies)
	}
	if err != nil {
		b.log.WarnContext(ctx, "boosty cookies cannot be opened (was AIMG_SECRETS_KEY changed?)", "domain", acct.Domain)
		return BoostyResult{}, boostyUnavailable("the stored Boosty cookies cannot be read; an Admin must inject new ones")
	}
	if tok.expiresAt != nil && !tok.expiresAt.After(now) {
		return BoostyResult{}, boostyUnavailable("the Boosty access token expired; an Admin must inject new cookies")
	}

	plans, err := b.store.Plans(ctx, c.Domain, "")
	if err != nil {
		return BoostyResult{}, err
	}
	levels := boostyLevels(plans)
	if len(levels) == 0 {
		return BoostyResult{Message: "No Billing Plan of this site is sold through Boosty"}, nil
	}
	for id := range levels {
		q.LevelIDs = append(q.LevelIDs, id)
	}
	slices.Sort(q.LevelIDs)
	sub, err := b.finder.FindSubscriber(ctx, tok.access, acct.AccountID, q)
	if errors.Is(err, aimg.ErrBoostyTokenRefused) {
		b.log.WarnContext(ctx, "boosty refused the injected token", "domain", acct.Domain, "account", acct.AccountID)
		return BoostyResult{}, boostyUnavailable("Boosty refused the injected cookies; an Admin must inject new ones")
	}
	if err != nil {
		b.log.WarnContext(ctx, "boosty subscriber lookup failed", "domain", acct.Domain, "err", err)
		return BoostyResult{}, boostyUnavailable("Boosty did not answer as expected; try again later")
	}
	who := q.Email
	if who == "" {
		who = q.Name
	}
	notFound := BoostyResult{Message: fmt.Sprintf("No active Boosty subscription of boosty.to/%s to a plan of this site was found for %s",
		acct.AccountID, who)}
	if sub == nil || !sub.Subscribed || sub.BlackListed {
		return notFound, nil
	}
	if strings.TrimSpace(sub.UserID) == "" {
		b.log.WarnContext(ctx, "boosty subscriber without an id", "domain", acct.Domain)
		return BoostyResult{}, boostyUnavailable("Boosty did not answer as expected; try again later")
	}
	lv, ok := levels[sub.LevelID]
	if !ok {
		return notFound, nil
	}
	// Someone else's already: 409 before anything is emailed.
	if owner, err := b.store.BoostyClaimOwner(ctx, c.Domain, sub.UserID); err != nil {
		return BoostyResult{}, err
	} else if owner != "" && owner != c.User.ID {
		return BoostyResult{}, aimg.Errorf(aimg.CodeConflict, "This Boosty subscription was already claimed by another account")
	}
	// The list cannot tell who the caller is: a Boosty account whose email
	// is not the caller's is claimed with a code sent to that email.
	if sub.Email != "" && !strings.EqualFold(strings.TrimSpace(sub.Email), c.User.Email) {
		if strings.TrimSpace(in.Code) == "" {
			if err := b.sendCode(ctx, c, sub, acct.AccountID, now); err != nil {
				return BoostyResult{}, err
			}
			return BoostyResult{Message: "This Boosty account has another email than yours: a confirmation code was sent to it; " +
				"call again with boostyCode"}, nil
		}
		if !b.codeOK(in.Code, c.Domain, c.User.ID, sub.UserID, now) {
			return BoostyResult{}, aimg.Invalid("boostyCode", "is not the code sent to the Boosty account's email, or it expired")
		}
	}
	expires, next := now.AddDate(0, 1, 0), (*time.Time)(nil)
	if sub.NextPayTime != nil && sub.NextPayTime.After(now) {
		t := *sub.NextPayTime
		expires, next = t, &t
	}
	g, err := b.store.ClaimBoostySubscriber(ctx, c.Domain, sub.UserID, c.User.ID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
		var s aimg.Subscription
		for _, old := range subs {
			if old.Provider == aimg.ProviderBoosty && old.PayerID == sub.UserID {
				s = old
			}
		}
		if s.ID == "" {
			s = aimg.Subscription{ID: uuid.NewString(), UserID: c.User.ID, Domain: c.Domain, Provider: aimg.ProviderBoosty, CreatedAt: now}
		}
		price := lv.price
		s.ProductID, s.Tier, s.Status, s.ExpiresAt, s.NextBillingAt = lv.plan.ID, lv.plan.Tier, aimg.SubscriptionActive, &expires, next
		s.PayerID, s.TransactionID, s.Price, s.UpdatedAt = sub.UserID, acct.AccountID+":"+sub.UserID+":"+sub.LevelID, &price, now
		s.AdditionalInformation = fmt.Sprintf("Boosty blog %s, level %s (%s)", acct.AccountID, sub.LevelID, sub.LevelName)
		return []aimg.Subscription{s}, nil
	})
	if err != nil {
		return BoostyResult{}, err
	}
	b.log.InfoContext(ctx, "boosty subscription claimed", "domain", c.Domain, "boosty_user", sub.UserID,
		"level", sub.LevelID, "plan", lv.plan.ID, "tier", lv.plan.Tier)
	plan := lv.plan
	return BoostyResult{Success: true, Plan: &plan, Grant: g}, nil
}

// claimCode is the confirmation code of userID claiming boostyUserID in
// the day window w: 8 digits of HMAC-SHA256 under the code key. Codes are
// stateless; one works in its day and the next (24 to 48 hours).
func (b *Boosty) claimCode(domain, userID, boostyUserID string, w int64) string {
	m := hmac.New(sha256.New, b.codeKey)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%d", domain, userID, boostyUserID, w)
	sum := m.Sum(nil)
	n := (uint64(sum[0])<<24 | uint64(sum[1])<<16 | uint64(sum[2])<<8 | uint64(sum[3])) % 100_000_000
	return fmt.Sprintf("%08d", n)
}

func (b *Boosty) codeOK(code, domain, userID, boostyUserID string, now time.Time) bool {
	if b.codeKey == nil {
		return false
	}
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	w := now.Unix() / 86400
	ok := false
	for _, win := range []int64{w, w - 1} {
		ok = hmac.Equal([]byte(code), []byte(b.claimCode(domain, userID, boostyUserID, win))) || ok
	}
	return ok
}

func (b *Boosty) sendCode(ctx context.Context, c aimg.Caller, sub *aimg.BoostySubscriber, blog string, now time.Time) error {
	if b.codeKey == nil || b.mail == nil {
		return boostyUnavailable("confirmation codes cannot be sent")
	}
	site := "AIMG"
	for _, d := range b.domains {
		if d.ID == c.Domain && d.DisplayName != "" {
			site = d.DisplayName
		}
	}
	code := b.claimCode(c.Domain, c.User.ID, sub.UserID, now.Unix()/86400)
	// The requester's email is not shown: it may be someone else's account.
	text := fmt.Sprintf("Someone signed in to %s asked to use your Boosty subscription to boosty.to/%s there.\n\n"+
		"If it was you, enter this code (valid for 24 hours): %s\n\nIf it was not you, ignore this email; "+
		"nothing changes without the code.\n", site, blog, code)
	if err := b.mail.Send(ctx, aimg.Email{To: strings.TrimSpace(sub.Email), Subject: site + ": confirm your Boosty subscription", Text: text}); err != nil {
		return aimg.Errorf(aimg.CodeUnavailable, "The confirmation email could not be sent; try again later")
	}
	b.log.InfoContext(ctx, "boosty claim code sent", "domain", c.Domain, "boosty_user", sub.UserID)
	return nil
}

type boostyLevel struct {
	plan  aimg.BillingPlan
	price aimg.PlanPrice
}

// boostyLevels maps Boosty level ids to the plans (and prices) that sell
// them; a level in several plans gives the highest tier.
func boostyLevels(plans []aimg.BillingPlan) map[string]boostyLevel {
	out := map[string]boostyLevel{}
	for _, p := range plans {
		for _, pr := range p.Prices {
			for _, pp := range pr.PaymentProviders {
				id := strings.TrimSpace(pp.ExternalID)
				if pp.PaymentProvider != aimg.ProviderBoosty || id == "" {
					continue
				}
				if old, ok := out[id]; !ok || p.Tier > old.plan.Tier {
					out[id] = boostyLevel{plan: p, price: pr}
				}
			}
		}
	}
	return out
}

// Claims lists the Boosty subscribers the user claimed (the admin
// getUser's connectProviders).
func (b *Boosty) Claims(ctx context.Context, userID string) ([]aimg.BoostyClaim, error) {
	return b.store.BoostyClaims(ctx, userID)
}
