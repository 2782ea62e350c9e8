package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// Payment provider webhook events: applied once per (provider, event id),
// in the provider's order per subscription.

// SubscriptionUser returns the user whose subscription is the provider's
// transactionID, "" when none is.
func (s *Store) SubscriptionUser(ctx context.Context, provider, transactionID string) (string, error) {
	var userID string
	err := s.r.QueryRowContext(ctx, `SELECT user_id FROM subscriptions WHERE provider = $1 AND transaction_id = $2
		AND transaction_id <> '' ORDER BY created_at LIMIT 1`, provider, transactionID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return userID, err
}

// ApplyProviderEvent records ev for userID and, when ev is new and not
// older than the newest event applied to its subscription, runs fn on the
// user's subscriptions and writes what it returns and the user's tier, as
// ChangeSubscriptions does, in the same transaction. applied tells whether
// fn ran: a replayed event id or an out-of-order older event changes
// nothing. Deliveries of one user's events are serialised by the user's
// row lock (PostgreSQL) or the single writer (SQLite).
func (s *Store) ApplyProviderEvent(ctx context.Context, ev aimg.ProviderEvent, userID string, now time.Time,
	fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (applied bool, g aimg.TierGrant, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		applied = false
		if err := lockUsers(ctx, tx, s.dialect, userID); err != nil {
			return err
		}
		var seen int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM provider_events WHERE provider = $1 AND event_id = $2`,
			ev.Provider, ev.EventID).Scan(&seen)
		if err == nil {
			return nil // a replay
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var newest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(event_at) FROM provider_events
			WHERE provider = $1 AND subscription_id = $2 AND applied`, ev.Provider, ev.SubscriptionID).Scan(&newest); err != nil {
			return err
		}
		applied = !newest.Valid || ms(ev.Created) >= newest.Int64
		if _, err := tx.ExecContext(ctx, `INSERT INTO provider_events (provider, event_id, subscription_id, user_id, kind,
			event_at, received_at, applied) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			ev.Provider, ev.EventID, ev.SubscriptionID, userID, ev.Kind, ms(ev.Created), ms(now), applied); err != nil {
			return err
		}
		if !applied {
			return nil
		}
		g, err = changeSubscriptions(ctx, tx, s.dialect, userID, now, fn)
		return err
	})
	return applied, g, err
}
