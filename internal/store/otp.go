package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// PutOTP stores the hash of a new one-time password for (domain, email),
// replacing any earlier one and its failed attempts.
func (s *Store) PutOTP(ctx context.Context, domain, email, codeHash string, now, expires time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO otps (domain, email, code_hash, attempts, created_at, expires_at)
		VALUES ($1, $2, $3, 0, $4, $5)
		ON CONFLICT (domain, email) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		domain, strings.ToLower(email), codeHash, ms(now), ms(expires))
	return err
}

// ConsumeOTP checks codeHash against the live OTP of (domain, email). A match
// deletes it (single use) and returns true. A mismatch counts one attempt and
// deletes the OTP once maxAttempts attempts failed. Expired OTPs never match.
// Both run in one transaction, so two requests cannot use one code twice.
func (s *Store) ConsumeOTP(ctx context.Context, domain, email, codeHash string, now time.Time, maxAttempts int) (bool, error) {
	email = strings.ToLower(email)
	var ok bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM otps WHERE domain = $1 AND email = $2 AND code_hash = $3
			AND expires_at > $4 AND attempts < $5`, domain, email, codeHash, ms(now), maxAttempts)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			ok = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE otps SET attempts = attempts + 1 WHERE domain = $1 AND email = $2`,
			domain, email); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM otps WHERE domain = $1 AND email = $2 AND (attempts >= $3 OR expires_at <= $4)`,
			domain, email, maxAttempts, ms(now))
		return err
	})
	return ok, err
}

// DeleteExpiredOTPs removes OTPs that expired before now.
func (s *Store) DeleteExpiredOTPs(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM otps WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
