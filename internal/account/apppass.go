package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// App passwords and HTTP Basic verification, for the Nextcloud-compatible
// surface (docs/api.md "App passwords"; decisions in docs/decisions.md
// "App passwords and HTTP Basic (issue 10)").

// Budgets of app passwords (docs/security.md). The bound per user is a
// constant, not configuration: it only keeps a listing and the table small.
const (
	maxAppPasswordName     = 100 // bytes, on one line
	MaxAppPasswordsPerUser = 50
)

// An app password has Nextcloud's shape: 72 characters of A-Z a-z 0-9
// (about 428 bits from crypto/rand), one word a person can select with a
// double click and paste. No account password has this shape (the
// password rule wants a special character), so the shape alone tells which
// of the two a Basic secret is meant to be.
const (
	appPasswordLength   = 72
	appPasswordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// Rate limits of AuthenticateBasic; they count failed attempts only.
const (
	basicIPLimit    = "authenticateBasic:ip"
	basicLoginLimit = "authenticateBasic:login"
)

// errWrongBasic is the one answer to a failed Basic login, whatever failed.
var errWrongBasic = aimg.Errorf(aimg.CodeUnauthorized, "Wrong login or password")

func newAppPasswordSecret() (string, error) {
	raw := make([]byte, appPasswordLength)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	out := make([]byte, appPasswordLength)
	for i := range raw {
		// 62 letters: reject bytes of the last, partial round of 62 so that
		// every character is equally likely.
		b := raw[i]
		for b >= 248 {
			var one [1]byte
			if _, err := rand.Read(one[:]); err != nil {
				return "", err
			}
			b = one[0]
		}
		out[i] = appPasswordAlphabet[int(b)%len(appPasswordAlphabet)]
	}
	return string(out), nil
}

// looksLikeAppPassword tells whether s has the shape of an app password.
func looksLikeAppPassword(s string) bool {
	if len(s) != appPasswordLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func appPasswordHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateAppPassword makes an app password for the signed-in caller and
// returns it with its secret, which is shown this once and stored hashed.
func (s *Service) CreateAppPassword(ctx context.Context, c aimg.Caller, name string) (*aimg.AppPassword, string, error) {
	u, err := signedIn(c)
	if err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, "", aimg.Invalid("name", "is required (say which app or device it is for)")
	case len(name) > maxAppPasswordName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return nil, "", aimg.Invalid("name", "must be at most %d bytes of text on one line", maxAppPasswordName)
	}
	secret, err := newAppPasswordSecret()
	if err != nil {
		return nil, "", aimg.Internal(err)
	}
	p := &aimg.AppPassword{ID: uuid.NewString(), UserID: u.ID, Name: name, SecretHash: appPasswordHash(secret), CreatedAt: s.now()}
	if err := s.store.CreateAppPassword(ctx, p, MaxAppPasswordsPerUser); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "app password created", "user", u.ID, "app_password", p.ID)
	return p, secret, nil
}

// AppPasswords lists the signed-in caller's app passwords, newest first.
func (s *Service) AppPasswords(ctx context.Context, c aimg.Caller) ([]aimg.AppPassword, error) {
	u, err := signedIn(c)
	if err != nil {
		return nil, err
	}
	return s.store.AppPasswords(ctx, u.ID, MaxAppPasswordsPerUser)
}

// RevokeAppPassword deletes one of the signed-in caller's app passwords;
// another user's id is not found, as an unknown one is.
func (s *Service) RevokeAppPassword(ctx context.Context, c aimg.Caller, id string) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	if id == "" {
		return aimg.Invalid("id", "is required")
	}
	ok, err := s.store.DeleteAppPassword(ctx, u.ID, id)
	if err != nil {
		return err
	}
	if !ok {
		return aimg.Errorf(aimg.CodeNotFound, "App password not found")
	}
	s.log.InfoContext(ctx, "app password revoked", "user", u.ID, "app_password", id)
	return nil
}

// AuthenticateBasic verifies HTTP Basic credentials: login is the user's
// email or username in c.Domain, secret the account password or one of the
// user's app passwords. Every wrong credential is the same 401; disabled
// and deleted accounts are refused with 401 once the secret is right.
//
// Throttling counts failures only (as Nextcloud's brute-force throttler
// does), so a client polling with good credentials is never throttled:
// both buckets are peeked first and a token is taken from each only when
// the attempt fails. An empty per-address bucket refuses everything from
// that address; an empty per-login bucket refuses only account-password
// checks (the guessable kind), so an attack on a login does not lock out
// that user's app passwords or a password verified in the last minutes.
func (s *Service) AuthenticateBasic(ctx context.Context, c aimg.Caller, login, secret string) (*aimg.User, error) {
	if err := s.peek(ctx, basicIPLimit, c.ClientIP); err != nil {
		return nil, err
	}
	login = strings.TrimSpace(login)
	loginKey := c.Domain + "/" + strings.ToLower(login)
	oversized := len(login) > maxEmailBytes || len(secret) > maxPasswordBytes
	var u *aimg.User
	if !oversized {
		var err error
		if u, err = s.basicUser(ctx, c.Domain, login); err != nil && !aimg.IsNotFound(err) {
			return nil, err
		}
	}
	ok := false
	var appPass *aimg.AppPassword
	switch {
	case oversized || secret == "":
		// Cheap to refuse: no lookup, no hash.
	case looksLikeAppPassword(secret):
		// Looked up whether or not the login exists, so both cost the same.
		p, err := s.store.AppPasswordByHash(ctx, appPasswordHash(secret))
		switch {
		case aimg.IsNotFound(err):
		case err != nil:
			return nil, err
		case u != nil && p.UserID == u.ID:
			ok, appPass = true, p
		}
	case u != nil && s.basicCache.hit(c.Domain, login, secret, u):
		ok = true
	default:
		if err := s.peek(ctx, basicLoginLimit, loginKey); err != nil {
			return nil, err
		}
		var err error
		if ok, err = s.checkPassword(ctx, u, secret); err != nil {
			return nil, err
		}
		if ok {
			s.basicCache.put(c.Domain, login, secret, u, s.now())
		}
	}
	if !ok {
		if err := s.allow(ctx, basicIPLimit, c.ClientIP); err != nil && aimg.ErrorCode(err) != aimg.CodeRateLimited {
			return nil, err
		}
		if err := s.allow(ctx, basicLoginLimit, loginKey); err != nil && aimg.ErrorCode(err) != aimg.CodeRateLimited {
			return nil, err
		}
		return nil, errWrongBasic
	}
	if u.Disabled() {
		return nil, aimg.Errorf(aimg.CodeUnauthorized, "This account is disabled")
	}
	if appPass != nil {
		now := s.now()
		if appPass.LastUsedAt == nil || now.Sub(*appPass.LastUsedAt) >= time.Minute {
			if err := s.store.TouchAppPassword(ctx, appPass.ID, now); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}

// errNoSuchLogin: the login names no account.
var errNoSuchLogin = aimg.Errorf(aimg.CodeNotFound, "User not found")

// basicUser finds the account a Basic login names: an email (normalised as
// everywhere) when it has an '@', else a username (any case). A login that
// cannot name an account, or names a guest record, is not found.
func (s *Service) basicUser(ctx context.Context, domain, login string) (*aimg.User, error) {
	var (
		u   *aimg.User
		err error
	)
	if strings.Contains(login, "@") {
		email, verr := NormalizeEmail("login", login)
		if verr != nil {
			return nil, errNoSuchLogin
		}
		u, err = s.store.UserByEmail(ctx, domain, email)
	} else {
		if CheckUsername(login) != nil {
			return nil, errNoSuchLogin
		}
		u, err = s.store.UserByUsername(ctx, domain, login)
	}
	if err != nil {
		return nil, err
	}
	if u.IsGuest {
		return nil, errNoSuchLogin
	}
	return u, nil
}

// peek refuses when the named limit has no token left for key, taking
// nothing; an unconfigured limit allows.
func (s *Service) peek(ctx context.Context, name, key string) error {
	rule, ok := s.cfg.Service.RateLimit(name)
	if !ok {
		return nil
	}
	res, err := s.limiter.Peek(ctx, name, key, rule)
	return limitAnswer(res, err)
}

// endAppPasswords deletes every app password of the user: on a password
// change, a deletion or a disabling of the account.
func (s *Service) endAppPasswords(ctx context.Context, userID string) error {
	if err := s.store.DeleteUserAppPasswords(ctx, userID); err != nil {
		return err
	}
	s.basicCache.forget(userID)
	return nil
}

// Successful account-password verifications of Basic logins are kept for
// basicCacheTTL, so that a client sending the password with every request
// (Nextcloud clients poll task status every few seconds) costs one argon2id
// computation per basicCacheTTL rather than one per request. An entry is
// used only while the user's stored password hash is the one it was made
// with: a password change on any replica ends it (a new hash has a new
// salt). Keys are an HMAC under a per-process random key of domain, login
// and secret, so the map holds no secret in a usable form.
const (
	basicCacheTTL = 5 * time.Minute
	basicCacheMax = 10_000 // entries (~200 bytes each); when full, new ones are not kept
)

type basicCache struct {
	now func() time.Time
	key []byte

	mu      sync.Mutex
	entries map[[sha256.Size]byte]basicEntry
}

type basicEntry struct {
	userID       string
	passwordHash string
	expires      time.Time
}

func newBasicCache(now func() time.Time) *basicCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &basicCache{now: now, key: key, entries: make(map[[sha256.Size]byte]basicEntry)}
}

func (b *basicCache) id(domain, login, secret string) [sha256.Size]byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(domain + "\x00" + strings.ToLower(login) + "\x00" + secret))
	var id [sha256.Size]byte
	copy(id[:], m.Sum(nil))
	return id
}

// hit tells whether (domain, login, secret) was verified for u within the
// TTL and u's password is still the one verified.
func (b *basicCache) hit(domain, login, secret string, u *aimg.User) bool {
	id := b.id(domain, login, secret)
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[id]
	if !ok {
		return false
	}
	if !b.now().Before(e.expires) || e.userID != u.ID ||
		subtle.ConstantTimeCompare([]byte(e.passwordHash), []byte(u.PasswordHash)) != 1 {
		delete(b.entries, id)
		return false
	}
	return true
}

func (b *basicCache) put(domain, login, secret string, u *aimg.User, now time.Time) {
	id := b.id(domain, login, secret)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.entries) >= basicCacheMax {
		for k, e := range b.entries {
			if !now.Before(e.expires) {
				delete(b.entries, k)
			}
		}
		if len(b.entries) >= basicCacheMax {
			return
		}
	}
	b.entries[id] = basicEntry{userID: u.ID, passwordHash: u.PasswordHash, expires: now.Add(basicCacheTTL)}
}

// forget drops the user's entries in this process (other replicas' end by
// the password-hash check, or with the account's disabling).
func (b *basicCache) forget(userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, e := range b.entries {
		if e.userID == userID {
			delete(b.entries, k)
		}
	}
}
