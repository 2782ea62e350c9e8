package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func grant(t *testing.T, st *store.Store, userID string, tier int, expires *time.Time, now time.Time) aimg.TierGrant {
	t.Helper()
	g, err := st.ChangeSubscriptions(context.Background(), userID, now, func([]aimg.Subscription) ([]aimg.Subscription, error) {
		return []aimg.Subscription{{ID: uuid.NewString(), UserID: userID, Domain: "localhost", Provider: aimg.ProviderAdmin,
			ProductID: "p", Tier: tier, Status: aimg.SubscriptionActive, ExpiresAt: expires, CreatedAt: now, UpdatedAt: now}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func at(d time.Duration) *time.Time { v := acctT0.Add(d); return &v }

// The user's tier is the highest live subscription's, kept on the user row;
// the sweeper expires each subscription once (two sweepers at once) and the
// tier falls back to the next live one.
func TestSubscriptionTierAndConcurrentSweepers(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const users = 20
		var ids []string
		for i := range users {
			u := newTestUser(t, st, uuid.NewString()+"@sweep.example", false)
			ids = append(ids, u.ID)
			grant(t, st, u.ID, 1, at(48*time.Hour), acctT0)
			if g := grant(t, st, u.ID, 3, at(time.Hour+time.Duration(i)*time.Second), acctT0); g.Tier != 3 {
				t.Fatalf("tier after grant = %d, want 3", g.Tier)
			}
		}
		u, _ := st.UserByID(ctx, ids[0])
		if u.Tier != 3 || u.MerchantProcessor != aimg.ProviderAdmin || u.TierExpiration == nil || !u.TierExpiration.Equal(*at(time.Hour)) {
			t.Fatalf("user row tier %d exp %v mp %q", u.Tier, u.TierExpiration, u.MerchantProcessor)
		}
		// Nothing is due yet.
		if n, err := st.ExpireSubscriptions(ctx, acctT0.Add(time.Minute)); err != nil || n != 0 {
			t.Fatalf("early sweep = %d, %v", n, err)
		}
		later := acctT0.Add(2 * time.Hour)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i := range counts {
			wg.Go(func() {
				n, err := st.ExpireSubscriptions(ctx, later)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if counts[0]+counts[1] != users {
			t.Fatalf("sweepers expired %v, want %d in all", counts, users)
		}
		for _, id := range ids {
			u, _ := st.UserByID(ctx, id)
			if u.Tier != 1 || u.EffectiveTier(later) != 1 || !u.TierExpiration.Equal(*at(48 * time.Hour)) {
				t.Fatalf("after sweep tier %d exp %v, want 1 until +48h", u.Tier, u.TierExpiration)
			}
			subs, _ := st.UserSubscriptions(ctx, id)
			expired := 0
			for _, s := range subs {
				if s.Status == aimg.SubscriptionExpired {
					expired++
				}
			}
			if expired != 1 {
				t.Fatalf("expired subscriptions = %d, want 1", expired)
			}
		}
		if n, _ := st.ExpireSubscriptions(ctx, acctT0.Add(72*time.Hour)); n != users {
			t.Fatalf("final sweep = %d", n)
		}
		if u, _ := st.UserByID(ctx, ids[0]); u.Tier != 0 || u.TierExpiration != nil || u.MerchantProcessor != "" {
			t.Fatalf("after all expired: %d %v %q", u.Tier, u.TierExpiration, u.MerchantProcessor)
		}
	})
}

// UpdateUser with a copy read before a grant does not undo the grant.
func TestUpdateUserKeepsTheSubscriptionTier(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUser(t, st, "stale@copy.example", false)
		stale, _ := st.UserByID(ctx, u.ID)
		grant(t, st, u.ID, 2, nil, acctT0)
		stale.Username = "renamed"
		if err := st.UpdateUser(ctx, stale); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.UserByID(ctx, u.ID); got.Tier != 2 || got.MerchantProcessor != aimg.ProviderAdmin || got.Username != "renamed" {
			t.Fatalf("after a stale UpdateUser: tier %d mp %q name %q", got.Tier, got.MerchantProcessor, got.Username)
		}
	})
}
