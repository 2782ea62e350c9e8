package store

import (
	"context"
	"database/sql"
	"time"

	"aimg/internal/aimg"
)

// recentJobs is how many finished Jobs of a Model the render-time average
// looks at.
const recentJobs = 20

// JobTimings tells how long the Model's recent completed Jobs took on
// average (0 when none completed yet) and how many of its Jobs run now:
// the inputs of a queue's expected completion time.
func (s *Store) JobTimings(ctx context.Context, modelID string) (avg time.Duration, running int, err error) {
	var mean sql.NullFloat64
	if err = s.r.QueryRowContext(ctx, `SELECT AVG(finished_at - started_at) FROM (SELECT finished_at, started_at FROM jobs
		WHERE model_id = $1 AND status = $2 AND started_at IS NOT NULL AND finished_at IS NOT NULL
		ORDER BY finished_at DESC LIMIT $3) recent`, modelID, aimg.JobCompleted, recentJobs).Scan(&mean); err != nil {
		return 0, 0, err
	}
	if err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE model_id = $1 AND status = $2`,
		modelID, aimg.JobRunning).Scan(&running); err != nil {
		return 0, 0, err
	}
	return time.Duration(mean.Float64 * float64(time.Millisecond)), running, nil
}

// CompletedJobsSince counts the Model's Jobs completed at or after since
// (the admin queues page's throughput), from jobs_model_finished (the
// status literal is in the SQL so that both planners match that partial
// index).
func (s *Store) CompletedJobsSince(ctx context.Context, modelID string, since time.Time) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE model_id = $1 AND status = 'completed' AND finished_at >= $2`,
		modelID, ms(since)).Scan(&n)
	return n, err
}

// RunningJobs lists up to limit running Jobs, the longest running first
// (the admin workers page): few rows, found by jobs_running_lease.
func (s *Store) RunningJobs(ctx context.Context, limit int) ([]*aimg.Job, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE status = 'running'
		ORDER BY started_at, seq LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*aimg.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
