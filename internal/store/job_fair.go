package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"aimg/internal/aimg"
)

// Fair share inside a queue (migrations 00024 and 00031, docs/decisions.md
// "Fair share inside a queue"). Jobs are claimed in (fair_key, seq) order,
// where
//
//	fair_key = user_rank << fairTieBits | (tie mod 2^fairTieBits)
//
// user_rank is a virtual time: a user's next Job in a queue gets
// max(the user's highest queued rank there, the queue's vtime) + 1, and
// vtime is the highest rank claimed from the queue so far. So a user with
// 1,000 queued Jobs holds ranks v+1..v+1000 while a newcomer gets v+1: users
// take turns, each user's Jobs in enqueue order, and a user who has waited
// (nothing queued) re-enters at the current round. The tie grows with each
// enqueue (fairTieSQL), so Jobs of one round go in enqueue order. Ranks
// stay below 2^39.
//
// Nothing about a queue is kept in a row of its own, so enqueues and claims
// of one queue do not wait for each other's commits (issue 11): vtime is
// read from the claimed Jobs themselves (the jobs_served index), and the
// tie comes from a sequence.
//
// job_fair_counts (kept by triggers) counts queued Jobs per key range at
// levels 1..fairLevels (bucket = fair_key >> 8·level), split on PostgreSQL
// into fairSlots slots by the Job's seq (SQLite has one writer: one slot),
// so a position is the sum of at most 255·fairSlots counter rows per level
// plus at most 255 entries of the jobs_fair index: bounded, whatever the
// queue's length.
const (
	fairTieBits = 24
	fairLevels  = 7
	fairFanout  = 8  // bits per level
	fairSlots   = 16 // PostgreSQL: counter rows per key range (the triggers' seq % 16)
)

// fairTieSQL is the tie of the Job being inserted, an expression of the
// INSERT: on PostgreSQL a sequence (taken without a lock, in about enqueue
// order); on SQLite, whose one writer inserts one Job at a time, the next
// seq.
func fairTieSQL(dialect Dialect) string {
	if dialect == Postgres {
		return `nextval('job_fair_ties')`
	}
	return `(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs)`
}

// fairRankSQL reads the highest fair key of user $2's queued Jobs in queue
// $1 (jobs_queued_user) and the highest of the queue's claimed Jobs
// (jobs_served), 0 for none: one backward probe each.
const fairRankSQL = `SELECT
	COALESCE((SELECT fair_key FROM jobs WHERE queue_id = $1 AND user_id = $2 AND status = 'queued'
		ORDER BY fair_key DESC LIMIT 1), 0),
	COALESCE((SELECT fair_key FROM jobs WHERE queue_id = $1 AND started_at IS NOT NULL
		ORDER BY fair_key DESC LIMIT 1), 0)`

// fairRank returns the rank, shifted into place, of the Job that userID
// enqueues into queueID (insertJob adds the tie). It runs in the enqueue
// transaction after the user's lock, so the user's last rank is read after
// that user's earlier enqueues committed. vtime is what the transaction's
// snapshot sees: a claim committing meanwhile is as if it came after this
// enqueue, which is an order that could have happened.
func fairRank(ctx context.Context, tx *sql.Tx, dialect Dialect, queueID, userID string) (int64, error) {
	if dialect == Postgres {
		// The user's last rank below is one probe of jobs_queued_user, but
		// a cached generic plan, not knowing that the user is not the one
		// with the 100k-Job batch, walks jobs_fair backwards through that
		// batch instead (measured: 120 ms at 100k). Plan it per value.
		if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return 0, err
		}
	}
	var last, served int64
	if err := tx.QueryRowContext(ctx, fairRankSQL, queueID, userID).Scan(&last, &served); err != nil {
		return 0, err
	}
	rank := max(last, served) >> fairTieBits
	return (rank + 1) << fairTieBits, nil
}

// positionSQL counts the queued Jobs of queue $1 before (fair key $2, seq
// $3) in claim order: for each level the counter rows of the key ranges
// below $2 that the next level does not cover, the jobs_fair entries in
// [$2 &^ 255, $2), and the Jobs with the same key and a lower seq (ties,
// which need 2^24 enqueues into the queue at one rank). Parameters $4.. are
// the bounds, see positionArgs. One statement, so one snapshot.
var positionSQL = func() string {
	q := `SELECT (SELECT COUNT(*) FROM jobs WHERE queue_id = $1 AND status = 'queued' AND fair_key >= $4 AND fair_key < $2)
	+ (SELECT COUNT(*) FROM jobs WHERE queue_id = $1 AND status = 'queued' AND fair_key = $2 AND seq < $3)`
	for l := 1; l <= fairLevels; l++ {
		lo, hi := 3+2*l, 4+2*l
		q += `
	+ COALESCE((SELECT SUM(n) FROM job_fair_counts WHERE queue_id = $1 AND level = ` + strconv.Itoa(l) +
			` AND bucket >= $` + strconv.Itoa(lo) + ` AND bucket < $` + strconv.Itoa(hi) + `), 0)`
	}
	return q
}()

// positionArgs are positionSQL's parameters for a Job.
func positionArgs(queueID string, key, seq int64) []any {
	args := []any{queueID, key, seq, key >> fairFanout << fairFanout}
	for l := 1; l <= fairLevels; l++ {
		hi := key >> (fairFanout * l)
		lo := hi >> fairFanout << fairFanout
		if l == fairLevels {
			lo = 0 // the top level: every bucket below
		}
		args = append(args, lo, hi)
	}
	return args
}

// QueuePosition is the exact position of a queued Job in its queue's claim
// order (1 is next), or 0 when the Job is not queued. It is exact at the
// moment of reading, and costs a bounded number of index probes (see
// positionSQL), not a count of the Jobs ahead.
func (s *Store) QueuePosition(ctx context.Context, jobID string) (int64, error) {
	var (
		queueID, status string
		seq, key        int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT queue_id, seq, fair_key, status FROM jobs WHERE id = $1`, jobID).
		Scan(&queueID, &seq, &key, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, aimg.Errorf(aimg.CodeNotFound, "Job not found")
	}
	if err != nil || status != string(aimg.JobQueued) {
		return 0, err
	}
	var ahead int64
	err = s.r.QueryRowContext(ctx, positionSQL, positionArgs(queueID, key, seq)...).Scan(&ahead)
	return ahead + 1, err
}

// QueueLength counts the queued Jobs of a queue: the sum of its top-level
// counter rows (at most 128).
func (s *Store) QueueLength(ctx context.Context, queueID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM job_fair_counts WHERE queue_id = $1 AND level = `+
		strconv.Itoa(fairLevels), queueID).Scan(&n)
	return n, err
}
