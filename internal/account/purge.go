package account

import (
	"aimg/internal/aimg"
	"context"
	"time"
)

// PurgeInterval is how often RunPurger removes what has expired.
const PurgeInterval = 10 * time.Minute

// PurgeExpired deletes the sessions, one-time passwords, external
// sign-in states and admin marks that expired.
// Expired rows are already ignored on read; this only keeps tables small.
func (s *Service) PurgeExpired(ctx context.Context) (sessions, otps int64, err error) {
	now := s.now()
	if sessions, err = s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return 0, 0, err
	}
	if otps, err = s.store.DeleteExpiredOTPs(ctx, now); err != nil {
		return sessions, 0, err
	}
	if _, err = s.store.DeleteExpiredOAuthStates(ctx, now); err != nil {
		return sessions, otps, err
	}
	_, err = s.store.DeleteExpiredAdminSessions(ctx, now)
	return sessions, otps, err
}

// RunPurger calls PurgeExpired every PurgeInterval, on turn (one replica
// of several), until ctx ends.
func (s *Service) RunPurger(ctx context.Context, turn aimg.Turn) {
	aimg.EveryTurn(ctx, turn, "account.purge", PurgeInterval, func(ctx context.Context) {
		if n, m, err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("purging expired sessions and OTPs failed", "err", err)
		} else if n+m > 0 {
			s.log.Info("purged expired sessions and OTPs", "sessions", n, "otps", m)
		}
	})
}
