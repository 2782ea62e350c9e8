package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func TestClaimRunOncePerInterval(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		const every = time.Minute
		claim := func(name string, at time.Time) bool {
			t.Helper()
			ok, err := st.ClaimRun(ctx, name, at, every)
			if err != nil {
				t.Fatalf("ClaimRun(%s, %s): %v", name, at, err)
			}
			return ok
		}
		if !claim("sweep", t0) {
			t.Fatal("first claim refused")
		}
		if claim("sweep", t0) || claim("sweep", t0.Add(30*time.Second)) {
			t.Fatal("a second claim in the same interval was granted")
		}
		if !claim("other", t0) {
			t.Fatal("another sweep's first claim refused")
		}
		// A tick a few milliseconds early (drift) still gets its run.
		if !claim("sweep", t0.Add(every-5*time.Millisecond)) {
			t.Fatal("the claim one interval later (5 ms early) was refused")
		}
		if claim("sweep", t0.Add(every+time.Second)) {
			t.Fatal("a claim one second after the last run was granted")
		}
		if _, err := st.ClaimRun(ctx, "", t0, every); err == nil {
			t.Fatal("an empty name was accepted")
		}
	})
}

// Several replicas (stores on one database) asking at once: one runs.
func TestClaimRunConcurrentReplicas(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		stores := []*store.Store{testsupport.OpenStore(t, url), testsupport.OpenStore(t, url), testsupport.OpenStore(t, url)}
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for interval := range 5 {
			at := t0.Add(time.Duration(interval) * time.Minute)
			var granted atomic.Int32
			var wg sync.WaitGroup
			for _, st := range stores {
				for range 4 {
					wg.Go(func() {
						ok, err := st.ClaimRun(context.Background(), "sweep", at, time.Minute)
						if err != nil {
							t.Errorf("ClaimRun: %v", err)
						}
						if ok {
							granted.Add(1)
						}
					})
				}
			}
			wg.Wait()
			if n := granted.Load(); n != 1 {
				t.Fatalf("interval %d: %d runs granted, want 1", interval, n)
			}
		}
	})
}
