package store

import (
	"context"
	"strings"
)

// ExplainForTest returns the query plan of query as text, one line per row:
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL.
func (s *Store) ExplainForTest(ctx context.Context, query string) (string, error) {
	if s.dialect == Postgres {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN "+query)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return "", err
			}
			b.WriteString(line + "\n")
		}
		return b.String(), rows.Err()
	}
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			id, parent, notused int
			detail              string
		)
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		b.WriteString(detail + "\n")
	}
	return b.String(), rows.Err()
}

// SeedQueuedJobsForTest bulk-inserts n queued Jobs (without Items) at the
// tail of queueID in one statement, then refreshes the planner statistics.
func (s *Store) SeedQueuedJobsForTest(ctx context.Context, queueID, modelID string, n int, enqueuedAt int64) error {
	return s.SeedJobsForTest(ctx, queueID, modelID, "queued", n, enqueuedAt)
}

// SeedJobsForTest bulk-inserts n Jobs of the given status (without Items).
func (s *Store) SeedJobsForTest(ctx context.Context, queueID, modelID, status string, n int, enqueuedAt int64) error {
	if n == 0 {
		_, err := s.w.ExecContext(ctx, `ANALYZE`)
		return err
	}
	_, err := s.w.ExecContext(ctx, `WITH RECURSIVE seq_n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq_n WHERE i < $1)
		INSERT INTO jobs (id, queue_id, model_id, priority, user_id, batch_id, kind, status, enqueued_at)
		SELECT 'seed-' || $5 || '-' || $2 || '-' || i, $2, $3, 0, 'seed-user', 'seed-batch', 'image', $5, $4 FROM seq_n`,
		n, queueID, modelID, enqueuedAt, status)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `ANALYZE`)
	return err
}
