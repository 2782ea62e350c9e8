package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// App passwords (HTTP Basic for Nextcloud clients; docs/api.md).

const appPasswordColumns = `id, user_id, name, secret_hash, created_at, last_used_at`

func scanAppPassword(row interface{ Scan(...any) error }) (*aimg.AppPassword, error) {
	var (
		p       aimg.AppPassword
		created int64
		used    sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.UserID, &p.Name, &p.SecretHash, &created, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, aimg.Errorf(aimg.CodeNotFound, "App password not found")
		}
		return nil, err
	}
	p.CreatedAt, p.LastUsedAt = fromMS(created), fromNullMS(used)
	return &p, nil
}

// CreateAppPassword inserts p unless its user has maxPerUser app passwords
// already (then a 400 naming the field name, as for key-value pairs). Parallel creations for one user
// take turns on the user row (PostgreSQL; SQLite has one writer), so they
// cannot together go past maxPerUser.
func (s *Store) CreateAppPassword(ctx context.Context, p *aimg.AppPassword, maxPerUser int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockUsers(ctx, tx, s.dialect, p.UserID); err != nil {
			return err
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM app_passwords WHERE user_id = $1`, p.UserID).Scan(&count); err != nil {
			return err
		}
		if count >= maxPerUser {
			return aimg.Invalid("name", "at most %d app passwords can exist per user; revoke one first", maxPerUser)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO app_passwords (`+appPasswordColumns+`) VALUES ($1,$2,$3,$4,$5,NULL)`,
			p.ID, p.UserID, p.Name, p.SecretHash, ms(p.CreatedAt))
		return err
	})
}

// AppPasswordByHash returns the app password whose secret has this SHA-256.
func (s *Store) AppPasswordByHash(ctx context.Context, secretHash string) (*aimg.AppPassword, error) {
	return scanAppPassword(s.r.QueryRowContext(ctx, `SELECT `+appPasswordColumns+` FROM app_passwords WHERE secret_hash = $1`, secretHash))
}

// AppPasswords lists the user's app passwords, newest first (at most
// limit: the service bounds how many a user may have).
func (s *Store) AppPasswords(ctx context.Context, userID string, limit int) ([]aimg.AppPassword, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+appPasswordColumns+` FROM app_passwords WHERE user_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []aimg.AppPassword{}
	for rows.Next() {
		p, err := scanAppPassword(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *p)
	}
	return list, rows.Err()
}

// TouchAppPassword records a use at now; it writes at most once a minute
// per app password, so a client polling with it does not write each time.
func (s *Store) TouchAppPassword(ctx context.Context, id string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE app_passwords SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`, id, ms(now), ms(now.Add(-time.Minute)))
	return err
}

// DeleteAppPassword removes the user's app password id; it reports whether
// there was one (another user's id is not found, like an unknown one).
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id string) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM app_passwords WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DeleteUserAppPasswords removes every app password of the user.
func (s *Store) DeleteUserAppPasswords(ctx context.Context, userID string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM app_passwords WHERE user_id = $1`, userID)
	return err
}
