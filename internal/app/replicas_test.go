package app_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/billing"
	"aimg/internal/library"
	"aimg/internal/testsupport"
)

// replicas starts n apps on one PostgreSQL database (skipped without one),
// as n `aimg serve` processes would run.
func replicas(t *testing.T, n int) []*testsupport.Server {
	t.Helper()
	url := testsupport.FreshPostgres(t)
	out := make([]*testsupport.Server, n)
	for i := range out {
		out[i] = testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
	}
	return out
}

// atOnce calls fn for every replica at the same time and waits.
func atOnce(srvs []*testsupport.Server, fn func(i int, srv *testsupport.Server)) {
	var wg sync.WaitGroup
	for i, srv := range srvs {
		wg.Go(func() { fn(i, srv) })
	}
	wg.Wait()
}

// Every sweep that takes turns runs on exactly one of three replicas per
// interval, whichever ticks first, also when their tickers are a few
// milliseconds apart and drift.
func TestSweepsRunOncePerIntervalAcrossReplicas(t *testing.T) {
	srvs := replicas(t, 3)
	var mu sync.Mutex
	wall := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	offsets := []time.Duration{0, 3 * time.Millisecond, 7 * time.Millisecond}
	for i, srv := range srvs {
		srv.App.SetWallClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return wall.Add(offsets[i])
		})
	}
	sweeps := map[string]time.Duration{
		"account.purge":              account.PurgeInterval,
		"billing.sweep":              billing.SweepInterval,
		"library.viewPurge":          library.ViewPurgeInterval,
		"generation.orphanedOutputs": 10 * time.Minute,
		"tasks.followImages":         srvs[0].App.Config.Service.OCS.PollInterval,
		"tasks.expire":               time.Hour,
	}
	for name, every := range sweeps {
		runs := map[int]int{} // replica -> runs
		for interval := range 4 {
			var ran atomic.Int32
			atOnce(srvs, func(i int, srv *testsupport.Server) {
				if srv.App.TakeTurn(t.Context(), name, every) {
					ran.Add(1)
					mu.Lock()
					runs[i]++
					mu.Unlock()
				}
			})
			if n := ran.Load(); n != 1 {
				t.Fatalf("%s, interval %d: %d replicas ran it, want 1", name, interval, n)
			}
			// Half an interval later nobody runs it again.
			mu.Lock()
			wall = wall.Add(every / 2)
			mu.Unlock()
			atOnce(srvs, func(i int, srv *testsupport.Server) {
				if srv.App.TakeTurn(t.Context(), name, every) {
					ran.Add(1)
				}
			})
			if n := ran.Load(); n != 1 {
				t.Fatalf("%s, interval %d: ran again half an interval later (%d runs)", name, interval, n)
			}
			// The next interval's ticks come a millisecond early (drift).
			mu.Lock()
			wall = wall.Add(every - every/2 - time.Millisecond)
			mu.Unlock()
		}
		t.Logf("%s: runs per replica %v", name, runs)
	}
}

// The reaper runs on every replica: three reaping at once requeue a Job
// whose worker died exactly once, spending one attempt, and its Item is
// queued again.
func TestReapersOnSeveralReplicasRequeueOnce(t *testing.T) {
	srvs := replicas(t, 3)
	user := testsupport.SignUp(t, srvs[0], "reaped@example.com")
	env := srvs[0].Post(t, "/api/generateImage", user.SessionID, map[string]any{"prompt": "a lighthouse", "seed": 1})
	testsupport.ExpectOK(t, env)
	var gen struct{ ImageID string }
	env.Decode(t, &gen)
	var models []string
	for _, m := range srvs[1].App.Config.Service.Models {
		models = append(models, m.ModelID)
	}
	job, err := srvs[1].App.Generation.Claim(t.Context(), "dead-worker/0", models)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	lease := srvs[1].App.Config.Service.Generation.LeaseDuration
	for _, srv := range srvs {
		srv.Clock.Advance(lease + time.Second)
	}
	var requeued, failed atomic.Int32
	atOnce(srvs, func(_ int, srv *testsupport.Server) {
		r, f, err := srv.App.Store.RequeueExpired(context.Background(), srv.Clock.Now())
		if err != nil {
			t.Errorf("reap: %v", err)
		}
		requeued.Add(int32(r))
		failed.Add(int32(f))
	})
	if requeued.Load() != 1 || failed.Load() != 0 {
		t.Fatalf("requeued %d, failed %d; want 1, 0", requeued.Load(), failed.Load())
	}
	got, err := srvs[2].App.Store.JobByID(t.Context(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != aimg.JobQueued || got.Attempts != 1 {
		t.Fatalf("job after the reapers: %s, %d attempts; want queued, 1", got.Status, got.Attempts)
	}
	env = srvs[2].Get(t, "/api/getItemStatus?imageID="+gen.ImageID, user.SessionID)
	testsupport.ExpectOK(t, env)
	var st struct{ Status string }
	env.Decode(t, &st)
	if st.Status != "queued" {
		t.Fatalf("item after the reapers: %s", st.Status)
	}
}

// The idempotent sweeps give the same result run on three replicas at
// once as run once: tier expiry expires each subscription once, the
// orphan sweep hands each file to one replica, task expiry removes each
// task once.
func TestConcurrentSweepsOnReplicasAreIdempotent(t *testing.T) {
	srvs := replicas(t, 3)
	ctx := t.Context()
	st := srvs[0].App.Store
	now := srvs[0].Clock.Now()

	t.Run("orphaned outputs", func(t *testing.T) {
		const files = 30
		var ids []aimg.PendingOutput
		for i := range files {
			ids = append(ids, aimg.PendingOutput{FileID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i)})
		}
		if err := st.AddPendingOutputs(ctx, "00000000-0000-4000-8000-00000000dead", ids, now.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		claimed := map[string]int{}
		var mu sync.Mutex
		atOnce(srvs, func(_ int, srv *testsupport.Server) {
			got, err := srv.App.Store.ClaimOrphanedOutputs(ctx, now, 500)
			if err != nil {
				t.Errorf("claim orphans: %v", err)
			}
			mu.Lock()
			for _, o := range got {
				claimed[o.FileID]++
			}
			mu.Unlock()
		})
		if len(claimed) != files {
			t.Fatalf("%d orphans claimed, want %d", len(claimed), files)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Fatalf("orphan %s claimed %d times", id, n)
			}
		}
	})

	t.Run("task expiry", func(t *testing.T) {
		u := testsupport.SignUp(t, srvs[0], "tasks@example.com")
		const tasks = 50
		for range tasks {
			task := &aimg.Task{Type: aimg.TaskTypeHeadline, UserID: u.UserID, AppID: "assistant", Input: []byte(`{"input":"x"}`),
				Status: aimg.TaskSuccessful, MaxAttempts: 1, ScheduledAt: now.Add(-30 * 24 * time.Hour), LastUpdated: now.Add(-30 * 24 * time.Hour)}
			if err := st.CreateTask(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
		var removed atomic.Int64
		atOnce(srvs, func(_ int, srv *testsupport.Server) {
			for {
				n, err := srv.App.Store.DeleteTasksUpdatedBefore(ctx, now.Add(-7*24*time.Hour), 7)
				if err != nil {
					t.Errorf("expire tasks: %v", err)
					return
				}
				removed.Add(n)
				if n < 7 {
					return
				}
			}
		})
		if removed.Load() != tasks {
			t.Fatalf("%d tasks removed, want %d", removed.Load(), tasks)
		}
	})
}
