// Package billing is plans, PRO tiers, subscriptions and gift cards, and the
// internal payment providers (admin grants, gift cards). A user's tier is
// the highest tier among its live subscriptions; the store keeps it on the
// user row in the same transaction as every subscription change, so every
// reader of aimg.User.EffectiveTier sees it on the next request. It imports
// neither net/http nor SQL.
package billing

import (
	"context"
	"log/slog"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

// Store is the persistence billing needs; *store.Store has it.
type Store interface {
	UserByEmail(ctx context.Context, domain, email string) (*aimg.User, error)
	UserByID(ctx context.Context, id string) (*aimg.User, error)
	CreatePlan(ctx context.Context, p *aimg.BillingPlan) error
	Plans(ctx context.Context, domain, code string) ([]aimg.BillingPlan, error)
	Plan(ctx context.Context, domain, id string) (*aimg.BillingPlan, error)
	UserSubscriptions(ctx context.Context, userID string) ([]aimg.Subscription, error)
	ChangeSubscriptions(ctx context.Context, userID string, now time.Time,
		fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error)
	ExpireSubscriptions(ctx context.Context, now time.Time) (int, error)
	SubscriptionUser(ctx context.Context, provider, transactionID string) (string, error)
	ApplyProviderEvent(ctx context.Context, ev aimg.ProviderEvent, userID string, now time.Time,
		fn func(subs []aimg.Subscription) ([]aimg.Subscription, error)) (bool, aimg.TierGrant, error)
	CreateGiftCards(ctx context.Context, cards []aimg.GiftCard) error
	RedeemGiftCard(ctx context.Context, domain, codeHash, userID string, now time.Time,
		decide func(card aimg.GiftCard, subs []aimg.Subscription) ([]aimg.Subscription, error)) (aimg.TierGrant, error)
}

// Sender delivers emails; *mail.Outbox and *mail.SMTP have it.
type Sender interface {
	Send(ctx context.Context, m aimg.Email) error
}

// Service implements the billing use cases.
type Service struct {
	store     Store
	cfg       config.Config
	mail      Sender
	providers Providers
	log       *slog.Logger
	now       func() time.Time
}

// New builds the service with the configured external providers.
func New(st Store, cfg config.Config, sender Sender, providers Providers, log *slog.Logger, now func() time.Time) *Service {
	return &Service{store: st, cfg: cfg, mail: sender, providers: providers, log: log, now: now}
}

// Subscriptions returns a user's subscriptions, newest first.
func (s *Service) Subscriptions(ctx context.Context, userID string) ([]aimg.Subscription, error) {
	subs, err := s.store.UserSubscriptions(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(subs)-1; i < j; i, j = i+1, j-1 {
		subs[i], subs[j] = subs[j], subs[i]
	}
	return subs, nil
}

// SweepInterval is how often RunSweeper expires subscriptions.
const SweepInterval = time.Minute

// Sweep expires the subscriptions whose expiry has passed (and recomputes
// their users' tiers); safe to run on several replicas at once.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return s.store.ExpireSubscriptions(ctx, s.now())
}

// RunSweeper calls Sweep every interval, on turn (one replica of several),
// until ctx ends.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration, turn aimg.Turn) {
	aimg.EveryTurn(ctx, turn, "billing.sweep", interval, func(ctx context.Context) {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("expiring subscriptions failed", "err", err)
		} else if n > 0 {
			s.log.Info("expired subscriptions", "count", n)
		}
	})
}

func (s *Service) domainName(id string) string {
	for _, d := range s.cfg.Service.Domains {
		if d.ID == id && d.DisplayName != "" {
			return d.DisplayName
		}
	}
	return "AIMG"
}

// SweepEvery is the sweeper's interval (SweepInterval).
func (s *Service) SweepEvery() time.Duration { return SweepInterval }
