package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/ratelimit"
)

// RequestOTP emails a new one-time password and magic link to email.
//
// signUp=true answers 409 when the email is already registered (the spec's
// "specific errors" for sign-up forms). signUp=false always answers the same
// success, whether or not the email is known, so the endpoint reveals
// nothing: unknown emails get a code (authenticateUser registers them), and
// disabled accounts get no email.
func (s *Service) RequestOTP(ctx context.Context, c aimg.Caller, rawEmail string, signUp bool) (string, error) {
	email, err := NormalizeEmail("email", rawEmail)
	if err != nil {
		return "", err
	}
	if err := s.allow(ctx, "requestOTP:ip", c.ClientIP); err != nil {
		return "", err
	}
	if err := s.allow(ctx, "requestOTP:email", c.Domain+"/"+email); err != nil {
		return "", err
	}
	u, err := s.store.UserByEmail(ctx, c.Domain, email)
	switch {
	case aimg.IsNotFound(err):
		u = nil
	case err != nil:
		return "", err
	}
	if signUp && u != nil {
		return "", &aimg.Error{Code: aimg.CodeConflict, Field: "email", Message: "email: already registered; sign in instead"}
	}
	sent := fmt.Sprintf("If %s can sign in, a one-time password was sent to it", email)
	if u != nil && u.Disabled() {
		return sent, nil
	}
	code, err := newOTP()
	if err != nil {
		return "", aimg.Internal(err)
	}
	now := s.now()
	if err := s.store.PutOTP(ctx, c.Domain, email, s.otpHash(c.Domain, email, code), now, now.Add(s.cfg.Service.Accounts.OTPTTL)); err != nil {
		return "", err
	}
	link, err := s.MagicLink(email, code)
	if err != nil {
		return "", aimg.Internal(err)
	}
	msg := aimg.Email{
		To:      email,
		Subject: "Your one-time password: " + code,
		Text: fmt.Sprintf("Your one-time password is %s\n\nIt can be used once within %s.\n\n"+
			"Or sign in directly with this link:\n%s\n\nIf you did not ask for it, ignore this email.\n",
			code, s.cfg.Service.Accounts.OTPTTL, link),
	}
	if err := s.mail.Send(ctx, msg); err != nil {
		return "", &aimg.Error{Code: aimg.CodeUnavailable, Message: "The email could not be sent; try again later", Err: err}
	}
	if signUp {
		return "A one-time password was sent to " + email, nil
	}
	return sent, nil
}

// MagicLink is <magicLinkURL or PublicURL/login>?b=<base64url JSON
// {"email","otp"}>, unpadded RFC 4648 URL alphabet as in the spec's example.
func (s *Service) MagicLink(email, code string) (string, error) {
	base := s.cfg.Service.MagicLinkURL
	if base == "" {
		base = strings.TrimRight(s.cfg.PublicURL, "/") + "/login"
	}
	payload, err := json.Marshal(magicLinkPayload{email, code})
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "b=" + base64.RawURLEncoding.EncodeToString(payload), nil
}

// magicLinkPayload is what a magic link's b parameter carries.
type magicLinkPayload struct {
	Email string `json:"email"`
	OTP   string `json:"otp"`
}

// ParseMagicLink reads the b parameter of a link MagicLink wrote: the
// email and the one-time password it signs in with.
func ParseMagicLink(b string) (email, otp string, err error) {
	var p magicLinkPayload
	raw, err := base64.RawURLEncoding.DecodeString(b)
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil || p.Email == "" || p.OTP == "" {
		return "", "", aimg.Invalid("b", "this sign-in link is damaged; ask for a new code on the sign-in page")
	}
	return p.Email, p.OTP, nil
}

// newOTP returns six uniformly random digits from crypto/rand.
func newOTP() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// otpHash binds the code to its domain and email under the server secret.
func (s *Service) otpHash(domain, email, code string) string {
	m := hmac.New(sha256.New, s.otpKey)
	m.Write([]byte(domain + "\x00" + strings.ToLower(email) + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// errWrongCredentials is the one answer to a failed sign-in, whatever failed.
var errWrongCredentials = aimg.Errorf(aimg.CodeUnauthorized, "Wrong email, password or one-time password")

// consumeOTP checks and uses up the OTP of email (format already checked).
func (s *Service) consumeOTP(ctx context.Context, domain, email, code string) (bool, error) {
	return s.store.ConsumeOTP(ctx, domain, email, s.otpHash(domain, email, code), s.now(),
		s.cfg.Service.Accounts.OTPMaxAttempts)
}

// allow takes a token from the named rate limit; an unconfigured limit allows.
// Allow takes one token of the named rate limit (config rateLimits, e.g.
// "ingestLogs:ip") for key. Over the limit it is a rate-limited error with
// RetryAfter; a limiter failure refuses with 503; an unconfigured limit
// allows everything.
func (s *Service) Allow(ctx context.Context, name, key string) error { return s.allow(ctx, name, key) }

func (s *Service) allow(ctx context.Context, name, key string) error {
	rule, ok := s.cfg.Service.RateLimit(name)
	if !ok {
		return nil
	}
	res, err := s.limiter.Allow(ctx, name, key, rule)
	return limitAnswer(res, err)
}

// limitAnswer is the error for a limiter's answer: none when allowed,
// rate limited with Retry-After when not, 503 when the limiter failed.
func limitAnswer(res ratelimit.Result, err error) error {
	if err != nil {
		// Fail closed: these limits guard sign-in against guessing.
		return &aimg.Error{Code: aimg.CodeUnavailable, Message: "Rate limiting is unavailable; try again later", Err: err}
	}
	if !res.Allowed {
		secs := int(res.RetryAfter.Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		return &aimg.Error{Code: aimg.CodeRateLimited, RetryAfter: res.RetryAfter,
			Message: fmt.Sprintf("Too many requests; try again in %d seconds", secs)}
	}
	return nil
}
