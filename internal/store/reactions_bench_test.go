package store_test

import (
	"context"
	"sync/atomic"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/store"
)

// Reactions on one hot Item from 16 parallel users, each toggling its like
// (one likeItems or unlikeItems transaction per op): the worst case for
// counters stored on the Item row, whose lock every call takes.
func BenchmarkReactHotItem(b *testing.B) {
	forEachBenchStore(b, func(b *testing.B, st *store.Store) {
		ctx := context.Background()
		owner := newUser(b, st)
		it := testItem(owner.ID, 0)
		if err := st.InsertItems(ctx, []*aimg.Item{it}); err != nil {
			b.Fatal(err)
		}
		users := make([]string, 16)
		for i := range users {
			users[i] = newUser(b, st).ID
		}
		var next atomic.Int64
		b.SetParallelism(8) // 8 goroutines per GOMAXPROCS (2 here: 16 in all)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			user := users[int(next.Add(1)-1)%len(users)]
			remove := false
			for pb.Next() {
				_, err := st.React(ctx, aimg.ReactionChange{UserID: user, IDs: []string{it.ID}, Kind: aimg.ReactionLike,
					Remove: remove, At: itemsBase})
				if err != nil {
					b.Error(err)
					return
				}
				remove = !remove
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

// Reading an Item's counts: stored on the row (what the API does) against
// computed from the reactions table, for an Item with 1,000 reactions.
func BenchmarkReactionCountsRead(b *testing.B) {
	forEachBenchStore(b, func(b *testing.B, st *store.Store) {
		ctx := context.Background()
		owner := newUser(b, st)
		it := testItem(owner.ID, 0)
		if err := st.InsertItems(ctx, []*aimg.Item{it}); err != nil {
			b.Fatal(err)
		}
		for range 1000 {
			u := newUser(b, st).ID
			if _, err := st.React(ctx, aimg.ReactionChange{UserID: u, IDs: []string{it.ID}, Kind: aimg.ReactionLike, At: itemsBase}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("stored", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.ItemByID(ctx, it.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("computed", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.ItemByID(ctx, it.ID); err != nil {
					b.Fatal(err)
				}
				if _, _, err := st.ReactionCounts(ctx, it.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
