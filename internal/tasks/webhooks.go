package tasks

import (
	"context"
	"sync"
	"time"

	"aimg/internal/aimg"
)

// webhookBatch is how many due webhooks one pass takes.
const webhookBatch = 50

// DeliverWebhooks calls the webhooks of ended tasks every cfg.Poll until
// ctx ends: a failed delivery is retried after WebhookBackoff, doubled
// each time, up to WebhookAttempts deliveries. A claim moves the next
// attempt past the delivery's time, so that replicas do not call one
// webhook twice at once.
func (s *Service) DeliverWebhooks(ctx context.Context) {
	if s.webhook == nil {
		return
	}
	for ctx.Err() == nil {
		n := s.DeliverDueWebhooks(ctx)
		if n == webhookBatch {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.cfg.Poll):
		}
	}
}

// DeliverDueWebhooks makes one pass and tells how many webhooks it called.
func (s *Service) DeliverDueWebhooks(ctx context.Context) int {
	ts, err := s.store.ClaimWebhooks(ctx, s.now(), s.cfg.WebhookLease, webhookBatch)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("claiming webhooks", "err", err)
		}
		return 0
	}
	var wg sync.WaitGroup
	for i := range ts {
		t := &ts[i]
		wg.Go(func() {
			err := s.webhook.Send(ctx, t)
			var retryAt *time.Time
			if err != nil && t.WebhookAttempts < s.cfg.WebhookAttempts && aimg.ErrorCode(err) != aimg.CodeInvalid {
				at := s.now().Add(s.cfg.WebhookBackoff << min(t.WebhookAttempts-1, 16))
				retryAt = &at
			}
			if err != nil {
				s.log.Warn("task webhook failed", "task", t.ID, "attempt", t.WebhookAttempts, "retry", retryAt != nil, "err", err)
			}
			if derr := s.store.WebhookDelivered(ctx, t.ID, err == nil, retryAt); derr != nil && ctx.Err() == nil {
				s.log.Error("recording a webhook delivery", "task", t.ID, "err", derr)
			}
		})
	}
	wg.Wait()
	return len(ts)
}
