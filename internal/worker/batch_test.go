package worker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
)

// recordingSource records every claim: the slots asked for and the
// number of Jobs answered.
type recordingSource struct {
	worker.JobSource
	mu     sync.Mutex
	claims []recordedClaim
}

type recordedClaim struct {
	slots []string
	jobs  int
}

func (s *recordingSource) ClaimJobs(ctx context.Context, workerIDs []string, models []string) ([]*aimg.Job, error) {
	jobs, err := s.JobSource.ClaimJobs(ctx, workerIDs, models)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = append(s.claims, recordedClaim{slots: slices.Clone(workerIDs), jobs: len(jobs)})
	return jobs, err
}

func (s *recordingSource) seen(cond func(recordedClaim) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.claims, cond)
}

// A pool whose slots are all idle claims for all of them in one call, and
// each slot renders the Job leased to it: three queued Jobs are claimed in
// one round trip and completed once each, on both databases.
func TestPoolClaimsForAllIdleSlotsAtOnce(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		src := &recordingSource{JobSource: f.svc}
		cfg := f.poolConfig("batch")
		cfg.Concurrency = 3
		cfg.PollInterval = time.Hour // only the Notify below makes it look again
		p := newPool(t, src, builtin.Backend{}, cfg, nil)
		p.Start(context.Background())
		defer stopSoon(p)
		// Each slot's first idleness makes the claimer look, so a claim
		// for all three comes; the next one, after the Notify, is for all
		// three again (an idle slot stays idle until it is handed a Job).
		waitFor(t, "a claim for the three idle slots", func() bool {
			return src.seen(func(c recordedClaim) bool { return len(c.slots) == 3 })
		})
		ids := []string{f.generate(t).ImageID, f.generate(t).ImageID, f.generate(t).ImageID}
		p.Notify()
		waitFor(t, "the three jobs to complete", func() bool {
			for _, id := range ids {
				if f.item(t, id).Status != aimg.StatusCompleted {
					return false
				}
			}
			return true
		})
		if !src.seen(func(c recordedClaim) bool { return c.jobs == 3 }) {
			t.Fatalf("no claim answered all three jobs: %+v", src.claims)
		}
		owners := map[string]bool{}
		for _, id := range ids {
			job, err := f.st.JobByID(context.Background(), f.item(t, id).JobID)
			if err != nil || job.Attempts != 1 {
				t.Fatalf("job %+v %v, want one attempt", job, err)
			}
			owners[job.LeaseOwner] = true
		}
		if len(owners) != 3 {
			t.Fatalf("the three jobs ran on slots %v, want three different slots", owners)
		}
	})
}
