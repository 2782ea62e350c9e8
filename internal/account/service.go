// Package account is users, sessions, passwords, OTP, key-value pairs,
// profile pictures and abuse levels. It imports neither net/http nor SQL.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/keylock"
	"aimg/internal/media"
	"aimg/internal/ratelimit"
)

// Store is the persistence the account service needs; *store.Store has it.
type Store interface {
	CreateUser(ctx context.Context, u *aimg.User) error
	UserByID(ctx context.Context, id string) (*aimg.User, error)
	UserByEmail(ctx context.Context, domain, email string) (*aimg.User, error)
	UserByUsername(ctx context.Context, domain, username string) (*aimg.User, error)
	UpdateUser(ctx context.Context, u *aimg.User) error

	SessionByID(ctx context.Context, id string, now time.Time) (*aimg.Session, error)
	// SessionWithUser is SessionByID and UserByID in one read, for a
	// session with a user; found is false for any other.
	SessionWithUser(ctx context.Context, id string, now time.Time) (sess *aimg.Session, u *aimg.User, found bool, err error)
	// GuestSession stores the session with the guest record guest, unless
	// the session already has a user (then it returns that user and writes
	// nothing): insert-or-get, safe under parallel first requests.
	GuestSession(ctx context.Context, sess *aimg.Session, guest *aimg.User, expires time.Time) (*aimg.User, error)
	TouchSession(ctx context.Context, id string, now, expires time.Time) error
	DeleteSession(ctx context.Context, id string) (bool, error)
	DeleteUserSessions(ctx context.Context, userID, keepID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	RotateSession(ctx context.Context, oldID string, next *aimg.Session, expires time.Time) error

	ChangeUserEmail(ctx context.Context, u *aimg.User, previous aimg.ArchivedEmail) error
	ArchivedEmails(ctx context.Context, userID string) ([]aimg.ArchivedEmail, error)
	// MoveGuestData hands a guest record's data to an account; later
	// aggregates (Items, Folders) extend the store's transaction.
	MoveGuestData(ctx context.Context, guestUserID, userID string, now time.Time) error

	PutOTP(ctx context.Context, domain, email, codeHash string, now, expires time.Time) error
	ConsumeOTP(ctx context.Context, domain, email, codeHash string, now time.Time, maxAttempts int) (bool, error)
	DeleteExpiredOTPs(ctx context.Context, now time.Time) (int64, error)

	CountItems(ctx context.Context, userID string) (int64, error)
	CountRootItems(ctx context.Context, userID string) (int64, error)
	// CountUserPublicItems is publicItemCount (Items in Public Folders).
	CountUserPublicItems(ctx context.Context, userID string) (int64, error)
	// ChangeItems soft-deletes the Items of a user deleted with deleteItems.
	ChangeItems(ctx context.Context, ch aimg.ItemChange) ([]aimg.ItemChanged, error)

	PutOAuthState(ctx context.Context, st *aimg.OAuthState) error
	TakeOAuthState(ctx context.Context, provider, state string, now time.Time) (*aimg.OAuthState, error)
	DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int64, error)
	IdentityUser(ctx context.Context, domain, provider, providerUserID string) (*aimg.User, error)
	LinkIdentity(ctx context.Context, id aimg.UserIdentity) error
	UserIdentities(ctx context.Context, userID string) ([]aimg.UserIdentity, error)

	UserKVP(ctx context.Context, userID, key string) (string, error)
	SetUserKVP(ctx context.Context, userID, key, value string, maxKeys int, now time.Time) error
	DeleteUserKVP(ctx context.Context, userID, key string) (bool, error)

	// CreateAppPassword refuses (400 on name) when the user has maxPerUser.
	CreateAppPassword(ctx context.Context, p *aimg.AppPassword, maxPerUser int) error
	AppPasswordByHash(ctx context.Context, secretHash string) (*aimg.AppPassword, error)
	AppPasswords(ctx context.Context, userID string, limit int) ([]aimg.AppPassword, error)
	TouchAppPassword(ctx context.Context, id string, now time.Time) error
	DeleteAppPassword(ctx context.Context, userID, id string) (bool, error)
	DeleteUserAppPasswords(ctx context.Context, userID string) error

	// The web UI's admin marks on sessions (adminsession.go).
	MarkAdminSession(ctx context.Context, sessionID string, now, expires time.Time) error
	AdminSessionLive(ctx context.Context, sessionID string, now time.Time) (bool, error)
	DeleteAdminSession(ctx context.Context, sessionID string) error
	DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int64, error)
}

// Sender delivers emails; *mail.Outbox and *mail.SMTP have it.
type Sender interface {
	Send(ctx context.Context, m aimg.Email) error
}

// Service implements the account use cases.
type Service struct {
	store   Store
	cfg     config.Config
	limiter ratelimit.Limiter
	mail    Sender
	log     *slog.Logger
	now     func() time.Time
	decoder *media.Decoder // the server's decode budget, shared with files
	// firstUse serialises GuestUser per session id in this process.
	firstUse keylock.Map
	// hashTurns bounds the argon2id computations under way at once
	// (accounts.passwordHashConcurrency); hashWait is the longest wait for one.
	hashTurns chan struct{}
	hashWait  time.Duration

	// otpKey keys the HMAC of stored one-time passwords: a leaked otps
	// table alone does not reveal codes.
	otpKey []byte
	// dummyHash is verified against when an email is unknown, so a wrong
	// password costs the same time whether or not the account exists.
	dummyOnce sync.Once
	dummyHash string

	// basicCache remembers Basic logins whose account password verified,
	// for a few minutes (apppass.go says why).
	basicCache *basicCache
}

// New builds the service. The OTP secret is derived from the admin key (the
// one secret every replica shares); without one, a random per-process
// secret is used. decoder is the server's one decode budget (profile pictures).
func New(st Store, cfg config.Config, limiter ratelimit.Limiter, sender Sender, log *slog.Logger, now func() time.Time, decoder *media.Decoder) *Service {
	s := &Service{store: st, cfg: cfg, limiter: limiter, mail: sender, log: log, now: now, decoder: decoder,
		hashTurns: make(chan struct{}, cfg.Service.Accounts.PasswordHashConcurrency), hashWait: cfg.Service.Accounts.PasswordHashWait,
		basicCache: newBasicCache(now)}
	if cfg.AdminKey != "" {
		sum := sha256.Sum256([]byte("aimg otp v1\x00" + cfg.AdminKey))
		s.otpKey = sum[:]
	} else {
		s.otpKey = make([]byte, 32)
		_, _ = rand.Read(s.otpKey)
	}
	return s
}

// touchEvery bounds how often a busy session's expiry is written.
const touchEvery = time.Minute

// ResolveSession returns the session named by id and its user, if any.
// An empty id starts a new anonymous session with a server-generated id; an
// unknown well-formed id (never seen, ended, expired) starts a new
// anonymous session under that id. Anonymous sessions are not stored: one
// that owns nothing is indistinguishable from an unknown id, so it is
// written only when it first needs a user (GuestUser). A disabled user's
// session ends.
func (s *Service) ResolveSession(ctx context.Context, domain, id string) (*aimg.Session, *aimg.User, error) {
	now := s.now()
	if id == "" {
		return anonymousSession(uuid.NewString(), now), nil, nil
	}
	// One read for the usual session (with its user); the others take
	// the two reads below.
	sess, user, found, err := s.store.SessionWithUser(ctx, id, now)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		sess, err = s.store.SessionByID(ctx, id, now)
		if aimg.IsNotFound(err) {
			return anonymousSession(id, now), nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now, now.Add(s.cfg.Service.Accounts.SessionTTL)); err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	if sess.UserID == "" {
		return sess, nil, nil
	}
	if user == nil {
		if user, err = s.store.UserByID(ctx, sess.UserID); err != nil {
			return nil, nil, err
		}
	}
	if user.Domain != domain && !user.IsGuest {
		// A session of another domain is not valid here.
		return nil, nil, aimg.ErrUnauthenticated
	}
	if user.Disabled() {
		if _, err := s.store.DeleteSession(ctx, sess.ID); err != nil {
			return nil, nil, err
		}
		return nil, nil, aimg.Errorf(aimg.CodeUnauthorized, "This account is disabled")
	}
	return sess, user, nil
}

// anonymousSession is a session that is not stored (yet).
func anonymousSession(id string, now time.Time) *aimg.Session {
	return &aimg.Session{ID: id, CreatedAt: now, LastSeenAt: now}
}
