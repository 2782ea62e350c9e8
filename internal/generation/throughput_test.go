package generation_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/generation"
)

// countingStore answers the throughput reads: completed Jobs at fixed
// times, two running per Model.
type countingStore struct {
	generation.Store
	finished map[string][]time.Time
}

func (s countingStore) JobTimings(_ context.Context, modelID string) (time.Duration, int, error) {
	return time.Second, 2, nil
}

func (s countingStore) CompletedJobsSince(_ context.Context, modelID string, since time.Time) (int64, error) {
	var n int64
	for _, at := range s.finished[modelID] {
		if !at.Before(since) {
			n++
		}
	}
	return n, nil
}

func (s countingStore) RunningJobs(_ context.Context, limit int) ([]*aimg.Job, error) {
	return []*aimg.Job{{ID: "j1", LeaseOwner: "k/w/0"}}[:min(limit, 1)], nil
}

func TestThroughputs(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first := cfg.Service.Models[0].ModelID
	st := countingStore{finished: map[string][]time.Time{first: {now.Add(-30 * time.Second), now.Add(-30 * time.Minute), now.Add(-2 * time.Hour)}}}
	s := generation.New(st, nil, nil, cfg.Service, nil, func() time.Time { return now })
	if _, err := s.Throughputs(context.Background(), aimg.Caller{}); aimg.ErrorCode(err) != aimg.CodeForbidden {
		t.Fatalf("without admin: %v", err)
	}
	got, err := s.Throughputs(context.Background(), aimg.Caller{Admin: true})
	if err != nil || len(got) != len(cfg.Service.Models) {
		t.Fatalf("%+v %v", got, err)
	}
	if g := got[0]; g.ModelID != first || g.LastMinute != 1 || g.LastHour != 2 || g.Running != 2 || g.AvgRender != time.Second {
		t.Fatalf("first Model: %+v", g)
	}
	if g := got[1]; g.LastMinute != 0 || g.LastHour != 0 {
		t.Fatalf("second Model: %+v", g)
	}
	if _, err := s.RunningJobs(context.Background(), aimg.Caller{}); aimg.ErrorCode(err) != aimg.CodeForbidden {
		t.Fatalf("running Jobs without admin: %v", err)
	}
	if jobs, err := s.RunningJobs(context.Background(), aimg.Caller{Admin: true}); err != nil || len(jobs) != 1 || jobs[0].ID != "j1" {
		t.Fatalf("running Jobs: %+v %v", jobs, err)
	}
}
