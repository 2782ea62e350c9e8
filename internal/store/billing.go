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

// Billing: plans, subscriptions (the source of users.tier) and gift cards.

// CreatePlan inserts p.
func (s *Store) CreatePlan(ctx context.Context, p *aimg.BillingPlan) error {
	prices, err := json.Marshal(p.Prices)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO billing_plans (id, domain, env, code, name, description, features,
		main_benefits, prices, tier, active, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		p.ID, p.Domain, p.Env, p.Code, p.Name, p.Description, jsonList(p.Features), jsonList(p.MainBenefits),
		string(prices), p.Tier, p.Active, ms(p.CreatedAt))
	return err
}

// maxPlans bounds what one getBillingPlans reads (plans are few, made by Admins).
const maxPlans = 1000

// Plans returns the active plans of a domain that everyone sees and, when
// code is given, those shown with that code; oldest first.
func (s *Store) Plans(ctx context.Context, domain, code string) ([]aimg.BillingPlan, error) {
	return scanPlans(s.r.QueryContext(ctx, `SELECT `+planColumns+` FROM billing_plans
		WHERE domain = $1 AND (code = '' OR code = $2) AND active ORDER BY created_at, id LIMIT $3`, domain, code, maxPlans))
}

// Plan returns the domain's plan id, special (with a code) or not, active
// or not; a not-found error when there is none.
func (s *Store) Plan(ctx context.Context, domain, id string) (*aimg.BillingPlan, error) {
	list, err := scanPlans(s.r.QueryContext(ctx, `SELECT `+planColumns+` FROM billing_plans WHERE domain = $1 AND id = $2`, domain, id))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Billing Plan not found")
	}
	return &list[0], nil
}

const planColumns = `id, domain, env, code, name, description, features, main_benefits, prices, tier, active, created_at`

func scanPlans(rows *sql.Rows, err error) ([]aimg.BillingPlan, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []aimg.BillingPlan{}
	for rows.Next() {
		var (
			p                         aimg.BillingPlan
			features, benefits, price string
			created                   int64
		)
		if err := rows.Scan(&p.ID, &p.Domain, &p.Env, &p.Code, &p.Name, &p.Description, &features, &benefits,
			&price, &p.Tier, &p.Active, &created); err != nil {
			return nil, err
		}
		if err := errors.Join(json.Unmarshal([]byte(features), &p.Features), json.Unmarshal([]byte(benefits), &p.MainBenefits),
			json.Unmarshal([]byte(price), &p.Prices)); err != nil {
			return nil, fmt.Errorf("billing plan %s: %w", p.ID, err)
		}
		p.CreatedAt = fromMS(created)
		list = append(list, p)
	}
	return list, rows.Err()
}

const subscriptionColumns = `id, user_id, domain, provider, product_id, tier, status, expires_at, next_billing_at,
	payer_id, transaction_id, additional_information, price, created_at, updated_at`

func scanSubscriptions(rows *sql.Rows, err error) ([]aimg.Subscription, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []aimg.Subscription{}
	for rows.Next() {
		var (
			sub              aimg.Subscription
			exp, next        sql.NullInt64
			price            string
			created, updated int64
		)
		if err := rows.Scan(&sub.ID, &sub.UserID, &sub.Domain, &sub.Provider, &sub.ProductID, &sub.Tier, &sub.Status,
			&exp, &next, &sub.PayerID, &sub.TransactionID, &sub.AdditionalInformation, &price, &created, &updated); err != nil {
			return nil, err
		}
		if price != "" {
			sub.Price = &aimg.PlanPrice{}
			if err := json.Unmarshal([]byte(price), sub.Price); err != nil {
				return nil, fmt.Errorf("subscription %s price: %w", sub.ID, err)
			}
		}
		sub.ExpiresAt, sub.NextBillingAt = fromNullMS(exp), fromNullMS(next)
		sub.CreatedAt, sub.UpdatedAt = fromMS(created), fromMS(updated)
		list = append(list, sub)
	}
	return list, rows.Err()
}

// UserSubscriptions returns every subscription of a user, oldest first.
func (s *Store) UserSubscriptions(ctx context.Context, userID string) ([]aimg.Subscription, error) {
	return userSubscriptions(ctx, s.r, userID)
}

func userSubscriptions(ctx context.Context, q queryer, userID string) ([]aimg.Subscription, error) {
	return scanSubscriptions(q.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE user_id = $1 ORDER BY created_at, id`, userID))
}

func putSubscription(ctx context.Context, q queryer, sub *aimg.Subscription) error {
	price := ""
	if sub.Price != nil {
		b, err := json.Marshal(sub.Price)
		if err != nil {
			return err
		}
		price = string(b)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)
		ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, tier = excluded.tier, status = excluded.status,
		expires_at = excluded.expires_at, next_billing_at = excluded.next_billing_at, payer_id = excluded.payer_id,
		transaction_id = excluded.transaction_id, additional_information = excluded.additional_information,
		price = excluded.price, updated_at = excluded.updated_at`,
		sub.ID, sub.UserID, sub.Domain, sub.Provider, sub.ProductID, sub.Tier, sub.Status, nullMS(sub.ExpiresAt),
		nullMS(sub.NextBillingAt), sub.PayerID, sub.TransactionID, sub.AdditionalInformation, price,
		ms(sub.CreatedAt), ms(sub.UpdatedAt))
	return err
}

// syncUserTier writes the tier the user's live subscriptions give onto the
// user row (tier, tier_expiration, merchant_processor), which every reader
// of aimg.User.EffectiveTier sees on its next request.
func syncUserTier(ctx context.Context, tx *sql.Tx, userID string, now time.Time) (aimg.TierGrant, error) {
	subs, err := userSubscriptions(ctx, tx, userID)
	if err != nil {
		return aimg.TierGrant{}, err
	}
	var g aimg.TierGrant
	provider := ""
	if best := aimg.BestSubscription(subs, now); best != nil {
		g.Tier, g.Expiration, provider = best.Tier, best.ExpiresAt, best.Provider
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET tier = $2, tier_expiration = $3, merchant_processor = $4 WHERE id = $1`,
		userID, g.Tier, nullMS(g.Expiration), provider)
	return g, err
}

// ChangeSubscriptions runs fn on the user's subscriptions under the user's
// row lock and writes what it returns (new or changed subscriptions, by
// id), then the user's tier, in one transaction. fn's error rolls back.
func (s *Store) ChangeSubscriptions(ctx context.Context, userID string, now time.Time,
	fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error) {
	var g aimg.TierGrant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = changeSubscriptions(ctx, tx, s.dialect, userID, now, fn)
		return err
	})
	return g, err
}

func changeSubscriptions(ctx context.Context, tx *sql.Tx, dialect Dialect, userID string, now time.Time,
	fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error) {
	if err := lockUsers(ctx, tx, dialect, userID); err != nil {
		return aimg.TierGrant{}, err
	}
	subs, err := userSubscriptions(ctx, tx, userID)
	if err != nil {
		return aimg.TierGrant{}, err
	}
	changed, err := fn(subs)
	if err != nil {
		return aimg.TierGrant{}, err
	}
	for i := range changed {
		if err := putSubscription(ctx, tx, &changed[i]); err != nil {
			return aimg.TierGrant{}, err
		}
	}
	g, err := syncUserTier(ctx, tx, userID, now)
	if len(changed) > 0 {
		g.Subscription = changed[len(changed)-1]
	}
	return g, err
}

// ExpireSubscriptions marks the subscriptions whose expiry has passed as
// expired and recomputes their users' tiers; it returns how many it
// expired. Several sweepers may run at once (replicas): each subscription
// is expired by exactly one, the conditional UPDATE deciding, under the
// user's row lock so the tier written is computed after the change.
func (s *Store) ExpireSubscriptions(ctx context.Context, now time.Time) (int, error) {
	const batch = 200
	total := 0
	for {
		rows, err := s.w.QueryContext(ctx, `SELECT id, user_id FROM subscriptions
			WHERE status <> 'expired' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, ms(now), batch)
		if err != nil {
			return total, err
		}
		type due struct{ id, userID string }
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.userID); err != nil {
				rows.Close()
				return total, err
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		expired := 0
		for _, d := range list {
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				if err := lockUsers(ctx, tx, s.dialect, d.userID); err != nil {
					return err
				}
				res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'expired', updated_at = $2
					WHERE id = $1 AND status <> 'expired' AND expires_at <= $2`, d.id, ms(now))
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					return nil // another sweeper took it
				}
				expired++
				_, err = syncUserTier(ctx, tx, d.userID, now)
				return err
			})
			if err != nil {
				return total + expired, err
			}
		}
		total += expired
		if len(list) < batch {
			return total, nil
		}
	}
}

// CreateGiftCards inserts a batch of gift cards in one transaction.
func (s *Store) CreateGiftCards(ctx context.Context, cards []aimg.GiftCard) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range cards {
			if _, err := tx.ExecContext(ctx, `INSERT INTO gift_cards (code_hash, domain, provider, tier, days, usd_price,
				external_code, additional_information, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
				c.CodeHash, c.Domain, c.Provider, c.Tier, c.Days, c.USDPrice, c.ExternalCode, c.AdditionalInformation,
				ms(c.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrGiftCardUnknown is the answer for a code that does not exist, belongs
// to another domain or was redeemed already: one message for all three.
var ErrGiftCardUnknown = aimg.Errorf(aimg.CodeNotFound, "code: this gift card code is not valid or was already redeemed")

// RedeemGiftCard claims the unredeemed gift card codeHash for userID and
// hands it to decide with the user's subscriptions (under the user's row
// lock); decide returns the subscriptions to write. The claim is a
// conditional UPDATE: of concurrent redemptions of one code exactly one
// wins. decide's error rolls the claim back.
func (s *Store) RedeemGiftCard(ctx context.Context, domain, codeHash, userID string, now time.Time,
	decide func(card aimg.GiftCard, subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error) {
	var g aimg.TierGrant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockUsers(ctx, tx, s.dialect, userID); err != nil {
			return err
		}
		card := aimg.GiftCard{CodeHash: codeHash, Domain: domain}
		var created int64
		err := tx.QueryRowContext(ctx, `UPDATE gift_cards SET redeemed_at = $3, redeemed_by = $4
			WHERE code_hash = $1 AND domain = $2 AND redeemed_at IS NULL
			RETURNING provider, tier, days, usd_price, external_code, additional_information, created_at`,
			codeHash, domain, ms(now), userID).Scan(&card.Provider, &card.Tier, &card.Days, &card.USDPrice,
			&card.ExternalCode, &card.AdditionalInformation, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrGiftCardUnknown
		}
		if err != nil {
			return err
		}
		card.CreatedAt = fromMS(created)
		if g, err = changeSubscriptions(ctx, tx, s.dialect, userID, now, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
			return decide(card, subs)
		}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE gift_cards SET subscription_id = $2 WHERE code_hash = $1`, codeHash, g.Subscription.ID)
		return err
	})
	return g, err
}
