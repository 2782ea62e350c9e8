package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// checkPositions asserts that the queued Jobs want (in the order they will
// be claimed) have positions 1..len(want), and that the queue's length is
// len(want).
func checkPositions(t *testing.T, st *store.Store, queueID string, want []*aimg.Job) {
	t.Helper()
	ctx := context.Background()
	for i, j := range want {
		pos, err := st.QueuePosition(ctx, j.ID)
		if err != nil || pos != int64(i+1) {
			t.Fatalf("position of job %d (user %s) = %d, %v; want %d", i, j.UserID[:4], pos, err, i+1)
		}
	}
	if n, err := st.QueueLength(ctx, queueID); err != nil || n != int64(len(want)) {
		t.Fatalf("length of %s = %d, %v; want %d", queueID, n, err, len(want))
	}
}

// claimAll claims n Jobs of model m and returns their ids.
func claimIDs(t *testing.T, st *store.Store, now time.Time, n int, m string) []string {
	t.Helper()
	var ids []string
	for range n {
		ids = append(ids, claim(t, st, "w", now, m).ID)
	}
	return ids
}

// One user's batch of 100 does not hold back two users who come after it.
func TestFairShareBatchDoesNotStarveOthers(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		a, b, c := newUser(t, st), newUser(t, st), newUser(t, st)
		var batch []*aimg.Job
		for i := range 100 {
			batch = append(batch, enqueue(t, st, newJob(a.ID, "m", 0, t0.Add(time.Duration(i)*time.Millisecond))))
		}
		jb := enqueue(t, st, newJob(b.ID, "m", 0, t0.Add(time.Second)))
		jc := enqueue(t, st, newJob(c.ID, "m", 0, t0.Add(time.Second)))
		checkPositions(t, st, aimg.NormalQueue("m"), append([]*aimg.Job{batch[0], jb, jc}, batch[1:]...))

		got := claimIDs(t, st, t0.Add(2*time.Second), 3, "m")
		if !(got[1] == jb.ID && got[2] == jc.ID) {
			t.Fatalf("first three claims %v, want A's first, B's and C's", got)
		}
		checkPositions(t, st, aimg.NormalQueue("m"), batch[1:])
	})
}

// Three users with interleaved enqueues and claims take turns; a user who
// comes back after being served joins the current round.
func TestFairShareRoundRobin(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b, c := newUser(t, st), newUser(t, st), newUser(t, st)
		now := t0
		enq := func(u *aimg.User) *aimg.Job {
			now = now.Add(time.Millisecond)
			return enqueue(t, st, newJob(u.ID, "m", 0, now))
		}
		a1, a2, a3 := enq(a), enq(a), enq(a)
		b1, b2 := enq(b), enq(b)
		c1 := enq(c)
		a4 := enq(a)
		c2 := enq(c)
		q := aimg.NormalQueue("m")
		// Rounds: (a1 b1 c1) (a2 b2 c2) (a3) (a4).
		checkPositions(t, st, q, []*aimg.Job{a1, b1, c1, a2, b2, c2, a3, a4})

		if got := claimIDs(t, st, now, 2, "m"); got[0] != a1.ID || got[1] != b1.ID {
			t.Fatalf("claims %v, want a1 b1", got)
		}
		// B, served in round 1 and queued in round 2, adds one for round 3;
		// newcomer D joins the round being served (2, after c2).
		d := newUser(t, st)
		b3 := enq(b)
		d1 := enq(d)
		checkPositions(t, st, q, []*aimg.Job{c1, a2, b2, c2, d1, a3, b3, a4})
		got := claimIDs(t, st, now, 5, "m")
		want := []string{c1.ID, a2.ID, b2.ID, c2.ID, d1.ID}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("claims %v, want %v", got, want)
		}
		// C, with nothing queued now, comes back: it goes into round 3 (the
		// served round is 2), after a3 and b3 but before a4 of round 4.
		c3 := enq(c)
		checkPositions(t, st, q, []*aimg.Job{a3, b3, c3, a4})
		// A retried Job goes back to its place at the head.
		l := claim(t, st, "w", now, "m")
		if l.ID != a3.ID {
			t.Fatalf("claimed %s, want a3", l.ID)
		}
		if rq, err := st.FailJob(ctx, l.Lease(), "hiccup", true, now); err != nil || !rq {
			t.Fatalf("fail: %v %v", rq, err)
		}
		checkPositions(t, st, q, []*aimg.Job{a3, b3, c3, a4})
		// A cancelled Job leaves the count (the counters' trigger, whoever
		// writes the row).
		if _, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: []string{b3.ItemIDs[0]}, At: now,
			Check: func(*aimg.Item) error { return nil }}); err != nil {
			t.Fatal(err)
		}
		checkPositions(t, st, q, []*aimg.Job{a3, c3, a4})
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// Priority queues still go first, a starving normal queue still goes before
// them, and what it gives is its fair head.
func TestFairSharePriorityAndStarvation(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		a, b, c := newUser(t, st), newUser(t, st), newUser(t, st)
		a1 := enqueue(t, st, newJob(a.ID, "m", 0, t0))
		a2 := enqueue(t, st, newJob(a.ID, "m", 0, t0))
		b1 := enqueue(t, st, newJob(b.ID, "m", 0, t0.Add(time.Second)))
		p1 := enqueue(t, st, newJob(c.ID, "m", 1, t0.Add(2*time.Second)))
		p2 := enqueue(t, st, newJob(c.ID, "m", 1, t0.Add(3*time.Second)))
		p3 := enqueue(t, st, newJob(a.ID, "m", 1, t0.Add(4*time.Second)))
		checkPositions(t, st, aimg.PriorityQueue("m"), []*aimg.Job{p1, p3, p2})

		if got := claim(t, st, "w", t0.Add(10*time.Second), "m"); got.ID != p1.ID {
			t.Fatalf("claimed %s, want the priority head", got.ID)
		}
		if got := claim(t, st, "w", t0.Add(10*time.Second), "m"); got.ID != p3.ID {
			t.Fatalf("claimed %s, want A's priority Job (round robin in the priority queue)", got.ID)
		}
		// a1 has waited the bound: the normal queue goes first, with its
		// fair head a1, then b1 (not a2, although a2 is older).
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != a1.ID {
			t.Fatalf("claimed %s, want the starving normal queue's head", got.ID)
		}
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != b1.ID {
			t.Fatalf("claimed %s, want b1 (still starving, fair order)", got.ID)
		}
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != a2.ID {
			t.Fatalf("claimed %s, want a2", got.ID)
		}
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != p2.ID {
			t.Fatalf("claimed %s, want p2", got.ID)
		}
	})
}

// Random enqueues (single Jobs and one batch), claims, retries, releases
// and completions, in phases: after each phase's changes the positions of
// the queued Jobs are 1..n and the queue's length is n, the next claims take
// them in that order, and at the end the counters match a recount.
func TestFairSharePositionsMatchClaimOrder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(9, 24))
		var users []*aimg.User
		for range 4 {
			users = append(users, newUser(t, st))
		}
		q := aimg.NormalQueue("m")
		queued := map[string]*aimg.Job{}
		var running []*aimg.Job
		now := t0
		order := func() []*aimg.Job { // queued Jobs by position
			var out []*aimg.Job
			pos := map[string]int64{}
			for id, j := range queued {
				p, err := st.QueuePosition(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				pos[id] = p
				out = append(out, j)
			}
			sort.Slice(out, func(i, k int) bool { return pos[out[i].ID] < pos[out[k].ID] })
			for i, j := range out {
				if pos[j.ID] != int64(i+1) {
					t.Fatalf("positions %v are not 1..%d", pos, len(out))
				}
			}
			if n, _ := st.QueueLength(ctx, q); n != int64(len(out)) {
				t.Fatalf("length %d, want %d", n, len(out))
			}
			return out
		}
		enq := func(u *aimg.User, n int) {
			for range n {
				now = now.Add(time.Millisecond) // never starving: one queue only anyway
				j := enqueue(t, st, newJob(u.ID, "m", 0, now))
				queued[j.ID] = j
			}
		}
		enq(users[0], 300) // ranks past 256 use the upper counter levels
		for phase := range 25 {
			for range 1 + r.IntN(6) {
				if r.IntN(3) > 0 || len(running) == 0 {
					enq(users[r.IntN(len(users))], 1+r.IntN(3))
					continue
				}
				i := r.IntN(len(running))
				l := running[i]
				running = append(running[:i], running[i+1:]...)
				switch r.IntN(3) {
				case 0:
					if err := st.CompleteJob(ctx, l.Lease(), []aimg.ItemResult{{ItemID: l.ItemIDs[0], FileID: "f"}}, "", now); err != nil {
						t.Fatal(err)
					}
				case 1:
					rq, err := st.FailJob(ctx, l.Lease(), "x", true, now)
					if err != nil {
						t.Fatal(err)
					}
					if rq {
						queued[l.ID] = l
					}
				default:
					if err := st.ReleaseJob(ctx, l.Lease(), now); err != nil {
						t.Fatal(err)
					}
					queued[l.ID] = l
				}
			}
			want := order()
			for k := range min(len(want), 1+r.IntN(8)) {
				got := claim(t, st, "w", now, "m")
				if got.ID != want[k].ID {
					t.Fatalf("phase %d: claim %d took %s, position %d was %s", phase, k, got.ID, k+1, want[k].ID)
				}
				delete(queued, got.ID)
				running = append(running, got)
			}
		}
		// Drain: the claims follow the positions read before.
		for _, j := range order() {
			if got := claim(t, st, "w", now, "m"); got.ID != j.ID {
				t.Fatalf("drain: claimed %s, want %s", got.ID, j.ID)
			}
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// Deep in a queue of 70,000 (one user's batch, ranks 1..70000) positions are
// exact across every counter level.
func TestFairSharePositionsDeepQueue(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		q := aimg.NormalQueue("m")
		const depth = 70_000
		if err := st.SeedQueuedJobsForTest(ctx, q, "m", depth, t0.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		x := enqueue(t, st, newJob(newUser(t, st).ID, "m", 0, t0)) // round 1, after the seed's first
		check := func(claimed int) {
			t.Helper()
			if pos, err := st.QueuePosition(ctx, x.ID); err != nil || claimed == 0 && pos != 2 {
				t.Fatalf("newcomer at %d, %v", pos, err)
			}
			for _, i := range []int{3, 255, 256, 257, 511, 65535, 65536, 65537, 69999, depth} {
				want := int64(i + 1) // behind x
				if claimed > 0 {
					want = int64(i - 2) // seed 1, x and seed 2 were claimed
				}
				pos, err := st.QueuePosition(ctx, fmt.Sprintf("seed-queued-%s-%d", q, i))
				if err != nil || pos != want {
					t.Fatalf("seed %d at %d, %v; want %d", i, pos, err, want)
				}
			}
		}
		check(0)
		if n, _ := st.QueueLength(ctx, q); n != depth+1 {
			t.Fatalf("length %d", n)
		}
		if got := claimIDs(t, st, t0, 3, "m"); got[1] != x.ID {
			t.Fatalf("claims %v: the newcomer is not second", got)
		}
		check(3)
	})
}

// Parallel enqueues of several users, claims, failures and completions
// (PostgreSQL: real concurrency, row locks on the counters): no error, no
// deadlock, no Job claimed twice, and the counters match a recount.
func TestFairShareConcurrent(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const perUser = 25
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[string]bool{}
			done = make(chan struct{})
		)
		var users []*aimg.User
		for range 3 {
			users = append(users, newUser(t, st))
		}
		var enq sync.WaitGroup
		for _, u := range users {
			enq.Go(func() {
				for i := range perUser {
					if _, err := st.Enqueue(ctx, newJob(u.ID, "m", i%2, t0)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		go func() { enq.Wait(); close(done) }()
		for w := range 3 {
			wg.Go(func() {
				for {
					j, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: fmt.Sprint("w", w), ModelIDs: []string{"m"}, Lease: testLease,
						StarvationBound: time.Minute, Now: t0})
					if aimg.IsNotFound(err) {
						select {
						case <-done:
							if n, _ := st.QueueLength(ctx, aimg.NormalQueue("m")); n > 0 {
								continue
							}
							if n, _ := st.QueueLength(ctx, aimg.PriorityQueue("m")); n > 0 {
								continue
							}
							return
						default:
							time.Sleep(time.Millisecond)
							continue
						}
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					first := !seen[j.ID]
					seen[j.ID] = true
					mu.Unlock()
					if first && strings.HasSuffix(j.ID, "0") {
						if _, err := st.FailJob(ctx, j.Lease(), "retry", true, t0); err != nil {
							t.Error(err)
							return
						}
						continue
					}
					if err := st.CompleteJob(ctx, j.Lease(), []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", t0); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		counts, _ := st.JobsByStatus(ctx)
		if counts[aimg.JobCompleted] != 3*perUser {
			t.Fatalf("jobs by status %v", counts)
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// Migration 00024 gives the Jobs queued before it fair keys (each user's
// Jobs ranked 1, 2, ... in enqueue order) and counts them; its Down works.
func TestFairShareMigratesQueuedJobs(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.MigrateDownToForTest(ctx, 23); err != nil {
			t.Fatal(err)
		}
		for i, row := range []struct{ id, user, status string }{
			{"a1", "A", "queued"}, {"a2", "A", "queued"}, {"ar", "A", "running"}, {"a3", "A", "queued"},
			{"b1", "B", "queued"}, {"done", "B", "completed"},
		} {
			mustExec(t, st, `INSERT INTO jobs (id, queue_id, model_id, user_id, batch_id, kind, status, enqueued_at)
				VALUES ($1, 'm-p0-gen', 'm', $2, 'b', 'image', $3, $4)`, row.id, row.user, row.status, t0.UnixMilli()+int64(i))
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A: a1 1, a2 2, ar 3 (running), a3 4; B: b1 1.
		for id, want := range map[string]int64{"a1": 1, "b1": 2, "a2": 3, "a3": 4, "ar": 0, "done": 0} {
			if pos, err := st.QueuePosition(ctx, id); err != nil || pos != want {
				t.Fatalf("%s at %d, %v; want %d", id, pos, err, want)
			}
		}
		if n, _ := st.QueueLength(ctx, "m-p0-gen"); n != 4 {
			t.Fatalf("length %d", n)
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// On PostgreSQL enqueues and claims of one queue do not wait for each
// other's commits (issue 11): while an enqueue, then a claim, holds its
// transaction open after all its writes, another user's enqueue and another
// claim of the same queue go through. Before migration 00031 both waited
// for the held commit on the queue's job_queues row and its upper counter
// rows; the context's deadline detects such a wait (it is not a speed
// bound). The Jobs involved have neighbouring seqs, so different counter
// slots.
func TestFairShareQueueHasNoHotRowPostgres(t *testing.T) {
	st := testsupport.OpenStore(t, testsupport.FreshPostgres(t))
	type holdKey struct{}
	held, release := make(chan struct{}), make(chan struct{})
	st.SetBeforeCommitForTest(t, func(ctx context.Context) {
		if ctx.Value(holdKey{}) != nil {
			held <- struct{}{}
			<-release
		}
	})
	c := newUser(t, st)
	for range 3 {
		enqueue(t, st, newJob(c.ID, "m", 0, t0))
	}
	claimCall := func(ctx context.Context) error {
		_, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: "w", ModelIDs: []string{"m"}, Lease: testLease,
			StarvationBound: time.Minute, Now: t0})
		return err
	}
	for _, holder := range []string{"enqueue", "claim"} {
		u := newUser(t, st)
		hold := func(ctx context.Context) error { _, err := st.Enqueue(ctx, newJob(u.ID, "m", 0, t0)); return err }
		if holder == "claim" {
			hold = claimCall
		}
		done := make(chan error, 1)
		go func() { done <- hold(context.WithValue(context.Background(), holdKey{}, true)) }()
		<-held
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, errEnqueue := st.Enqueue(ctx, newJob(newUser(t, st).ID, "m", 0, t0))
		errClaim := claimCall(ctx)
		cancel()
		release <- struct{}{}
		if err := <-done; err != nil {
			t.Fatalf("held %s: %v", holder, err)
		}
		if errEnqueue != nil || errClaim != nil {
			t.Fatalf("while the %s held its transaction: enqueue %v, claim %v", holder, errEnqueue, errClaim)
		}
	}
	// 3 + 2 enqueued by the first round, 1 more by the second; 3 claimed.
	if n, err := st.QueueLength(context.Background(), aimg.NormalQueue("m")); err != nil || n != 3 {
		t.Fatalf("length %d, %v", n, err)
	}
	if drift, err := st.CounterDrift(context.Background()); err != nil || len(drift) > 0 {
		t.Fatalf("counters: %v %v", drift, err)
	}
}
