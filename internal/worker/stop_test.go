package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
)

// committedSource commits the claim in the database whatever happens to the
// caller's context (as a COMMIT already sent to PostgreSQL does), then
// holds the answer until release says so. If the caller's context has
// ended by then, the answer is lost: the caller gets the context's error,
// exactly what database/sql returns when a context is cancelled while the
// commit is in flight.
type committedSource struct {
	worker.JobSource
	once    sync.Once
	claimed chan struct{} // closed once a Job is claimed
	release func(ctx context.Context) <-chan struct{}
}

func (s *committedSource) ClaimJobs(ctx context.Context, workerIDs []string, models []string) ([]*aimg.Job, error) {
	jobs, err := s.JobSource.ClaimJobs(context.WithoutCancel(ctx), workerIDs, models)
	if err != nil {
		return nil, err
	}
	s.once.Do(func() { close(s.claimed) })
	<-s.release(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return jobs, nil
}

// checkReleased asserts that the Job is queued again with no attempt spent.
func checkReleased(t *testing.T, f *fixture, itemID string) {
	t.Helper()
	it := f.item(t, itemID)
	job, err := f.st.JobByID(context.Background(), it.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != aimg.JobQueued || it.Status != aimg.StatusQueued || job.Attempts != 0 {
		t.Fatalf("after the stop: job %s (attempts %d, owner %q), item %s; want queued with no attempt spent",
			job.Status, job.Attempts, job.LeaseOwner, it.Status)
	}
}

// A graceful stop that begins while a claim commits must neither strand the
// Job (running under a process that exits, requeued by the reaper a lease
// later with an attempt spent) nor render it: it goes back, unspent.
func TestStopDuringClaimLeavesNoJobRunning(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		st := f.generate(t)
		stopping := make(chan struct{})
		src := &committedSource{JobSource: f.svc, claimed: make(chan struct{}),
			release: func(context.Context) <-chan struct{} { return stopping }}
		p := newPool(t, src, builtin.Backend{}, f.poolConfig("p"), nil)
		worker.AfterStopClaimingForTest(p, func() { close(stopping) })
		p.Start(context.Background())
		<-src.claimed
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		checkReleased(t, f, st.ImageID)
	})
}

// When the stop gives up on running work (its deadline passed, or the
// pool's context ended) while a claim commits, the claim's answer is lost;
// the slot releases whatever its worker id may hold.
func TestAbandonedClaimIsReleased(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		st := f.generate(t)
		src := &committedSource{JobSource: f.svc, claimed: make(chan struct{}),
			release: func(ctx context.Context) <-chan struct{} { return ctx.Done() }}
		p := newPool(t, src, builtin.Backend{}, f.poolConfig("p"), nil)
		ctx, cancel := context.WithCancel(context.Background())
		p.Start(ctx)
		<-src.claimed
		cancel() // abrupt stop: claiming ends and running work is given up
		_ = p.Stop(context.Background())
		checkReleased(t, f, st.ImageID)
	})
}

// A pool with a stable name takes back at start what its previous process
// held, without waiting for the lease to expire (the clock does not move
// here, so the reaper would never requeue it); other workers' Jobs,
// including one whose name merely starts with the same letters, stay theirs.
func TestRestartedWorkerTakesBackItsJobs(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()
		mine, theirs := f.generate(t), f.generate(t)
		// The previous process of "emb" claimed the first Job and died;
		// worker "emb2" holds the second.
		if _, err := f.svc.Claim(ctx, "emb/1", []string{"sketch"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Claim(ctx, "emb2/0", []string{"sketch"}); err != nil {
			t.Fatal(err)
		}
		p := newPool(t, f.svc, builtin.Backend{}, f.poolConfig("emb"), nil)
		p.Start(ctx)
		defer stopSoon(p)
		waitFor(t, "the restarted worker to complete its old job", func() bool {
			return f.item(t, mine.ImageID).Status == aimg.StatusCompleted
		})
		job, _ := f.st.JobByID(ctx, f.item(t, mine.ImageID).JobID)
		// Decision: the crashed attempt stays spent, as the reaper would
		// count it, so a Job that kills its worker cannot loop forever.
		if job.Attempts != 2 || job.LeaseOwner != "emb/0" {
			t.Fatalf("old job completed by %s on attempt %d, want emb/0 on 2", job.LeaseOwner, job.Attempts)
		}
		other := f.item(t, theirs.ImageID)
		if other.Status != aimg.StatusProcessing {
			t.Fatalf("another worker's job is %s", other.Status)
		}
	})
}
