package generation

import (
	"context"
	"time"

	"aimg/internal/aimg"
)

// Batches of images for the Nextcloud text-to-image tasks: one Job whose
// Items render together, under generateImage's queues, tiers and limits.

// Batch is a queued batch of images.
type Batch struct {
	Job *aimg.Job
	// ETA is when the batch is expected to be done.
	ETA time.Time
}

// GenerateImages validates r as generateImage does and queues one Job of n
// Items (consecutive seeds) on r's Model.
func (s *Service) GenerateImages(ctx context.Context, c aimg.Caller, r ImageRequest, n int) (*Batch, error) {
	if n < 1 {
		return nil, aimg.Invalid("numberOfImages", "must be at least 1")
	}
	m, p, err := s.imageRequest(c, r, n)
	if err != nil {
		return nil, err
	}
	job, _, err := s.enqueueJob(ctx, c, m, p)
	if err != nil {
		return nil, err
	}
	eta, err := s.ETA(ctx, job)
	if err != nil {
		return nil, err
	}
	return &Batch{Job: job, ETA: eta}, nil
}

// BatchState is a batch's Job and Items, in the Job's order.
type BatchState struct {
	Job   *aimg.Job
	Items []*aimg.Item
	ETA   time.Time
}

// Batch reads the batch whose Job is jobID.
func (s *Service) Batch(ctx context.Context, jobID string) (*BatchState, error) {
	job, err := s.store.JobByID(ctx, jobID)
	if err != nil {
		return nil, err
	}
	st := &BatchState{Job: job}
	for _, id := range job.ItemIDs {
		it, err := s.store.ItemByID(ctx, id)
		if err != nil {
			return nil, err
		}
		st.Items = append(st.Items, it)
	}
	if st.ETA, err = s.ETA(ctx, job); err != nil {
		return nil, err
	}
	return st, nil
}

// defaultRenderTime is the render time assumed for a Model that has not
// completed a Job yet.
const defaultRenderTime = 30 * time.Second

// ETA is when job is expected to be done: a running Job after the rest of
// its Model's recent average render time; a queued one after the Jobs
// ahead of it in its queue have run, as many at once as run now.
func (s *Service) ETA(ctx context.Context, job *aimg.Job) (time.Time, error) {
	now := s.now()
	if job.FinishedAt != nil {
		return *job.FinishedAt, nil
	}
	avg, running, err := s.store.JobTimings(ctx, job.ModelID)
	if err != nil {
		return time.Time{}, err
	}
	if avg <= 0 {
		avg = defaultRenderTime
	}
	if job.Status == aimg.JobRunning {
		left := time.Duration(float64(avg) * (1 - min(max(job.Progress, 0), 1)))
		return now.Add(left), nil
	}
	pos, err := s.store.QueuePosition(ctx, job.ID)
	if err != nil {
		return time.Time{}, err
	}
	rounds := (pos + int64(max(running, 1)) - 1) / int64(max(running, 1)) // pos counts this Job
	return now.Add(time.Duration(max(rounds, 1)) * avg), nil
}

// BatchAllowance is how many Items the caller may have queued or
// generating at once on the default image Model (its tier's concurrency,
// 1 at abuse level 3 and above): what a batch may hold at most.
func (s *Service) BatchAllowance(c aimg.Caller) int {
	m, err := s.model("", DefaultImageModel, aimg.MTypeImage)
	if err != nil {
		return 0
	}
	n := m.ConcurrentFor(s.tier(c))
	if c.User != nil && c.User.Abuse >= aimg.AbuseConcurrencyOne {
		n = min(n, 1)
	}
	return n
}
