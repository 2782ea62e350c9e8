package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"aimg/internal/aimg"
)

// CancelItems is cancelGeneration: for each Item of r.IDs that r.Check
// allows, its Job, when still queued or running, is failed with
// aimg.CancelledReason and marked cancelled_at, and every unfinished Item
// of that Job fails with the same reason, in one transaction. A queued Job
// leaves its queue at once (it is no longer 'queued'); a running one keeps
// its lease owner and attempt, so that its worker's next heartbeat is told
// aimg.ErrJobCancelled. Only the named Items' Jobs change.
//
// Locks (PostgreSQL): the Jobs are locked in id order, then their Items
// are updated: the same order as CompleteJob and FailJob (Job, then
// Items), so concurrent cancels and completes cannot deadlock.
func (s *Store) CancelItems(ctx context.Context, r aimg.CancelRequest) ([]aimg.CancelOutcome, error) {
	var out []aimg.CancelOutcome
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = make([]aimg.CancelOutcome, len(r.IDs))
		var jobIDs []string
		for i, id := range r.IDs {
			out[i].ID = id
			it, err := scanItem(tx.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1`, id))
			if aimg.IsNotFound(err) {
				out[i].Err = err
				continue
			}
			if err != nil {
				return err
			}
			if err := r.Check(it); err != nil {
				out[i].Err = err
				continue
			}
			out[i].JobID = it.JobID
			if it.JobID == "" || it.Status != aimg.StatusQueued && it.Status != aimg.StatusProcessing {
				out[i].Err = aimg.ErrItemFinished
				continue
			}
			jobIDs = append(jobIDs, it.JobID)
		}
		slices.Sort(jobIDs)
		jobIDs = slices.Compact(jobIDs)
		if s.dialect == Postgres && len(jobIDs) > 0 {
			// The Jobs by seq, then their queues' counters: the order of
			// every multi-Job change, so two cancels (or a cancel and the
			// reaper) spanning several queues cannot deadlock.
			if err := lockJobsThenQueues(ctx, tx, `id = ANY($1) AND status IN ('queued', 'running')`, []any{jobIDs}); err != nil {
				return err
			}
		}
		cancelled := map[string]bool{} // job id -> was running
		for _, jobID := range jobIDs {
			lock := ""
			if s.dialect == Postgres {
				lock = " FOR NO KEY UPDATE"
			}
			var status string
			err := tx.QueryRowContext(ctx, `SELECT status FROM jobs WHERE id = $1`+lock, jobID).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if status != string(aimg.JobQueued) && status != string(aimg.JobRunning) {
				continue // finished meanwhile
			}
			// A queued Job forgets the owner of an earlier attempt: only the
			// worker that holds the Job now is told "cancelled".
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'failed', error = $2, finished_at = $3,
				cancelled_at = $3, lease_expires_at = NULL, progress = 0,
				lease_owner = CASE WHEN status = 'running' THEN lease_owner ELSE '' END
				WHERE id = $1`, jobID, aimg.CancelledReason, ms(r.At)); err != nil {
				return err
			}
			if err := setJobItemsStatus(ctx, tx, jobID, aimg.JobFailed, aimg.CancelledReason, r.At); err != nil {
				return err
			}
			cancelled[jobID] = status == string(aimg.JobRunning)
		}
		for i := range out {
			if out[i].Err != nil {
				continue
			}
			running, ok := cancelled[out[i].JobID]
			if !ok {
				out[i].Err = aimg.ErrItemFinished
				continue
			}
			out[i].WasRunning = running
		}
		return nil
	})
	return out, err
}

// JobCancelledUnder tells whether the Job was cancelled while lease l
// held it: the worker is told aimg.ErrJobCancelled rather than
// aimg.ErrLeaseLost.
func (s *Store) JobCancelledUnder(ctx context.Context, l aimg.Lease) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE id = $1 AND lease_owner = $2 AND attempts = $3
		AND lease_owner <> '' AND cancelled_at IS NOT NULL`, l.JobID, l.WorkerID, l.Attempt).Scan(&n)
	return n > 0, err
}
