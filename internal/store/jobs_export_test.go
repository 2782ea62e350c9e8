package store

import (
	"context"
	"database/sql"
	"strings"
)

// ExplainForTest returns the query plan of query as text, one line per row:
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL.
func (s *Store) ExplainForTest(ctx context.Context, query string, args ...any) (string, error) {
	if s.dialect == Postgres {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN "+query, args...)
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
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
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

// SeedJobsForTest bulk-inserts n Jobs of the given status (without Items),
// all of one user ("seed-user"), the i-th with user rank i (tie 0): the
// seeded Jobs are claimed in insertion order, and another user's Job enqueued
// after them comes second.
func (s *Store) SeedJobsForTest(ctx context.Context, queueID, modelID, status string, n int, enqueuedAt int64) error {
	if n == 0 {
		_, err := s.w.ExecContext(ctx, `ANALYZE`)
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// PostgreSQL: one statement updating the same counter rows 100k
		// times builds 100k row versions in one transaction (quadratic), so
		// the counters are recounted once instead of kept by the trigger.
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE jobs DISABLE TRIGGER jobs_fair_insert`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `WITH RECURSIVE seq_n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq_n WHERE i < $1)
			INSERT INTO jobs (id, queue_id, model_id, priority, user_id, batch_id, kind, status, enqueued_at, fair_key)
			SELECT 'seed-' || $5 || '-' || $2 || '-' || i, $2, $3, 0, 'seed-user', 'seed-batch', 'image', $5, $4,
				CAST(i AS BIGINT) * 16777216 FROM seq_n`,
			n, queueID, modelID, enqueuedAt, status); err != nil {
			return err
		}
		if s.dialect != Postgres {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE jobs ENABLE TRIGGER jobs_fair_insert`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM job_fair_counts WHERE queue_id = $1`, queueID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO job_fair_counts (queue_id, level, bucket, slot, n)
			SELECT queue_id, level, bucket, slot, n FROM (`+fairRecount(s.dialect)+`) r WHERE r.queue_id = $1`, queueID)
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `ANALYZE`)
	return err
}

// PositionQueryForTest is the statement QueuePosition runs for a Job with
// fair key key and seq in queueID, with its arguments.
func PositionQueryForTest(queueID string, key, seq int64) (string, []any) {
	return positionSQL, positionArgs(queueID, key, seq)
}

// LockCountersQueryForTest is the statement a batch claim locks its picks'
// counter rows with (queue, levels, buckets, slots).
const LockCountersQueryForTest = lockCountersSQL

// FairRankQueryForTest is the statement an enqueue reads its rank with.
const FairRankQueryForTest = fairRankSQL

// MigrateDownToForTest rolls the schema back to version v.
func (s *Store) MigrateDownToForTest(ctx context.Context, v int64) error {
	p, err := s.migrationProvider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}

// SetBeforeCommitForTest makes every transaction of the store call f with
// its context just before it commits, until the test ends.
func (s *Store) SetBeforeCommitForTest(t interface{ Cleanup(func()) }, f func(context.Context)) {
	s.beforeCommit = f
	t.Cleanup(func() { s.beforeCommit = nil })
}
