package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// UserKVP returns the value stored under key for the user.
func (s *Store) UserKVP(ctx context.Context, userID, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT kvp_value FROM user_kvps WHERE user_id = $1 AND kvp_key = $2`,
		userID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", &aimg.Error{Code: aimg.CodeNotFound, Field: "key", Message: "key: no value is stored under this key"}
	}
	return v, err
}

// SetUserKVP stores value under key. A new key beyond maxKeys keys per user
// is refused (an existing key can always be overwritten).
func (s *Store) SetUserKVP(ctx context.Context, userID, key, value string, maxKeys int, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			// Parallel sets of new keys take turns, so that they cannot all
			// count maxKeys-1 keys and together go past maxKeys. SQLite's
			// single writer already serialises them.
			if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE user_kvps SET kvp_value = $3, updated_at = $4 WHERE user_id = $1 AND kvp_key = $2`,
			userID, key, value, ms(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_kvps WHERE user_id = $1`, userID).Scan(&count); err != nil {
			return err
		}
		if count >= maxKeys {
			return aimg.Invalid("key", "at most %d keys can be stored per user; delete one first", maxKeys)
		}
		// A concurrent set of the same new key may have inserted it: last write wins.
		_, err = tx.ExecContext(ctx, `INSERT INTO user_kvps (user_id, kvp_key, kvp_value, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, kvp_key) DO UPDATE SET kvp_value = excluded.kvp_value, updated_at = excluded.updated_at`,
			userID, key, value, ms(now))
		return err
	})
}

// DeleteUserKVP removes key; it reports whether it existed.
func (s *Store) DeleteUserKVP(ctx context.Context, userID, key string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM user_kvps WHERE user_id = $1 AND kvp_key = $2`, userID, key)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
