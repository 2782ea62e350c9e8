package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func react(t *testing.T, st *store.Store, userID, kind string, remove bool, check func(*aimg.Item) error, ids ...string) []error {
	t.Helper()
	out, err := st.React(context.Background(), aimg.ReactionChange{
		UserID: userID, IDs: ids, Kind: kind, Remove: remove, At: itemsBase, Check: check,
	})
	if err != nil {
		t.Fatalf("react %s remove=%v: %v", kind, remove, err)
	}
	return out
}

// counts returns the stored counters and checks them against a recount.
func counts(t *testing.T, st *store.Store, id string) (likes, dislikes int64) {
	t.Helper()
	it, err := st.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	l, d, err := st.ReactionCounts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if it.LikeCount != l || it.DislikeCount != d {
		t.Fatalf("item %s: stored likes/dislikes %d/%d, recount %d/%d", id, it.LikeCount, it.DislikeCount, l, d)
	}
	return l, d
}

func wantCounts(t *testing.T, st *store.Store, id string, likes, dislikes int64) {
	t.Helper()
	if l, d := counts(t, st, id); l != likes || d != dislikes {
		t.Fatalf("item %s: likes/dislikes %d/%d, want %d/%d", id, l, d, likes, dislikes)
	}
}

func wantOutcome(t *testing.T, got error, want string) {
	t.Helper()
	switch {
	case want == "" && got != nil:
		t.Fatalf("outcome %v, want success", got)
	case want != "" && (got == nil || got.Error() != want):
		t.Fatalf("outcome %v, want %q", got, want)
	}
}

// A like replaces the user's dislike and the reverse; liking twice, or
// removing a reaction that is not there, changes nothing and says so; an
// unknown id or a refused Check is that Item's outcome alone.
func TestReactionsLikeAndDislike(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		owner, other := newItemsUser(t, st, false), newItemsUser(t, st, false)
		a, b := testItem(owner, 0), testItem(owner, 1)
		insertItems(t, st, a, b)
		like, dislike := aimg.ReactionLike, aimg.ReactionDislike

		out := react(t, st, owner, like, false, nil, a.ID, "no-such-item", b.ID)
		wantOutcome(t, out[0], "")
		wantOutcome(t, out[1], "Item not found")
		wantOutcome(t, out[2], "")
		wantCounts(t, st, a.ID, 1, 0)
		wantOutcome(t, react(t, st, owner, like, false, nil, a.ID)[0], "Item is already liked")
		wantCounts(t, st, a.ID, 1, 0)

		react(t, st, other, like, false, nil, a.ID)
		wantCounts(t, st, a.ID, 2, 0)
		wantOutcome(t, react(t, st, owner, dislike, false, nil, a.ID)[0], "") // replaces the like
		wantCounts(t, st, a.ID, 1, 1)
		got, err := st.Reactions(context.Background(), owner, []string{a.ID, b.ID})
		if err != nil || got[a.ID] != dislike || got[b.ID] != like {
			t.Fatalf("reactions %v %v, want a disliked and b liked", got, err)
		}

		wantOutcome(t, react(t, st, owner, like, true, nil, a.ID)[0], "Item is not liked")
		wantOutcome(t, react(t, st, owner, dislike, true, nil, a.ID)[0], "")
		wantCounts(t, st, a.ID, 1, 0)
		wantOutcome(t, react(t, st, owner, dislike, true, nil, a.ID)[0], "Item is not disliked")

		refused := errors.New("refused")
		out = react(t, st, other, dislike, false, func(it *aimg.Item) error {
			if it.ID == b.ID {
				return refused
			}
			return nil
		}, b.ID, a.ID)
		if out[0] != refused || out[1] != nil {
			t.Fatalf("outcomes %v, want the refusal for b only", out)
		}
		wantCounts(t, st, b.ID, 1, 0)
		wantCounts(t, st, a.ID, 0, 1)
	})
}

// A database error undoes the whole call: a reaction by a user that does not
// exist (foreign key) changes no Item, not even the ones before it.
func TestReactionsAllOrNothing(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		owner := newItemsUser(t, st, false)
		a, b := testItem(owner, 0), testItem(owner, 1)
		insertItems(t, st, a, b)
		_, err := st.React(context.Background(), aimg.ReactionChange{
			UserID: "no-such-user", IDs: []string{a.ID, b.ID}, Kind: aimg.ReactionLike, At: itemsBase,
		})
		if err == nil {
			t.Fatal("a reaction by an unknown user was stored")
		}
		wantCounts(t, st, a.ID, 0, 0)
		wantCounts(t, st, b.ID, 0, 0)
	})
}

// The counters follow every writer of the reactions table: deleting a user
// takes their reactions (and counts) away, and a guest's reactions move to
// the account on sign-in, the account's own reaction winning where both
// reacted to the same Item.
func TestReactionsFollowUsers(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		owner := newItemsUser(t, st, false)
		a, b := testItem(owner, 0), testItem(owner, 1)
		insertItems(t, st, a, b)

		guest, account := newItemsUser(t, st, true), newItemsUser(t, st, false)
		react(t, st, guest, aimg.ReactionLike, false, nil, a.ID, b.ID)
		react(t, st, account, aimg.ReactionDislike, false, nil, a.ID)
		wantCounts(t, st, a.ID, 1, 1)
		if err := st.MoveGuestData(ctx, guest, account, itemsBase); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, st, a.ID, 0, 1)
		wantCounts(t, st, b.ID, 1, 0)
		got, err := st.Reactions(ctx, account, []string{a.ID, b.ID})
		if err != nil || got[a.ID] != aimg.ReactionDislike || got[b.ID] != aimg.ReactionLike {
			t.Fatalf("account's reactions after the merge %v %v", got, err)
		}

		if err := st.ExecForTest(ctx, `DELETE FROM users WHERE id = $1`, account); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, st, a.ID, 0, 0)
		wantCounts(t, st, b.ID, 0, 0)
	})
}

// Counts stay exact under concurrent calls: 8 users in parallel each make
// random reaction calls on overlapping sets of 5 Items (in varying order);
// afterwards every Item's counters equal the recount, and each user's last
// state matches what the calls' outcomes said.
func TestReactionsConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		owner := newItemsUser(t, st, false)
		var items []*aimg.Item
		for i := range 5 {
			items = append(items, testItem(owner, time.Duration(i)*time.Millisecond))
		}
		insertItems(t, st, items...)
		const users, calls = 8, 40
		var wg sync.WaitGroup
		errs := make(chan error, users)
		for u := range users {
			userID := newItemsUser(t, st, false)
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(u), 7))
				state := map[string]string{}
				for range calls {
					kind := []string{aimg.ReactionLike, aimg.ReactionDislike}[rng.IntN(2)]
					remove := rng.IntN(3) == 0
					perm := rng.Perm(len(items))[:1+rng.IntN(len(items))]
					batch := make([]string, len(perm))
					for i, p := range perm {
						batch[i] = items[p].ID
					}
					out, err := st.React(context.Background(), aimg.ReactionChange{
						UserID: userID, IDs: batch, Kind: kind, Remove: remove, At: itemsBase,
					})
					if err != nil {
						errs <- err
						return
					}
					for i, id := range batch {
						if out[i] == nil && remove {
							delete(state, id)
						} else if out[i] == nil {
							state[id] = kind
						}
					}
				}
				got, err := st.Reactions(context.Background(), userID, ids(items))
				if err != nil {
					errs <- err
					return
				}
				if fmt.Sprint(got) != fmt.Sprint(state) {
					errs <- fmt.Errorf("user %d: stored reactions %v, outcomes said %v", u, got, state)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, it := range items {
			counts(t, st, it.ID) // fails if a counter differs from the recount
		}
	})
}
