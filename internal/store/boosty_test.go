package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func TestBoostyAccountReplaces(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.BoostyAccount(ctx, "localhost"); !aimg.IsNotFound(err) {
			t.Fatalf("nothing injected: %v", err)
		}
		for i, blog := range []string{"first", "second"} {
			at := t0.Add(time.Duration(i) * time.Hour)
			if err := st.PutBoostyAccount(ctx, aimg.BoostyAccount{Domain: "localhost", AccountID: blog,
				SealedCookies: []byte{0, 1, 2, byte(i), 0xff}, CreatedAt: at, ExpiresAt: at.Add(aimg.BoostyCookieTTL)}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := st.BoostyAccount(ctx, "localhost")
		if err != nil || a.AccountID != "second" || string(a.SealedCookies) != string([]byte{0, 1, 2, 1, 0xff}) ||
			!a.ExpiresAt.Equal(t0.Add(time.Hour+aimg.BoostyCookieTTL)) {
			t.Fatalf("after replacing: %+v %v", a, err)
		}
		if _, err := st.BoostyAccount(ctx, "other"); !aimg.IsNotFound(err) {
			t.Fatalf("another domain: %v", err)
		}
	})
}

func boostySub(userID string) func([]aimg.Subscription) ([]aimg.Subscription, error) {
	return func([]aimg.Subscription) ([]aimg.Subscription, error) {
		exp := t0.Add(30 * 24 * time.Hour)
		return []aimg.Subscription{{ID: uuid.NewString(), UserID: userID, Domain: "localhost", Provider: aimg.ProviderBoosty,
			ProductID: "p", Tier: 2, Status: aimg.SubscriptionActive, ExpiresAt: &exp, PayerID: "b1", CreatedAt: t0, UpdatedAt: t0}}, nil
	}
}

// One Boosty subscriber belongs to one user: the first claim wins, even
// when claims race; a failed change leaves no claim; a deleted user's
// claim passes on.
func TestClaimBoostySubscriber(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b, c := newUser(t, st), newUser(t, st), newUser(t, st)

		// fn's error rolls the claim back.
		boom := errors.New("boom")
		if _, err := st.ClaimBoostySubscriber(ctx, "localhost", "b1", c.ID, t0, func([]aimg.Subscription) ([]aimg.Subscription, error) {
			return nil, boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failing fn: %v", err)
		}
		// Racing claims: exactly one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, u := range []*aimg.User{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = st.ClaimBoostySubscriber(ctx, "localhost", "b1", u.ID, t0, boostySub(u.ID))
			}()
		}
		wg.Wait()
		winner, loser := a, b
		if errs[0] != nil {
			winner, loser = b, a
		}
		if (errs[0] == nil) == (errs[1] == nil) || aimg.ErrorCode(errors.Join(errs...)) != aimg.CodeConflict {
			t.Fatalf("racing claims: %v", errs)
		}
		if g, err := st.ClaimBoostySubscriber(ctx, "localhost", "b1", winner.ID, t0, boostySub(winner.ID)); err != nil || g.Tier != 2 {
			t.Fatalf("the winner again: %+v %v", g, err)
		}
		if _, err := st.ClaimBoostySubscriber(ctx, "localhost", "b1", c.ID, t0, boostySub(c.ID)); aimg.ErrorCode(err) != aimg.CodeConflict {
			t.Fatalf("a third user: %v", err)
		}
		if subs, _ := st.UserSubscriptions(ctx, loser.ID); len(subs) != 0 {
			t.Errorf("the loser has %d subscriptions", len(subs))
		}
		// The same Boosty user id of another domain is another subscriber.
		if _, err := st.ClaimBoostySubscriber(ctx, "other", "b1", c.ID, t0, boostySub(c.ID)); err != nil {
			t.Fatalf("another domain: %v", err)
		}
		if owner, err := st.BoostyClaimOwner(ctx, "localhost", "b1"); err != nil || owner != winner.ID {
			t.Fatalf("owner %q %v, want the winner", owner, err)
		}
		if owner, err := st.BoostyClaimOwner(ctx, "localhost", "nobody"); err != nil || owner != "" {
			t.Fatalf("unclaimed owner %q %v", owner, err)
		}
		claims, err := st.BoostyClaims(ctx, winner.ID)
		if err != nil || len(claims) != 1 || claims[0].BoostyUserID != "b1" || claims[0].Domain != "localhost" {
			t.Fatalf("claims: %+v %v", claims, err)
		}
		// The winner deletes their account: the subscriber may be claimed again.
		now := t0.Add(time.Hour)
		winner.DeletedAt = &now
		if err := st.UpdateUser(ctx, winner); err != nil {
			t.Fatal(err)
		}
		if owner, _ := st.BoostyClaimOwner(ctx, "localhost", "b1"); owner != "" {
			t.Fatalf("a deleted owner is still the owner: %q", owner)
		}
		if _, err := st.ClaimBoostySubscriber(ctx, "localhost", "b1", loser.ID, now, boostySub(loser.ID)); err != nil {
			t.Fatalf("after the owner was deleted: %v", err)
		}
		if claims, _ := st.BoostyClaims(ctx, loser.ID); len(claims) != 1 {
			t.Errorf("the new owner's claims: %+v", claims)
		}
	})
}
