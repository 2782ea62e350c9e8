package store

import (
	"context"
	"time"
)

// Admin sessions: the web UI's mark on a browser session that entered the
// admin key (migration 00033). The row goes with its session.

// MarkAdminSession marks the stored session id as admin until expires
// (again: the expiry starts over).
func (s *Store) MarkAdminSession(ctx context.Context, sessionID string, now, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO admin_sessions (session_id, created_at, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (session_id) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at`,
		sessionID, ms(now), ms(expires))
	return err
}

// AdminSessionLive tells whether the session id carries a mark that has
// not expired at now.
func (s *Store) AdminSessionLive(ctx context.Context, sessionID string, now time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_sessions WHERE session_id = $1 AND expires_at > $2`,
		sessionID, ms(now)).Scan(&n)
	return n > 0, err
}

// DeleteAdminSession drops the session's mark, if any.
func (s *Store) DeleteAdminSession(ctx context.Context, sessionID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM admin_sessions WHERE session_id = $1`, sessionID)
	return err
}

// DeleteExpiredAdminSessions removes the marks that expired before now
// (those of a session that outlives its 12 hours).
func (s *Store) DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
