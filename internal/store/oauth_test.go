package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// A state is taken once, only by its provider, and not after it expired.
func TestOAuthStateSingleUse(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		put := func(state string, expires time.Time) {
			t.Helper()
			err := st.PutOAuthState(ctx, &aimg.OAuthState{State: state, Provider: "github", Verifier: "v-" + state,
				SessionID: uuid.NewString(), Domain: "localhost", RedirectURL: "https://app.example/done",
				RefList: []string{"a", "b"}, RS: "aff", IsAtLeast18Confirmed: true, CreatedAt: acctT0, ExpiresAt: expires})
			if err != nil {
				t.Fatal(err)
			}
		}
		put("s1", acctT0.Add(10*time.Minute))
		if _, err := st.TakeOAuthState(ctx, "discord", "s1", acctT0); !aimg.IsNotFound(err) {
			t.Fatalf("another provider's state: %v", err)
		}
		got, err := st.TakeOAuthState(ctx, "github", "s1", acctT0.Add(time.Minute))
		if err != nil || got.Verifier != "v-s1" || got.RS != "aff" || !got.IsAtLeast18Confirmed ||
			len(got.RefList) != 2 || got.RedirectURL != "https://app.example/done" {
			t.Fatalf("take: %+v %v", got, err)
		}
		if _, err := st.TakeOAuthState(ctx, "github", "s1", acctT0.Add(time.Minute)); !aimg.IsNotFound(err) {
			t.Fatalf("second take: %v", err)
		}
		put("s2", acctT0.Add(10*time.Minute))
		if _, err := st.TakeOAuthState(ctx, "github", "s2", acctT0.Add(10*time.Minute)); !aimg.IsNotFound(err) {
			t.Fatalf("expired take: %v", err)
		}
		put("s3", acctT0.Add(time.Minute))
		if n, err := st.DeleteExpiredOAuthStates(ctx, acctT0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("expired states deleted: %d %v", n, err)
		}
	})
}

// An identity links once; linking it again changes nothing.
func TestUserIdentities(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := newGuest(), newGuest()
		for _, u := range []*aimg.User{a, b} {
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.IdentityUser(ctx, "localhost", "github", "42"); !aimg.IsNotFound(err) {
			t.Fatalf("unlinked: %v", err)
		}
		for _, uid := range []string{a.ID, b.ID} {
			if err := st.LinkIdentity(ctx, aimg.UserIdentity{Domain: "localhost", Provider: "github", ProviderUserID: "42", UserID: uid,
				Email: "x@example.com", CreatedAt: acctT0}); err != nil {
				t.Fatal(err)
			}
		}
		u, err := st.IdentityUser(ctx, "localhost", "github", "42")
		if err != nil || u.ID != a.ID {
			t.Fatalf("linked user %v %v, want %s", u, err, a.ID)
		}
		ids, err := st.UserIdentities(ctx, a.ID)
		if err != nil || len(ids) != 1 || ids[0].ProviderUserID != "42" {
			t.Fatalf("identities %+v %v", ids, err)
		}
		if ids, _ := st.UserIdentities(ctx, b.ID); len(ids) != 0 {
			t.Fatalf("b got %v", ids)
		}
	})
}
