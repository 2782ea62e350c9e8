package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// The same webhook event delivered many times at once is applied once; an
// event older than the newest applied one of its subscription is recorded
// and changes nothing; a newer one applies.
func TestProviderEventsApplyOnceAndInOrder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, uuid.NewString()+"@events.example", false)
		add := func(ev aimg.ProviderEvent, ran *atomic.Int32) (bool, error) {
			applied, _, err := st.ApplyProviderEvent(ctx, ev, u.ID, acctT0, func(subs []aimg.Subscription) ([]aimg.Subscription, error) {
				ran.Add(1)
				end := ev.PeriodEnd
				return []aimg.Subscription{{ID: "sub-" + ev.EventID, UserID: u.ID, Domain: "localhost", Provider: "stripe",
					TransactionID: ev.SubscriptionID, Tier: 2, Status: aimg.SubscriptionActive, ExpiresAt: &end, CreatedAt: acctT0, UpdatedAt: acctT0}}, nil
			})
			return applied, err
		}
		ev := aimg.ProviderEvent{Provider: "stripe", EventID: "evt_1", Kind: aimg.ProviderRenewed, SubscriptionID: "sub_1",
			Created: acctT0, PeriodEnd: acctT0.Add(30 * 24 * time.Hour)}
		var ran, appliedCount atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				applied, err := add(ev, &ran)
				if err != nil {
					t.Error(err)
				}
				if applied {
					appliedCount.Add(1)
				}
			})
		}
		wg.Wait()
		if ran.Load() != 1 || appliedCount.Load() != 1 {
			t.Fatalf("8 concurrent deliveries: fn ran %d times, %d applied; want 1 and 1", ran.Load(), appliedCount.Load())
		}
		if subs, _ := st.UserSubscriptions(ctx, u.ID); len(subs) != 1 {
			t.Fatalf("%d subscriptions", len(subs))
		}
		if who, err := st.SubscriptionUser(ctx, "stripe", "sub_1"); err != nil || who != u.ID {
			t.Fatalf("SubscriptionUser = %q, %v", who, err)
		}
		older := ev
		older.EventID, older.Created = "evt_0", acctT0.Add(-time.Second)
		ran.Store(0)
		if applied, err := add(older, &ran); err != nil || applied || ran.Load() != 0 {
			t.Fatalf("older event: applied %v, ran %d, %v", applied, ran.Load(), err)
		}
		newer := ev
		newer.EventID, newer.Created = "evt_2", acctT0.Add(time.Second)
		if applied, err := add(newer, &ran); err != nil || !applied || ran.Load() != 1 {
			t.Fatalf("newer event: applied %v, ran %d, %v", applied, ran.Load(), err)
		}
		// The older one stays recorded: delivering it again is a replay.
		if applied, err := add(older, &ran); err != nil || applied || ran.Load() != 1 {
			t.Fatalf("older event again: applied %v, ran %d, %v", applied, ran.Load(), err)
		}
	})
}
