package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// CreateSession inserts a session that expires at expires.
func (s *Store) CreateSession(ctx context.Context, sess *aimg.Session, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (id, user_id, authenticated, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		sess.ID, nullString(sess.UserID), sess.Authenticated, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(expires))
	if isUniqueViolation(err) {
		return &aimg.Error{Code: aimg.CodeConflict, Message: "session already exists", Err: err}
	}
	return err
}

// SessionByID returns a session that has not expired at now.
func (s *Store) SessionByID(ctx context.Context, id string, now time.Time) (*aimg.Session, error) {
	var (
		sess          aimg.Session
		userID        sql.NullString
		created, seen int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, user_id, authenticated, created_at, last_seen_at FROM sessions
		WHERE id = $1 AND expires_at > $2`, id, ms(now)).Scan(&sess.ID, &userID, &sess.Authenticated, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Session not found")
	}
	if err != nil {
		return nil, err
	}
	sess.UserID = userID.String
	sess.CreatedAt, sess.LastSeenAt = fromMS(created), fromMS(seen)
	return &sess, nil
}

// SessionWithUser is SessionByID and UserByID of its user in one query,
// for a session that has a user (most requests); otherwise it answers
// found = false and nothing else, and the caller asks SessionByID.
func (s *Store) SessionWithUser(ctx context.Context, id string, now time.Time) (sess *aimg.Session, u *aimg.User, found bool, err error) {
	var (
		out           aimg.Session
		created, seen int64
	)
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.authenticated, s.created_at, s.last_seen_at, `+sessionUserColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.expires_at > $2`, id, ms(now))
	u, err = scanUser(prefixedScan{row, []any{&out.ID, &out.UserID, &out.Authenticated, &created, &seen}})
	if aimg.IsNotFound(err) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	out.CreatedAt, out.LastSeenAt = fromMS(created), fromMS(seen)
	return &out, u, true, nil
}

// sessionUserColumns is userColumns of the users row "u" of a join.
var sessionUserColumns = "u." + strings.Join(strings.Split(strings.Join(strings.Fields(userColumns), " "), ", "), ", u.")

// prefixedScan scans a row whose leading columns go to pre, the rest to
// what Scan is given: a join read with a scanner written for one table.
type prefixedScan struct {
	row interface{ Scan(...any) error }
	pre []any
}

func (p prefixedScan) Scan(dest ...any) error { return p.row.Scan(append(p.pre, dest...)...) }

// errGuestTaken ends a GuestSession transaction that found the session
// already given to another guest.
var errGuestTaken = errors.New("the session already has a user")

// GuestSession gives the session sess.ID the guest record guest and stores
// the session (it expires at expires), unless the session already has a
// user: then nothing is written and that user is returned. It is how an
// anonymous session gets stored at all: sessions are written only once they
// own something.
//
// One transaction inserts the guest and then the session row; the session
// id is the primary key, so of parallel first requests of one session
// exactly one guest wins and the others roll back (no guest nobody can
// reach). A row under the id that expired at sess.LastSeenAt is replaced:
// the id starts over as a new session.
func (s *Store) GuestSession(ctx context.Context, sess *aimg.Session, guest *aimg.User, expires time.Time) (*aimg.User, error) {
	var owner string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND expires_at <= $2`,
			sess.ID, ms(sess.LastSeenAt)); err != nil {
			return err
		}
		if err := insertUser(ctx, tx, guest); err != nil {
			return err
		}
		// On a conflict the row keeps the user it has (a legacy anonymous
		// row without one takes this guest).
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, authenticated, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET user_id = COALESCE(sessions.user_id, excluded.user_id)`,
			sess.ID, guest.ID, false, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(expires)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = $1`, sess.ID).Scan(&owner); err != nil {
			return err
		}
		if owner != guest.ID {
			return errGuestTaken
		}
		return nil
	})
	switch {
	case errors.Is(err, errGuestTaken):
		return s.UserByID(ctx, owner)
	case err != nil:
		return nil, err
	}
	return guest, nil
}

// TouchSession records activity and slides the expiry forward.
func (s *Store) TouchSession(ctx context.Context, id string, now, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1`,
		id, ms(now), ms(expires))
	return err
}

// DeleteSession ends one session; it reports whether it existed.
func (s *Store) DeleteSession(ctx context.Context, id string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteUserSessions ends every session of the user except keepID (may be empty).
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keepID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
	return err
}

// DeleteExpiredSessions removes sessions that expired before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RotateSession replaces the session oldID (which may be empty or already
// gone) with next in one transaction: signing in never keeps the id the
// client had before (no session fixation).
func (s *Store) RotateSession(ctx context.Context, oldID string, next *aimg.Session, expires time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if oldID != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, oldID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, authenticated, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			next.ID, nullString(next.UserID), next.Authenticated, ms(next.CreatedAt), ms(next.LastSeenAt), ms(expires))
		return err
	})
}

// CountUserSessions counts the live sessions of a user (for tests and admin views).
func (s *Store) CountUserSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2`,
		userID, ms(now)).Scan(&n)
	return n, err
}
