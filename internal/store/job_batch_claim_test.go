package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// batchClaim is ClaimJobs for owners of models at now.
func batchClaim(st *store.Store, owners []string, now time.Time, models ...string) ([]*aimg.Job, error) {
	return st.ClaimJobs(context.Background(), aimg.Claim{WorkerIDs: owners, ModelIDs: models, Lease: testLease,
		StarvationBound: time.Minute, Now: now})
}

func owners(prefix string, n int) []string {
	var ws []string
	for i := range n {
		ws = append(ws, fmt.Sprintf("%s/%d", prefix, i))
	}
	return ws
}

// A batch of n takes the Jobs that n single claims in a row take, in the
// same order (queue preference, starvation, fair share inside a queue),
// whatever n, across several Models and both priorities, with users whose
// Jobs interleave and normal queues of which some starve and some do not.
func TestClaimJobsOrderIsSingleClaimsOrder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(11, 7))
		var users []*aimg.User
		for range 4 {
			users = append(users, newUser(t, st))
		}
		models := []string{"m", "n", "o"}
		// 120 Jobs over three minutes: with the claims at t0+3m and a bound
		// of a minute, a normal queue's head starves while its oldest Job
		// is older than t0+2m, and stops starving as the batch takes it.
		for i := range 120 {
			at := t0.Add(time.Duration(i) * 1500 * time.Millisecond)
			prio := 0
			if rng.IntN(4) == 0 {
				prio = 1
			}
			enqueue(t, st, newJob(users[rng.IntN(len(users))].ID, models[rng.IntN(len(models))], prio, at))
		}
		now := t0.Add(3 * time.Minute)
		release := func(jobs []*aimg.Job) {
			t.Helper()
			for _, j := range jobs {
				if err := st.ReleaseJob(ctx, j.Lease(), now); err != nil {
					t.Fatal(err)
				}
			}
		}
		ids := func(jobs []*aimg.Job) []string {
			var s []string
			for _, j := range jobs {
				s = append(s, j.ID)
			}
			return s
		}
		left := 120
		for round := 0; left > 0; round++ {
			n := []int{1, 2, 3, 5, 8, 13, 32}[round%7]
			claimFrom := models
			if round%3 == 2 {
				claimFrom = models[:2] // a worker of some of the Models
			}
			batch, err := batchClaim(st, owners("b", n), now, claimFrom...)
			if err != nil {
				t.Fatalf("round %d: batch of %d: %v", round, n, err)
			}
			release(batch)
			var singles []*aimg.Job
			for range n {
				j, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: "s", ModelIDs: claimFrom, Lease: testLease,
					StarvationBound: time.Minute, Now: now})
				if aimg.IsNotFound(err) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				singles = append(singles, j)
			}
			if !slices.Equal(ids(batch), ids(singles)) {
				t.Fatalf("round %d: a batch of %d took %v, %d single claims %v", round, n, ids(batch), n, ids(singles))
			}
			for i, j := range batch {
				if want := fmt.Sprintf("b/%d", i); j.LeaseOwner != want || j.Status != aimg.JobRunning {
					t.Fatalf("batch job %d leased to %q (%s), want %s running", i, j.LeaseOwner, j.Status, want)
				}
			}
			// The single claims keep theirs: the next round starts further on.
			for _, j := range singles {
				res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}
				if err := st.CompleteJob(ctx, j.Lease(), res, "", now); err != nil {
					t.Fatal(err)
				}
			}
			left -= len(singles)
			if len(singles) == 0 {
				break // what is left is of the Model the round did not claim
			}
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// Each Job of a batch is leased to its own owner: heartbeats, completion,
// failure and release-worker go by that lease alone. A batch larger than
// the queue takes what there is, for its first owners; an empty queue is
// not found; bad batches are refused.
func TestClaimJobsLeasesPerOwner(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		for i := range 3 {
			enqueue(t, st, newJob(u.ID, "m", 0, t0.Add(time.Duration(i)*time.Second)))
		}
		jobs, err := batchClaim(st, []string{"k/w/0", "k/w/1", "k/w/2", "k/w/3"}, t0, "m")
		if err != nil || len(jobs) != 3 {
			t.Fatalf("batch of 4 over 3 queued jobs: %d jobs, %v", len(jobs), err)
		}
		for i, j := range jobs {
			if j.LeaseOwner != fmt.Sprintf("k/w/%d", i) || j.Attempts != 1 || !j.LeaseExpiresAt.Equal(t0.Add(testLease)) {
				t.Fatalf("job %d: owner %q attempt %d expires %v", i, j.LeaseOwner, j.Attempts, j.LeaseExpiresAt)
			}
			if s := itemStatus(t, st, j.ItemIDs[0]); s != aimg.StatusProcessing {
				t.Fatalf("job %d's item is %s", i, s)
			}
			if err := st.Heartbeat(ctx, j.Lease(), 0.5, t0.Add(time.Second), t0.Add(time.Minute)); err != nil {
				t.Fatalf("heartbeat of job %d by its owner: %v", i, err)
			}
		}
		other := jobs[0].Lease()
		other.WorkerID = jobs[1].LeaseOwner
		if err := st.Heartbeat(ctx, other, 0.5, t0, t0.Add(time.Minute)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("heartbeat of job 0 by job 1's owner: %v, want lease lost", err)
		}
		if err := st.CompleteJob(ctx, other, []aimg.ItemResult{{ItemID: jobs[0].ItemIDs[0], FileID: "f"}}, "", t0); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("complete of job 0 by job 1's owner: %v, want lease lost", err)
		}
		if err := st.CompleteJob(ctx, jobs[1].Lease(), []aimg.ItemResult{{ItemID: jobs[1].ItemIDs[0], FileID: "f"}}, "", t0); err != nil {
			t.Fatalf("complete job 1: %v", err)
		}
		if requeued, err := st.FailJob(ctx, jobs[2].Lease(), "oom", true, t0); err != nil || !requeued {
			t.Fatalf("fail job 2: %v %v", requeued, err)
		}
		if n, err := st.ReleaseWorkerJobs(ctx, "k/w/0", t0); err != nil || n != 1 {
			t.Fatalf("release worker k/w/0: %d, %v; want its one job", n, err)
		}
		if n, err := st.ReleaseWorkerJobs(ctx, "k/w/1", t0); err != nil || n != 0 {
			t.Fatalf("release worker k/w/1 after its completion: %d, %v", n, err)
		}
		// Jobs 0 (attempt unspent) and 2 (one spent) are queued again.
		again, err := batchClaim(st, owners("x", 2), t0, "m")
		if err != nil || len(again) != 2 || again[0].ID != jobs[0].ID || again[0].Attempts != 1 ||
			again[1].ID != jobs[2].ID || again[1].Attempts != 2 {
			t.Fatalf("second batch: %v %v", again, err)
		}
		if _, err := batchClaim(st, owners("x", 2), t0, "m"); !aimg.IsNotFound(err) {
			t.Fatalf("batch on an empty queue: %v, want not found", err)
		}
		for _, bad := range []aimg.Claim{
			{ModelIDs: []string{"m"}},
			{WorkerIDs: owners("x", aimg.MaxClaimBatch+1), ModelIDs: []string{"m"}},
			{WorkerID: "x", WorkerIDs: owners("x", 1), ModelIDs: []string{"m"}},
		} {
			if _, err := st.ClaimJobs(ctx, bad); err == nil || aimg.IsNotFound(err) {
				t.Fatalf("ClaimJobs(%d owners, worker %q): %v, want refused", len(bad.WorkerIDs), bad.WorkerID, err)
			}
		}
	})
}

// Several claimers batch-claiming at once, while Jobs are enqueued into
// four queues, never hand a Job to two owners: each attempt of each Job
// goes to one owner, every Job completes once, nothing fails (PostgreSQL:
// no deadlock between batches on the counter rows) and the counters match
// a recount.
func TestClaimJobsConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const queued, enqueuedLater = 160, 40
		var users []*aimg.User
		for range 3 {
			users = append(users, newUser(t, st))
		}
		models := []string{"m", "n"}
		for i := range queued {
			enqueue(t, st, newJob(users[i%3].ID, models[i%2], i/2%2, t0.Add(time.Duration(i)*time.Millisecond)))
		}
		var (
			mu        sync.Mutex
			held      = map[string]string{} // job id/attempt: its owner
			completed = map[string]bool{}
			wg        sync.WaitGroup
			enq       sync.WaitGroup
			done      = make(chan struct{})
		)
		enq.Go(func() {
			for i := range enqueuedLater {
				if _, err := st.Enqueue(ctx, newJob(users[i%3].ID, models[i%2], i%2, t0.Add(time.Minute))); err != nil {
					t.Error(err)
					return
				}
			}
		})
		go func() { enq.Wait(); close(done) }()
		for c := range 4 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(c), 3))
				for round := 0; !t.Failed(); round++ {
					ws := owners(fmt.Sprintf("c%d-%d", c, round), 1+rng.IntN(8))
					jobs, err := batchClaim(st, ws, t0.Add(time.Minute), models...)
					if aimg.IsNotFound(err) {
						select {
						case <-done:
							mu.Lock()
							all := len(completed) == queued+enqueuedLater
							mu.Unlock()
							if all {
								return
							}
						default:
						}
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					if len(jobs) > len(ws) {
						t.Errorf("%d jobs for %d owners", len(jobs), len(ws))
					}
					for i, j := range jobs {
						mu.Lock()
						key := fmt.Sprint(j.ID, "/", j.Attempts)
						if prev, dup := held[key]; dup {
							t.Errorf("job %s handed to %s and %s", key, prev, j.LeaseOwner)
						}
						held[key] = j.LeaseOwner
						first := j.Attempts == 1
						mu.Unlock()
						if j.LeaseOwner != ws[i] {
							t.Errorf("job %d of a batch leased to %s, want %s", i, j.LeaseOwner, ws[i])
						}
						if first && j.Seq%5 == 0 {
							if _, err := st.FailJob(ctx, j.Lease(), "retry", true, t0); err != nil {
								t.Error(err)
							}
							continue
						}
						if err := st.CompleteJob(ctx, j.Lease(), []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", t0); err != nil {
							t.Error(err)
							continue
						}
						mu.Lock()
						if completed[j.ID] {
							t.Errorf("job %s completed twice", j.ID)
						}
						completed[j.ID] = true
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		counts, _ := st.JobsByStatus(ctx)
		if counts[aimg.JobCompleted] != queued+enqueuedLater {
			t.Fatalf("jobs by status %v", counts)
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}
