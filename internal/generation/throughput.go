package generation

import (
	"context"
	"time"

	"aimg/internal/aimg"
)

// Throughput is one Model's work now and lately (the admin queues page).
type Throughput struct {
	ModelID string
	// Running is how many of its Jobs workers hold now.
	Running int
	// LastMinute and LastHour count its Jobs completed in that window.
	LastMinute, LastHour int64
	// AvgRender is how long its recent completed Jobs took (0: none yet).
	AvgRender time.Duration
}

// Throughputs (Admin) is each Model's Throughput, in configured order.
func (s *Service) Throughputs(ctx context.Context, c aimg.Caller) ([]Throughput, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	now := s.now()
	out := make([]Throughput, 0, len(s.models))
	for _, m := range s.models {
		t := Throughput{ModelID: m.ModelID}
		var err error
		if t.AvgRender, t.Running, err = s.store.JobTimings(ctx, m.ModelID); err != nil {
			return nil, err
		}
		if t.LastMinute, err = s.store.CompletedJobsSince(ctx, m.ModelID, now.Add(-time.Minute)); err != nil {
			return nil, err
		}
		if t.LastHour, err = s.store.CompletedJobsSince(ctx, m.ModelID, now.Add(-time.Hour)); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// maxRunningListed bounds the running Jobs the admin workers page lists.
const maxRunningListed = 200

// RunningJobs (Admin) lists the Jobs workers hold now, the longest running
// first, with their lease owner ("<key id>/<worker>/<slot>" for a remote
// worker) and progress: what the server knows of its workers live.
func (s *Service) RunningJobs(ctx context.Context, c aimg.Caller) ([]*aimg.Job, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	return s.store.RunningJobs(ctx, maxRunningListed)
}
