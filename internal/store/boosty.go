package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// Boosty: the domain's sealed blog-owner cookies and the claims of Boosty
// subscribers by AIMG users (docs/payments.md "Boosty").

// PutBoostyAccount stores the domain's Boosty account, replacing the one
// injected before.
func (s *Store) PutBoostyAccount(ctx context.Context, a aimg.BoostyAccount) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO boosty_accounts (domain, account_id, sealed_cookies, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain) DO UPDATE SET account_id = excluded.account_id,
		sealed_cookies = excluded.sealed_cookies, created_at = excluded.created_at, expires_at = excluded.expires_at`,
		a.Domain, a.AccountID, a.SealedCookies, ms(a.CreatedAt), ms(a.ExpiresAt))
	return err
}

// BoostyAccount returns the domain's Boosty account (expired or not): not
// found when none was injected.
func (s *Store) BoostyAccount(ctx context.Context, domain string) (*aimg.BoostyAccount, error) {
	a := aimg.BoostyAccount{Domain: domain}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT account_id, sealed_cookies, created_at, expires_at FROM boosty_accounts
		WHERE domain = $1`, domain).Scan(&a.AccountID, &a.SealedCookies, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "no Boosty account was injected for this domain")
	}
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	return &a, nil
}

// ErrBoostyClaimed is the answer when another AIMG user claimed the Boosty subscriber.
var ErrBoostyClaimed = aimg.Errorf(aimg.CodeConflict,
	"This Boosty subscription was already claimed by another account")

// ClaimBoostySubscriber claims the domain's Boosty subscriber for userID
// (a claim by another live user is a conflict, ErrBoostyClaimed; a deleted
// user's claim passes on) and runs fn on the user's subscriptions, as
// ChangeSubscriptions does, in the same transaction: fn's error rolls the
// claim back. Of two users claiming one subscriber at once, one wins (the
// primary key decides; the other sees the winner's row).
func (s *Store) ClaimBoostySubscriber(ctx context.Context, domain, boostyUserID, userID string, now time.Time,
	fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error) {
	var g aimg.TierGrant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO boosty_claims (domain, boosty_user_id, user_id, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (domain, boosty_user_id) DO UPDATE SET user_id = excluded.user_id,
			created_at = excluded.created_at
			WHERE boosty_claims.user_id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL)`,
			domain, boostyUserID, userID, ms(now)); err != nil {
			return err
		}
		var owner string
		if err := tx.QueryRowContext(ctx, `SELECT user_id FROM boosty_claims WHERE domain = $1 AND boosty_user_id = $2`,
			domain, boostyUserID).Scan(&owner); err != nil {
			return err
		}
		if owner != userID {
			return ErrBoostyClaimed
		}
		var err error
		g, err = changeSubscriptions(ctx, tx, s.dialect, userID, now, fn)
		return err
	})
	return g, err
}

// BoostyClaimOwner is the live user who claimed the domain's Boosty
// subscriber, or "" when nobody (or a deleted user) did.
func (s *Store) BoostyClaimOwner(ctx context.Context, domain, boostyUserID string) (string, error) {
	var owner string
	err := s.r.QueryRowContext(ctx, `SELECT c.user_id FROM boosty_claims c JOIN users u ON u.id = c.user_id
		WHERE c.domain = $1 AND c.boosty_user_id = $2 AND u.deleted_at IS NULL`, domain, boostyUserID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return owner, err
}

// BoostyClaims lists the Boosty subscribers the user claimed, oldest first.
func (s *Store) BoostyClaims(ctx context.Context, userID string) ([]aimg.BoostyClaim, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT domain, boosty_user_id, user_id, created_at FROM boosty_claims
		WHERE user_id = $1 ORDER BY created_at, boosty_user_id LIMIT 100`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []aimg.BoostyClaim{}
	for rows.Next() {
		var (
			c       aimg.BoostyClaim
			created int64
		)
		if err := rows.Scan(&c.Domain, &c.BoostyUserID, &c.UserID, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}
