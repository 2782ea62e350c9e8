package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"aimg/internal/aimg"
)

// PutOAuthState stores a new external sign-in flow.
func (s *Store) PutOAuthState(ctx context.Context, st *aimg.OAuthState) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_states (state, provider, verifier, session_id, domain,
		redirect_url, ref_list, rs, is_at_least_18_confirmed, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		st.State, st.Provider, st.Verifier, st.SessionID, st.Domain, st.RedirectURL, jsonList(st.RefList),
		st.RS, st.IsAtLeast18Confirmed, ms(st.CreatedAt), ms(st.ExpiresAt))
	return err
}

// TakeOAuthState deletes the state of provider and returns it, if it has
// not expired at now: a state works once, on any replica (the DELETE is
// the single winner of parallel callbacks). Unknown, used, expired or
// another provider's state: not found.
func (s *Store) TakeOAuthState(ctx context.Context, provider, state string, now time.Time) (*aimg.OAuthState, error) {
	var (
		st               aimg.OAuthState
		refList          string
		created, expires int64
	)
	err := s.w.QueryRowContext(ctx, `DELETE FROM oauth_states WHERE state = $1 AND provider = $2
		RETURNING state, provider, verifier, session_id, domain, redirect_url, ref_list, rs,
		is_at_least_18_confirmed, created_at, expires_at`, state, provider).Scan(
		&st.State, &st.Provider, &st.Verifier, &st.SessionID, &st.Domain, &st.RedirectURL, &refList, &st.RS,
		&st.IsAtLeast18Confirmed, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "OAuth state not found")
	}
	if err != nil {
		return nil, err
	}
	st.CreatedAt, st.ExpiresAt = fromMS(created), fromMS(expires)
	if !st.ExpiresAt.After(now) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "OAuth state not found")
	}
	if err := json.Unmarshal([]byte(refList), &st.RefList); err != nil {
		return nil, fmt.Errorf("oauth state ref_list: %w", err)
	}
	return &st, nil
}

// DeleteExpiredOAuthStates removes flows that were never finished.
func (s *Store) DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// IdentityUser returns the user of the domain linked to the provider's user id.
func (s *Store) IdentityUser(ctx context.Context, domain, provider, providerUserID string) (*aimg.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id =
		(SELECT user_id FROM user_identities WHERE domain = $1 AND provider = $2 AND provider_user_id = $3)`,
		domain, provider, providerUserID))
}

// LinkIdentity links the external account to its user; linking it again
// (to anyone) changes nothing, so a repeated sign-in is idempotent.
func (s *Store) LinkIdentity(ctx context.Context, id aimg.UserIdentity) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO user_identities (domain, provider, provider_user_id, user_id, email, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain, provider, provider_user_id) DO NOTHING`,
		id.Domain, id.Provider, id.ProviderUserID, id.UserID, id.Email, ms(id.CreatedAt))
	return err
}

// UserIdentities lists the external accounts linked to the user, oldest first.
func (s *Store) UserIdentities(ctx context.Context, userID string) ([]aimg.UserIdentity, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT domain, provider, provider_user_id, user_id, email, created_at
		FROM user_identities WHERE user_id = $1 ORDER BY created_at, provider`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []aimg.UserIdentity
	for rows.Next() {
		var (
			id      aimg.UserIdentity
			created int64
		)
		if err := rows.Scan(&id.Domain, &id.Provider, &id.ProviderUserID, &id.UserID, &id.Email, &created); err != nil {
			return nil, err
		}
		id.CreatedAt = fromMS(created)
		out = append(out, id)
	}
	return out, rows.Err()
}
