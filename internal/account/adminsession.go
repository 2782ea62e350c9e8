package account

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Admin sessions: the web UI's admin pages ask for the admin key once per
// browser session and then mark the session as admin in the store (the key
// is never kept in the cookie or a page). docs/decisions.md "Web UI: admin
// pages".

// AdminSessionTTL is how long a mark lasts from entering the key; the
// session may live longer, the mark does not outlive the session.
const AdminSessionTTL = 12 * time.Hour

// adminKeyIPLimit takes a token for each wrong admin key from a client
// address ("adminKey:ip"); an empty bucket refuses even the right key.
const adminKeyIPLimit = "adminKey:ip"

// errWrongAdminKey is the one answer to a wrong key.
var errWrongAdminKey = &aimg.Error{Code: aimg.CodeUnauthorized, Field: "adminKey", Message: "That is not the admin key"}

// adminKeyOK compares key with the configured admin key in constant time
// (hashing first hides the length), as the API does.
func (s *Service) adminKeyOK(key string) bool {
	if key == "" || s.cfg.AdminKey == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(key)), sha256.Sum256([]byte(s.cfg.AdminKey))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// CheckAdminKey tells whether key is the admin key, under "adminKey:ip"
// for the API's X-Administration-Key and the web's key form alike: no key
// is no key; a wrong one takes a token of clientIP's bucket, and when the
// bucket is empty every key from clientIP is refused (429) until one
// refills, so the key cannot be guessed at request speed.
func (s *Service) CheckAdminKey(ctx context.Context, key, clientIP string) (bool, error) {
	if key == "" {
		return false, nil
	}
	if err := s.peek(ctx, adminKeyIPLimit, clientIP); err != nil {
		return false, err
	}
	if s.adminKeyOK(key) {
		return true, nil
	}
	if err := s.allow(ctx, adminKeyIPLimit, clientIP); err != nil && aimg.ErrorCode(err) != aimg.CodeRateLimited {
		return false, err
	}
	s.log.WarnContext(ctx, "wrong admin key", "client_ip", clientIP)
	return false, nil
}

// EnterAdminKey gives the caller a new session id marked as admin for
// AdminSessionTTL when key is the admin key, and returns that session: the
// id rotates as at a sign-in, so that a session id planted before cannot
// become an admin's (session fixation). A wrong key takes a token of
// "adminKey:ip" (CheckAdminKey). An anonymous session is stored first
// (with its guest record), so that the mark has a session to go with.
func (s *Service) EnterAdminKey(ctx context.Context, c aimg.Caller, key string) (*aimg.Session, error) {
	if c.Session == nil {
		return nil, aimg.ErrUnauthenticated
	}
	if ok, err := s.CheckAdminKey(ctx, key, c.ClientIP); err != nil || !ok {
		return nil, cmp.Or(err, error(errWrongAdminKey))
	}
	userID := c.Session.UserID
	if c.User == nil {
		g, err := s.GuestUser(ctx, c)
		if err != nil {
			return nil, err
		}
		userID = g.ID
	}
	now := s.now()
	next := &aimg.Session{ID: uuid.NewString(), UserID: userID, Authenticated: c.Session.Authenticated, CreatedAt: now, LastSeenAt: now}
	if err := s.store.RotateSession(ctx, c.Session.ID, next, s.sessionExpiry(now)); err != nil {
		return nil, err
	}
	if err := s.store.MarkAdminSession(ctx, next.ID, now, now.Add(AdminSessionTTL)); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "admin key entered on the web", "client_ip", c.ClientIP)
	return next, nil
}

// IsAdminSession tells whether the session carries a live admin mark.
func (s *Service) IsAdminSession(ctx context.Context, sessionID string) (bool, error) {
	if sessionID == "" {
		return false, nil
	}
	return s.store.AdminSessionLive(ctx, sessionID, s.now())
}

// EndAdminSession drops the session's admin mark (the session stays).
func (s *Service) EndAdminSession(ctx context.Context, sessionID string) error {
	return s.store.DeleteAdminSession(ctx, sessionID)
}
