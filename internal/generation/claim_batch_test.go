package generation_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/generation"
)

// batchStore records the batch claim it is asked for and leases one Job
// per owner.
type batchStore struct {
	generation.Store
	asked aimg.Claim
}

func (s *batchStore) ClaimJobs(_ context.Context, c aimg.Claim) ([]*aimg.Job, error) {
	s.asked = c
	var jobs []*aimg.Job
	for i, w := range c.WorkerIDs {
		jobs = append(jobs, &aimg.Job{ID: fmt.Sprint("j", i), LeaseOwner: w, Status: aimg.JobRunning})
	}
	return jobs, nil
}

// ClaimJobs hands the owners, Models, lease and starvation bound to the
// store in one claim, and refuses an empty, oversized or repeating list of
// owners, naming the field.
func TestClaimJobsForwardsOneBatch(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st := &batchStore{}
	s := generation.New(st, nil, nil, cfg.Service, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	jobs, err := s.ClaimJobs(context.Background(), []string{"k/w/0", "k/w/1"}, []string{"sketch"})
	if err != nil || len(jobs) != 2 || jobs[1].LeaseOwner != "k/w/1" {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	if !slices.Equal(st.asked.WorkerIDs, []string{"k/w/0", "k/w/1"}) || st.asked.WorkerID != "" ||
		!slices.Equal(st.asked.ModelIDs, []string{"sketch"}) || st.asked.Lease != cfg.Service.Generation.LeaseDuration {
		t.Fatalf("store asked %+v", st.asked)
	}
	var many []string
	for i := range aimg.MaxClaimBatch + 1 {
		many = append(many, fmt.Sprint("k/w/", i))
	}
	for _, bad := range [][]string{nil, many, {"k/w/0", "k/w/0"}, {""}} {
		if _, err := s.ClaimJobs(context.Background(), bad, []string{"sketch"}); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("ClaimJobs(%d owners): %v, want invalid", len(bad), err)
		}
	}
}
