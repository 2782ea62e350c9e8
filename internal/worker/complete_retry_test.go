package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
)

// unavailableSource answers the first failures completions with the
// file store's 503, as the server does while S3 is away, then completes.
type unavailableSource struct {
	worker.JobSource
	failures   int32
	completes  atomic.Int32
	claims     atomic.Int32
	maxAttempt atomic.Int32
}

func (s *unavailableSource) ClaimJobs(ctx context.Context, workerIDs []string, modelIDs []string) ([]*aimg.Job, error) {
	jobs, err := s.JobSource.ClaimJobs(ctx, workerIDs, modelIDs)
	for _, job := range jobs {
		s.claims.Add(1)
		if a := int32(job.Attempts); a > s.maxAttempt.Load() {
			s.maxAttempt.Store(a)
		}
	}
	return jobs, err
}

func (s *unavailableSource) Complete(ctx context.Context, l aimg.Lease, out []aimg.ItemOutput) error {
	if s.completes.Add(1) <= s.failures {
		return aimg.Errorf(aimg.CodeUnavailable, "The file store is unavailable; try again later")
	}
	return s.JobSource.Complete(ctx, l, out)
}

// A completion refused as unavailable is tried again: the Job completes on
// its first attempt, rendered once.
func TestCompletionRetriedWhileUnavailable(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	st := f.generate(t)
	src := &unavailableSource{JobSource: f.svc, failures: 2}
	p := newPool(t, src, builtin.Backend{}, f.poolConfig("a"), nil)
	p.Start(context.Background())
	defer stopSoon(p)
	waitFor(t, "the job to complete", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusCompleted })
	job, err := f.st.JobByID(context.Background(), f.item(t, st.ImageID).JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Attempts != 1 || src.completes.Load() != 3 {
		t.Fatalf("attempts %d, completions %d; want 1 attempt, 3 completions", job.Attempts, src.completes.Load())
	}
}

// Unavailable past CallTimeout: the Job goes back to its queue with its
// attempt unspent instead of spending one: three rounds later it is still
// on its first attempt, not failed.
func TestCompletionUnavailableTooLongReleases(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	st := f.generate(t)
	src := &unavailableSource{JobSource: f.svc, failures: 1 << 30}
	cfg := f.poolConfig("a")
	cfg.CallTimeout = 300 * time.Millisecond
	p := newPool(t, src, builtin.Backend{}, cfg, nil)
	p.Start(context.Background())
	// Each round takes CallTimeout: wait on the test's deadline, not a count.
	for src.claims.Load() < 3 {
		if t.Context().Err() != nil {
			t.Fatalf("the job was claimed %d times", src.claims.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopSoon(p)
	job, err := f.st.JobByID(context.Background(), f.item(t, st.ImageID).JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status == aimg.JobFailed || src.maxAttempt.Load() != 1 {
		t.Fatalf("job %s, claimed at attempt %d at most; want not failed, always attempt 1", job.Status, src.maxAttempt.Load())
	}
}

// slowCompleteSource holds each completion until the worker has sent
// heartbeats during it (or a second has passed), as a slow upload does.
type slowCompleteSource struct {
	worker.JobSource
	completing atomic.Bool
	beatsWhile atomic.Int32 // heartbeats while a completion was in flight
}

func (s *slowCompleteSource) Heartbeat(ctx context.Context, l aimg.Lease, progress float64) error {
	if s.completing.Load() {
		s.beatsWhile.Add(1)
	}
	return s.JobSource.Heartbeat(ctx, l, progress)
}

func (s *slowCompleteSource) Complete(ctx context.Context, l aimg.Lease, out []aimg.ItemOutput) error {
	s.completing.Store(true)
	defer s.completing.Store(false)
	for deadline := time.Now().Add(time.Second); s.beatsWhile.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return s.JobSource.Complete(ctx, l, out)
}

// The lease is kept while the outputs are handed over: a completion that
// takes longer than heartbeats come is heartbeated through, so a slow
// upload does not lose its Job to the reaper.
func TestHeartbeatsWhileCompleting(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	st := f.generate(t)
	src := &slowCompleteSource{JobSource: f.svc}
	p := newPool(t, src, builtin.Backend{}, f.poolConfig("a"), nil)
	p.Start(context.Background())
	defer stopSoon(p)
	waitFor(t, "the job to complete", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusCompleted })
	if n := src.beatsWhile.Load(); n < 3 {
		t.Fatalf("%d heartbeats during the completion, want at least 3", n)
	}
}
