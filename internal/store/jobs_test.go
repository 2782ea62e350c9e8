package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const testLease = 30 * time.Second

func newUser(t testing.TB, st *store.Store) *aimg.User {
	t.Helper()
	u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", IsGuest: true, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// newJob builds a one-Item Job of the model in the given queue priority.
func newJob(userID, modelID string, prio int, now time.Time) aimg.NewJob {
	batch := uuid.NewString()
	it := &aimg.Item{ID: uuid.NewString(), UserID: userID, MType: aimg.MTypeImage, MediaType: aimg.MediaStaticImage,
		ModelID: modelID, Prompt: "a red sun"}
	return aimg.NewJob{
		Job: &aimg.Job{ID: uuid.NewString(), QueueID: aimg.QueueID(modelID, prio), ModelID: modelID, Priority: prio,
			UserID: userID, BatchID: batch, Kind: aimg.MTypeImage, Payload: []byte(`{"prompt":"a red sun"}`), MaxAttempts: 2},
		Items:     []*aimg.Item{it},
		MaxActive: -1,
		Now:       now,
	}
}

func enqueue(t testing.TB, st *store.Store, nj aimg.NewJob) *aimg.Job {
	t.Helper()
	if _, err := st.Enqueue(context.Background(), nj); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return nj.Job
}

func claim(t testing.TB, st *store.Store, worker string, now time.Time, models ...string) *aimg.Job {
	t.Helper()
	j, err := st.ClaimJob(context.Background(), aimg.Claim{WorkerID: worker, ModelIDs: models, Lease: testLease,
		StarvationBound: time.Minute, Now: now})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return j
}

func itemStatus(t testing.TB, st *store.Store, id string) aimg.ItemStatus {
	t.Helper()
	it, err := st.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it.Status
}

func TestClaimOrder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		n1 := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		n2 := enqueue(t, st, newJob(u.ID, "m", 0, t0.Add(time.Second)))
		p1 := enqueue(t, st, newJob(u.ID, "m", 1, t0.Add(2*time.Second)))
		other := enqueue(t, st, newJob(u.ID, "other", 1, t0))

		for j, want := range map[*aimg.Job]int64{n1: 1, n2: 2, p1: 1, other: 1} {
			if pos, err := st.QueuePosition(ctx, j.ID); err != nil || pos != want {
				t.Fatalf("position of %s = %d, %v; want %d", j.QueueID, pos, err, want)
			}
		}
		if n, _ := st.QueueLength(ctx, aimg.NormalQueue("m")); n != 2 {
			t.Fatalf("normal queue length %d, want 2", n)
		}

		now := t0.Add(10 * time.Second) // nothing has waited a minute yet
		got := claim(t, st, "w1", now, "m")
		if got.ID != p1.ID || got.Status != aimg.JobRunning || got.Attempts != 1 || got.LeaseOwner != "w1" {
			t.Fatalf("first claim = %+v, want the priority job running", got)
		}
		if !got.LeaseExpiresAt.Equal(now.Add(testLease)) {
			t.Fatalf("lease expires %v, want %v", got.LeaseExpiresAt, now.Add(testLease))
		}
		if s := itemStatus(t, st, p1.ItemIDs[0]); s != aimg.StatusProcessing {
			t.Fatalf("claimed item status %s", s)
		}
		if pos, _ := st.QueuePosition(ctx, p1.ID); pos != 0 {
			t.Fatalf("running job position %d, want 0", pos)
		}
		if got := claim(t, st, "w1", now, "m"); got.ID != n1.ID {
			t.Fatalf("second claim = %s, want the normal head", got.QueueID)
		}
		if pos, _ := st.QueuePosition(ctx, n2.ID); pos != 1 {
			t.Fatalf("n2 position %d after n1 left, want 1", pos)
		}
		if got := claim(t, st, "w1", now, "m"); got.ID != n2.ID {
			t.Fatalf("third claim = %s", got.ID)
		}
		if _, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: "w1", ModelIDs: []string{"m"}, Lease: testLease, Now: now}); !aimg.IsNotFound(err) {
			t.Fatalf("claim on empty queues: %v, want not found", err)
		}
		if got := claim(t, st, "w1", now, "m", "other"); got.ID != other.ID {
			t.Fatalf("claim across models = %s", got.ID)
		}
	})
}

// A normal head that waited longer than the bound goes before priority work.
func TestClaimNoStarvation(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		u := newUser(t, st)
		normal := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		var prio []*aimg.Job
		for i := range 3 {
			prio = append(prio, enqueue(t, st, newJob(u.ID, "m", 1, t0.Add(time.Duration(i)*time.Second))))
		}
		if got := claim(t, st, "w", t0.Add(59*time.Second), "m"); got.ID != prio[0].ID {
			t.Fatalf("before the bound: claimed %s, want priority", got.QueueID)
		}
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != normal.ID {
			t.Fatalf("at the bound: claimed %s, want the starving normal head", got.QueueID)
		}
		if got := claim(t, st, "w", t0.Add(time.Minute), "m"); got.ID != prio[1].ID {
			t.Fatalf("after it: claimed %s, want priority again", got.QueueID)
		}
	})
}

func TestLeaseFencing(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		first := claim(t, st, "w1", t0, "m")
		if err := st.Heartbeat(ctx, first.Lease(), 0.5, t0, t0.Add(testLease+time.Second)); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		// A heartbeat that comes after the lease expired, before the reaper
		// ran, does not revive it.
		late := t0.Add(testLease + 2*time.Second)
		if err := st.Heartbeat(ctx, first.Lease(), 0.6, late, late.Add(testLease)); err != aimg.ErrLeaseLost {
			t.Fatalf("late heartbeat: %v, want the lease lost", err)
		}
		// The lease expires without heartbeats: the reaper requeues the Job.
		if rq, f, err := st.RequeueExpired(ctx, t0.Add(testLease)); err != nil || rq != 0 || f != 0 {
			t.Fatalf("requeue before expiry: %d %d %v", rq, f, err)
		}
		if rq, f, err := st.RequeueExpired(ctx, t0.Add(testLease+2*time.Second)); err != nil || rq != 1 || f != 0 {
			t.Fatalf("requeue after expiry: %d %d %v", rq, f, err)
		}
		if s := itemStatus(t, st, j.ItemIDs[0]); s != aimg.StatusQueued {
			t.Fatalf("item status %s after requeue", s)
		}
		// The same worker claims it again: attempt 2. The old lease (attempt 1) is dead.
		second := claim(t, st, "w1", t0.Add(time.Minute), "m")
		if second.ID != j.ID || second.Attempts != 2 {
			t.Fatalf("reclaim = %s attempt %d", second.ID, second.Attempts)
		}
		if err := st.Heartbeat(ctx, first.Lease(), 0.9, t0.Add(time.Minute), t0.Add(2*time.Minute)); err != aimg.ErrLeaseLost {
			t.Fatalf("stale heartbeat: %v", err)
		}
		res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f-stale"}}
		if err := st.CompleteJob(ctx, first.Lease(), res, "", t0.Add(time.Minute)); err != aimg.ErrLeaseLost {
			t.Fatalf("stale complete: %v", err)
		}
		if _, err := st.FailJob(ctx, first.Lease(), "x", true, t0); err != aimg.ErrLeaseLost {
			t.Fatalf("stale fail: %v", err)
		}
		res[0].FileID = "f-good"
		res[0].Frames = []aimg.Frame{{Number: 0, FileID: "f0"}}
		// The Job's Folder exists (a Folder deleted meanwhile: see
		// TestCompleteJobIntoDeletedFolder).
		owner, _ := st.ItemByID(ctx, j.ItemIDs[0])
		if err := st.CreateFolder(ctx, &aimg.Folder{ID: "folder-1", UserID: owner.UserID, Name: "f", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := st.CompleteJob(ctx, second.Lease(), res, "folder-1", t0.Add(time.Minute)); err != nil {
			t.Fatalf("complete: %v", err)
		}
		if err := st.CompleteJob(ctx, second.Lease(), res, "", t0.Add(time.Minute)); err != aimg.ErrLeaseLost {
			t.Fatalf("second complete: %v", err)
		}
		it, _ := st.ItemByID(ctx, j.ItemIDs[0])
		if it.Status != aimg.StatusCompleted || it.FileID != "f-good" || it.CompletedAt == nil || it.FolderID != "folder-1" ||
			len(it.Frames) != 1 || it.Frames[0].FileID != "f0" {
			t.Fatalf("completed item = %+v", it)
		}
		done, _ := st.JobByID(ctx, j.ID)
		if done.Status != aimg.JobCompleted || done.FinishedAt == nil || done.Progress != 1 {
			t.Fatalf("completed job = %+v", done)
		}
	})
}

func TestFailRetriesThenFails(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0)) // MaxAttempts 2
		behind := enqueue(t, st, newJob(u.ID, "m", 0, t0.Add(time.Second)))
		c := claim(t, st, "w", t0, "m")
		if rq, err := st.FailJob(ctx, c.Lease(), "backend hiccup", true, t0); err != nil || !rq {
			t.Fatalf("first fail: requeued=%v %v", rq, err)
		}
		if pos, _ := st.QueuePosition(ctx, j.ID); pos != 1 {
			t.Fatalf("retried job position %d, want 1 (back at the head)", pos)
		}
		if pos, _ := st.QueuePosition(ctx, behind.ID); pos != 2 {
			t.Fatalf("job behind position %d, want 2", pos)
		}
		if s := itemStatus(t, st, j.ItemIDs[0]); s != aimg.StatusQueued {
			t.Fatalf("item %s after retryable failure", s)
		}
		c = claim(t, st, "w", t0, "m")
		if c.ID != j.ID || c.Attempts != 2 {
			t.Fatalf("reclaimed %s attempt %d", c.ID, c.Attempts)
		}
		if rq, err := st.FailJob(ctx, c.Lease(), "backend broken", true, t0); err != nil || rq {
			t.Fatalf("last fail: requeued=%v %v", rq, err)
		}
		it, _ := st.ItemByID(ctx, j.ItemIDs[0])
		if it.Status != aimg.StatusFailed || it.Error != "backend broken" {
			t.Fatalf("failed item %s %q", it.Status, it.Error)
		}
		// A permanent failure does not retry.
		c = claim(t, st, "w", t0, "m")
		if rq, err := st.FailJob(ctx, c.Lease(), "invalid", false, t0); err != nil || rq {
			t.Fatalf("permanent fail: requeued=%v %v", rq, err)
		}
		// Release does not spend an attempt.
		j3 := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		c = claim(t, st, "w", t0, "m")
		if err := st.ReleaseJob(ctx, c.Lease(), t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.JobByID(ctx, j3.ID); got.Status != aimg.JobQueued || got.Attempts != 0 {
			t.Fatalf("released job %s attempts %d", got.Status, got.Attempts)
		}
	})
}

func TestRequeueExpiredFailsExhausted(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		now := t0
		for attempt := 1; attempt <= 2; attempt++ {
			claim(t, st, fmt.Sprint("w", attempt), now, "m")
			now = now.Add(testLease + time.Second)
			rq, f, err := st.RequeueExpired(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if attempt == 1 && (rq != 1 || f != 0) || attempt == 2 && (rq != 0 || f != 1) {
				t.Fatalf("attempt %d: requeued %d failed %d", attempt, rq, f)
			}
		}
		it, _ := st.ItemByID(ctx, j.ItemIDs[0])
		if it.Status != aimg.StatusFailed || it.Error != store.LeaseExpiredReason {
			t.Fatalf("item %s %q", it.Status, it.Error)
		}
	})
}

func TestEnqueueLimitsAndIdempotency(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		limited := func(now time.Time) aimg.NewJob {
			nj := newJob(u.ID, "m", 0, now)
			nj.MaxActive = 2
			return nj
		}
		enqueue(t, st, limited(t0))
		enqueue(t, st, limited(t0)) // same millisecond: created_at stays unique per user
		if _, err := st.Enqueue(ctx, limited(t0)); aimg.ErrorCode(err) != aimg.CodeRateLimited {
			t.Fatalf("third active item: %v, want rate limited", err)
		}
		// Another Model has its own count.
		other := newJob(u.ID, "other", 0, t0)
		other.MaxActive = 1
		enqueue(t, st, other)

		hourly := func(now time.Time) aimg.NewJob {
			nj := newJob(u.ID, "h", 0, now)
			nj.HourlyLimit = 4 // 3 Items exist already
			return nj
		}
		enqueue(t, st, hourly(t0.Add(time.Minute)))
		if _, err := st.Enqueue(ctx, hourly(t0.Add(2*time.Minute))); aimg.ErrorCode(err) != aimg.CodeRateLimited {
			t.Fatalf("fifth item in the hour: %v, want rate limited", err)
		}
		enqueue(t, st, hourly(t0.Add(time.Hour+time.Second))) // the first three are older than an hour

		keyed := func(now time.Time) aimg.NewJob {
			nj := newJob(u.ID, "k", 0, now)
			nj.IdempotencyKey, nj.IdempotencyTTL = "key-1", 24*time.Hour
			return nj
		}
		first := keyed(t0)
		r1, err := st.Enqueue(ctx, first)
		if err != nil || r1.Replayed || len(r1.ItemIDs) != 1 {
			t.Fatalf("first keyed enqueue: %+v %v", r1, err)
		}
		r2, err := st.Enqueue(ctx, keyed(t0.Add(time.Hour)))
		if err != nil || !r2.Replayed || r2.ItemIDs[0] != r1.ItemIDs[0] {
			t.Fatalf("repeat within 24h: %+v %v, want replay of %v", r2, err, r1.ItemIDs)
		}
		if n, _ := st.QueueLength(ctx, aimg.NormalQueue("k")); n != 1 {
			t.Fatalf("queue k has %d jobs after a replay, want 1", n)
		}
		other2 := newUser(t, st)
		nj := newJob(other2.ID, "k", 0, t0)
		nj.IdempotencyKey, nj.IdempotencyTTL = "key-1", 24*time.Hour
		if r, err := st.Enqueue(ctx, nj); err != nil || r.Replayed {
			t.Fatalf("same key, other user: %+v %v", r, err)
		}
		r3, err := st.Enqueue(ctx, keyed(t0.Add(25*time.Hour)))
		if err != nil || r3.Replayed || r3.ItemIDs[0] == r1.ItemIDs[0] {
			t.Fatalf("repeat after 24h: %+v %v, want a new job", r3, err)
		}
	})
}

// Concurrent claimers never get the same Job (SKIP LOCKED on PostgreSQL,
// the single writer on SQLite).
func TestConcurrentClaims(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		const jobs = 40
		for i := range jobs {
			enqueue(t, st, newJob(u.ID, "m", i%2, t0))
		}
		var (
			mu   sync.Mutex
			seen = map[string]string{}
			wg   sync.WaitGroup
		)
		for w := range 4 {
			wg.Go(func() {
				worker := fmt.Sprint("w", w)
				for {
					j, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: worker, ModelIDs: []string{"m"}, Lease: testLease, Now: t0})
					if aimg.IsNotFound(err) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("job %s claimed by %s and %s", j.ID, prev, worker)
					}
					seen[j.ID] = worker
					mu.Unlock()
					res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}
					if err := st.CompleteJob(ctx, j.Lease(), res, "", t0); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != jobs {
			t.Fatalf("%d jobs claimed, want %d", len(seen), jobs)
		}
		counts, _ := st.JobsByStatus(ctx)
		if counts[aimg.JobCompleted] != jobs {
			t.Fatalf("job counts %v", counts)
		}
	})
}

// The queue's hot queries are index range scans on SQLite.
func TestQueueQueriesUseIndexesSQLite(t *testing.T) {
	st := testsupport.OpenStore(t, "sqlite:"+t.TempDir()+"/aimg.db")
	for q, want := range map[string]string{
		`SELECT seq, enqueued_at FROM jobs WHERE queue_id = 'q' AND status = 'queued' ORDER BY seq LIMIT 1`:        "jobs_queued",
		`SELECT COUNT(*) FROM jobs WHERE queue_id = 'q' AND status = 'queued' AND seq < 60000`:                     "jobs_queued",
		`SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < 5`:                                    "jobs_running_lease",
		`SELECT COUNT(*) FROM items WHERE user_id = 'u' AND model_id = 'm' AND status IN ('queued', 'processing')`: "items_user_model_active",
		// Fair share (job_fair.go): the fair head, a user's last rank, a queue's length.
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'q' AND status = 'queued' ORDER BY fair_key, seq LIMIT 1`: "jobs_fair",
		`SELECT MAX(fair_key) FROM jobs WHERE queue_id = 'q' AND user_id = 'u' AND status = 'queued'`:              "jobs_queued_user",
		`SELECT COALESCE(SUM(n), 0) FROM job_fair_counts WHERE queue_id = 'q' AND level = 7`:                       "sqlite_autoindex_job_fair_counts_1",
		// A batch claim after its first pick of a queue (ClaimJobs): the
		// next fair head, the oldest Job not picked.
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'q' AND status = 'queued' AND (fair_key, seq) > (5, 7) ORDER BY fair_key, seq LIMIT 1`: "jobs_fair",
		`SELECT seq, enqueued_at FROM jobs WHERE queue_id = 'q' AND status = 'queued' ORDER BY seq LIMIT 3`:                                     "jobs_queued",
	} {
		plan, err := st.ExplainForTest(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, want) || strings.Contains(plan, "SCAN jobs\n") || strings.Contains(plan, "SCAN job_fair_counts") {
			t.Errorf("plan of %s:\n%s\nwant index %s", q, plan, want)
		}
	}
	// A position: every part is a search of jobs_fair or of the counters'
	// primary key, none a scan, none a temporary b-tree.
	q, args := store.PositionQueryForTest("q", 300<<24|5, 42)
	plan, err := st.ExplainForTest(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(plan, "USING COVERING INDEX jobs_fair") != 2 || strings.Count(plan, "sqlite_autoindex_job_fair_counts_1") != 7 ||
		strings.Contains(plan, "SCAN job") || strings.Contains(plan, "TEMP") {
		t.Errorf("plan of the position:\n%s", plan)
	}
	// An enqueue's rank: the user's last queued rank and the rank the queue
	// has served, a probe of an index each.
	plan, err = st.ExplainForTest(context.Background(), store.FairRankQueryForTest, "q", "u")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "jobs_queued_user") || !strings.Contains(plan, "jobs_served") ||
		strings.Contains(plan, "SCAN job") || strings.Contains(plan, "TEMP") {
		t.Errorf("plan of the rank:\n%s", plan)
	}
}

// On PostgreSQL, with a realistic table (mostly finished Jobs, several
// queues) and fresh statistics, the hot queries use the partial indexes too.
func TestQueueQueriesUseIndexesPostgres(t *testing.T) {
	st := testsupport.OpenStore(t, testsupport.FreshPostgres(t))
	ctx := context.Background()
	for _, seed := range []struct {
		queue, status string
		n             int
	}{{"m-p0-gen", "completed", 50_000}, {"o-p0-gen", "queued", 10_000}, {"m-p0-gen", "queued", 2_000}, {"m-p1-gen", "queued", 100}} {
		if err := st.SeedJobsForTest(ctx, seed.queue, "m", seed.status, seed.n, t0.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SeedQueuedJobsForTest(ctx, "m-p0-gen", "m", 0, 0); err != nil { // refresh statistics
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		`SELECT seq FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`: "jobs_queued",
		`SELECT COUNT(*) FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' AND seq < 60000`:                        "jobs_queued",
		`SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < 5`:                                              "jobs_running_lease",
		// Fair share (job_fair.go): the claim, the fair head, a user's last rank, a queue's length.
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' ORDER BY fair_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED`: "jobs_fair",
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' ORDER BY fair_key, seq LIMIT 1`:                        "jobs_fair",
		`SELECT fair_key FROM jobs WHERE queue_id = 'm-p0-gen' AND user_id = 'u' AND status = 'queued' ORDER BY fair_key DESC LIMIT 1`:           "jobs_queued_user",
		`SELECT COALESCE(SUM(n), 0) FROM job_fair_counts WHERE queue_id = 'm-p0-gen' AND level = 7`:                                              "job_fair_counts_pkey",
		// A batch claim after its first pick of a queue (ClaimJobs): the
		// next fair head (locked, and not), the oldest Job not picked.
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' AND (fair_key, seq) > (5, 7) ORDER BY fair_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED`: "jobs_fair",
		`SELECT seq, fair_key FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' AND (fair_key, seq) > (5, 7) ORDER BY fair_key, seq LIMIT 1`:                        "jobs_fair",
		`SELECT seq, enqueued_at FROM jobs WHERE queue_id = 'm-p0-gen' AND status = 'queued' ORDER BY seq LIMIT 3`:                                                            "jobs_queued",
	} {
		plan, err := st.ExplainForTest(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, want) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("plan of %s:\n%s\nwant index %s", q, plan, want)
		}
	}
	// A batch claim's lock of its picks' counter rows: a primary-key probe
	// each, in a sorted order (lockPickCounters).
	plan, err := st.ExplainForTest(ctx, store.LockCountersQueryForTest, "m-p0-gen",
		[]int64{7, 6, 1, 1}, []int64{0, 0, 7, 8}, []int64{3, 3, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "Index Scan using job_fair_counts_pkey") || !strings.Contains(plan, "LockRows") ||
		!strings.Contains(plan, "Sort Key: c.level DESC, c.bucket, c.slot") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("plan of the counters' lock:\n%s", plan)
	}
	// A position, for the Job at the tail of m-p0-gen (rank 2000): index
	// scans of jobs_fair and of the counters' primary key only.
	q, args := store.PositionQueryForTest("m-p0-gen", 2000<<24, 1<<40)
	plan, err = st.ExplainForTest(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(plan, "jobs_fair on jobs") != 2 || strings.Count(plan, "job_fair_counts_pkey") != 7 || strings.Contains(plan, "Seq Scan") {
		t.Errorf("plan of the position:\n%s", plan)
	}
	plan, err = st.ExplainForTest(ctx, store.FairRankQueryForTest, "m-p0-gen", "u")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "jobs_queued_user") || !strings.Contains(plan, "jobs_served") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("plan of the rank:\n%s", plan)
	}
}

// A Job whose Folder was deleted (or is not its owner's) while it was queued
// completes into the root Folder, counted there.
func TestCompleteJobIntoDeletedFolder(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		l := claim(t, st, "w1", t0, "m")
		res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}
		if err := st.CompleteJob(ctx, l.Lease(), res, uuid.NewString(), t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if it, _ := st.ItemByID(ctx, j.ItemIDs[0]); it.FolderID != "" || it.FolderAddedAt != nil {
			t.Fatalf("completed into a Folder that does not exist: %+v", it)
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("counters: %v %v", drift, err)
		}
	})
}

// An Item still queued when its owner was deleted with deleteItems (which
// skips queued Items) is deleted as it completes, not left live.
func TestCompleteJobOfUserDeletedWithItems(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		l := claim(t, st, "w1", t0, "m")
		u.DeletedAt, u.DeleteItemsRequested = &t0, true
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := st.CompleteJob(ctx, l.Lease(), []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if it, _ := st.ItemByID(ctx, j.ItemIDs[0]); it.Status != aimg.StatusCompleted || it.DeletedAt == nil {
			t.Fatalf("the Item of a user deleted with deleteItems completed live: %+v", it)
		}
		if n, _ := st.CountItems(ctx, u.ID); n != 0 {
			t.Fatalf("itemCount %d, want 0", n)
		}
	})
}
