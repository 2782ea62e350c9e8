package aimg

import "time"

// ProviderBoosty is the payment provider of Boosty subscriptions
// (checkBoostySubscription; docs/payments.md "Boosty").
const ProviderBoosty = "boosty"

// BoostyCookieTTL is how long injected Boosty cookies are used (the spec:
// "each cookie, once created, expires after 7 days").
const BoostyCookieTTL = 7 * 24 * time.Hour

// BoostyAccount is a domain's Boosty blog and its owner's browser cookies,
// sealed (AES-256-GCM under the secrets key): SealedCookies never holds
// the cookies in plain text, and no endpoint returns it.
type BoostyAccount struct {
	Domain        string
	AccountID     string // the blog name in the Boosty URL (boosty.to/<accountId>)
	SealedCookies []byte
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// BoostySubscriber is one subscriber of a Boosty blog, as the blog's
// subscriber list describes it.
type BoostySubscriber struct {
	UserID      string // Boosty's user id
	Name        string
	Email       string
	Subscribed  bool
	BlackListed bool
	LevelID     string
	LevelName   string
	Price       float64
	OnTime      *time.Time // subscribed since
	NextPayTime *time.Time // paid until
}

// BoostyClaim links a Boosty subscriber of a domain's blog to the AIMG
// user who claimed it (one user per subscriber).
type BoostyClaim struct {
	Domain       string
	BoostyUserID string
	UserID       string
	CreatedAt    time.Time
}

// BoostyQuery says which subscriber to look for: Email or Name (case does
// not matter), among the subscribers of LevelIDs (every level when empty).
type BoostyQuery struct {
	Email    string
	Name     string
	LevelIDs []string
}

// ErrBoostyTokenRefused is Boosty refusing the blog owner's access token
// (401/403): the cookies must be injected again.
var ErrBoostyTokenRefused = Errorf(CodeUnavailable, "Boosty refused the injected access token")
