package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// queueHead is one of the claimer's queues as a claim sees it: its fair
// head, its oldest Job, and what the claim has picked from it so far.
type queueHead struct {
	queueID string
	seq     int64 // the fair head: the next Job in claim order
	key     int64 // its fair_key
	oldest  int64 // seq of the queue's oldest queued Job
	class   int   // 0 starving normal, 1 priority, 2 normal
	prio    int
	// picked are the seqs this claim took from the queue, in claim order;
	// after is the (fair_key, seq) of the last: the next head comes after.
	picked             []int64
	afterKey, afterSeq int64
}

// claimPick is a Job a claim took: locked (PostgreSQL), not yet updated.
type claimPick struct {
	queueID  string
	seq, key int64
}

// ClaimJob leases the next Job of the worker's Models: from a starving
// normal queue first, then priority queues, then normal queues, the queue
// whose oldest Job waited longest first within each. Inside a queue it takes
// the fair head (fair_key, seq order, see job_fair.go): users take turns.
// It returns a not-found error when every queue is empty. The Job becomes
// running with attempts+1 and its Items processing. It is ClaimJobs for
// one worker.
//
// PostgreSQL: the head is locked with FOR UPDATE SKIP LOCKED, so concurrent
// claimers take different Jobs without waiting. SQLite: the transaction
// holds the only writer, so nobody else claims meanwhile.
func (s *Store) ClaimJob(ctx context.Context, c aimg.Claim) (*aimg.Job, error) {
	if c.WorkerID == "" || len(c.WorkerIDs) > 0 {
		return nil, errors.New("store: ClaimJob needs WorkerID (and no WorkerIDs: that is ClaimJobs)")
	}
	c.WorkerIDs, c.WorkerID = []string{c.WorkerID}, ""
	jobs, err := s.ClaimJobs(ctx, c)
	if err != nil {
		return nil, err
	}
	return jobs[0], nil
}

// ClaimJobs leases up to len(c.WorkerIDs) Jobs in one transaction, the
// i-th to c.WorkerIDs[i], in exactly the order that as many ClaimJob calls
// in a row would take them (the same queue preference, StarvationBound and
// fair head, read again after each pick). It returns at least one Job, or a
// not-found error when every queue is empty.
//
// It picks first, then writes: on PostgreSQL each pick is locked with FOR
// UPDATE SKIP LOCKED, and before the first write the picked Jobs'
// fair-share counter rows are locked in one global order (lockPickCounters),
// so that two batches, or a batch and any other transaction, cannot
// deadlock on them.
func (s *Store) ClaimJobs(ctx context.Context, c aimg.Claim) ([]*aimg.Job, error) {
	if len(c.WorkerIDs) == 0 || len(c.WorkerIDs) > aimg.MaxClaimBatch || c.WorkerID != "" {
		return nil, fmt.Errorf("store: ClaimJobs needs 1 to %d WorkerIDs and no WorkerID, got %d", aimg.MaxClaimBatch, len(c.WorkerIDs))
	}
	var jobs []*aimg.Job
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		picks, err := s.pickJobs(ctx, tx, c, len(c.WorkerIDs))
		if err != nil {
			return err
		}
		if len(picks) == 0 {
			return aimg.Errorf(aimg.CodeNotFound, "No queued job")
		}
		if s.dialect == Postgres && len(picks) > 1 {
			if err := lockPickCounters(ctx, tx, picks); err != nil {
				return err
			}
		}
		now := ms(c.Now)
		for i, p := range picks {
			job, err := scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = 'running', lease_owner = $2,
				lease_expires_at = $3, attempts = attempts + 1, started_at = $4, progress = 0
				WHERE seq = $1 AND status = 'queued' RETURNING `+jobColumns,
				p.seq, c.WorkerIDs[i], ms(c.Now.Add(c.Lease)), now))
			if aimg.IsNotFound(err) {
				// Locked (PostgreSQL) or read under the only writer
				// (SQLite) by this transaction: it cannot have moved.
				return fmt.Errorf("claim: picked job %d is no longer queued", p.seq)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE items SET status = 'processing', updated_at = $2
				WHERE job_id = $1 AND status = 'queued'`, job.ID, now); err != nil {
				return err
			}
			jobs = append(jobs, job)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// pickJobs chooses up to n Jobs as n single claims would, each the head of
// the preferred queue after the picks before it. Nothing is written: on
// PostgreSQL each pick is locked (FOR UPDATE SKIP LOCKED: a head another
// claimer holds is passed over, as a single claim passes it over), on
// SQLite the transaction holds the only writer.
func (s *Store) pickJobs(ctx context.Context, tx *sql.Tx, c aimg.Claim, n int) ([]claimPick, error) {
	heads, err := queueHeads(ctx, tx, s.dialect, c)
	if err != nil {
		return nil, err
	}
	starving := ms(c.Now.Add(-c.StarvationBound))
	var picks []claimPick
	for len(picks) < n && len(heads) > 0 {
		h := heads[0]
		seq, key := h.seq, h.key
		if s.dialect == Postgres {
			var err error
			if h.picked == nil {
				err = tx.QueryRowContext(ctx, `SELECT seq, fair_key FROM jobs WHERE queue_id = $1 AND status = 'queued'
					ORDER BY fair_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED`, h.queueID).Scan(&seq, &key)
			} else {
				err = tx.QueryRowContext(ctx, `SELECT seq, fair_key FROM jobs WHERE queue_id = $1 AND status = 'queued'
					AND (fair_key, seq) > ($2, $3) ORDER BY fair_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
					h.queueID, h.afterKey, h.afterSeq).Scan(&seq, &key)
			}
			if errors.Is(err, sql.ErrNoRows) {
				heads = heads[1:] // taken by other claimers since we looked
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		picks = append(picks, claimPick{queueID: h.queueID, seq: seq, key: key})
		if len(picks) == n {
			break
		}
		// The queue's head moved on: read it again, and its place among
		// the others with it.
		h.picked, h.afterKey, h.afterSeq = append(h.picked, seq), key, seq
		ok, err := readQueueHead(ctx, tx, s.dialect, &h, starving)
		if err != nil {
			return nil, err
		}
		if ok {
			heads[0] = h
			sortHeads(heads)
		} else {
			heads = heads[1:]
		}
	}
	return picks, nil
}

// lockPickCounters locks (PostgreSQL) the fair-share counter rows that
// moving the picked Jobs out of their queues will update, queue by queue
// (in Go's order of queue ids, as lockJobsThenQueues), within a queue by
// level from the top, then bucket, then slot. A single-Job transaction
// takes its rows in that order too (the trigger goes from the top level
// down, migration 00031), and a multi-Job one holds its queues' top rows
// before any lower one: no two can wait for each other.
func lockPickCounters(ctx context.Context, tx *sql.Tx, picks []claimPick) error {
	type rows struct{ levels, buckets, slots []int64 }
	byQueue := map[string]*rows{}
	for _, p := range picks {
		r := byQueue[p.queueID]
		if r == nil {
			r = &rows{}
			byQueue[p.queueID] = r
		}
	next:
		for l := int64(fairLevels); l >= 1; l-- {
			bucket, slot := p.key>>(fairFanout*l), p.seq%fairSlots
			for i := range r.levels {
				if r.levels[i] == l && r.buckets[i] == bucket && r.slots[i] == slot {
					continue next
				}
			}
			r.levels, r.buckets, r.slots = append(r.levels, l), append(r.buckets, bucket), append(r.slots, slot)
		}
	}
	queues := make([]string, 0, len(byQueue))
	for q := range byQueue {
		queues = append(queues, q)
	}
	slices.Sort(queues)
	for _, q := range queues {
		r := byQueue[q]
		if _, err := tx.ExecContext(ctx, lockCountersSQL, q, r.levels, r.buckets, r.slots); err != nil {
			return err
		}
	}
	return nil
}

// lockCountersSQL locks the counter rows ($2[i], $3[i], $4[i]) (level,
// bucket, slot) of queue $1 in lockPickCounters' order: a primary-key
// probe each.
const lockCountersSQL = `SELECT c.n FROM unnest($2::int[], $3::bigint[], $4::int[]) AS v(level, bucket, slot)
	JOIN job_fair_counts c ON c.queue_id = $1 AND c.level = v.level AND c.bucket = v.bucket AND c.slot = v.slot
	ORDER BY c.level DESC, c.bucket, c.slot FOR UPDATE OF c`

// LeaseExpiredReason is the error recorded on a Job whose worker vanished.
const LeaseExpiredReason = "the worker stopped responding (its lease expired)"

// WorkerRestartedReason is the error recorded on a Job whose worker was
// restarted while it rendered.
const WorkerRestartedReason = "the worker restarted while rendering (its previous process ended)"

// queueHeads reads, for each of the worker's queues, its fair head and its
// oldest Job (two index probes per queue) and orders them by preference.
func queueHeads(ctx context.Context, tx *sql.Tx, dialect Dialect, c aimg.Claim) ([]queueHead, error) {
	var heads []queueHead
	starving := ms(c.Now.Add(-c.StarvationBound))
	for _, m := range c.ModelIDs {
		for _, prio := range []int{1, 0} {
			h := queueHead{queueID: aimg.QueueID(m, prio), prio: prio}
			ok, err := readQueueHead(ctx, tx, dialect, &h, starving)
			if err != nil {
				return nil, err
			}
			if ok {
				heads = append(heads, h)
			}
		}
	}
	sortHeads(heads)
	return heads, nil
}

// readQueueHead reads h's fair head after the Jobs the claim picked from it
// (which are still queued to this transaction), its oldest Job among the
// others and its class; false when nothing is left.
func readQueueHead(ctx context.Context, tx *sql.Tx, dialect Dialect, h *queueHead, starving int64) (bool, error) {
	var enqueued int64
	if h.picked == nil {
		err := tx.QueryRowContext(ctx, `SELECT seq, enqueued_at FROM jobs WHERE queue_id = $1 AND status = 'queued'
			ORDER BY seq LIMIT 1`, h.queueID).Scan(&h.oldest, &enqueued)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		err = tx.QueryRowContext(ctx, `SELECT seq, fair_key FROM jobs WHERE queue_id = $1 AND status = 'queued'
			ORDER BY fair_key, seq LIMIT 1`, h.queueID).Scan(&h.seq, &h.key)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // PostgreSQL: emptied by other claimers in between
		}
		if err != nil {
			return false, err
		}
	} else {
		// The oldest Job not picked: among the first len(picked)+1.
		rows, err := tx.QueryContext(ctx, `SELECT seq, enqueued_at FROM jobs WHERE queue_id = $1 AND status = 'queued'
			ORDER BY seq LIMIT `+strconv.Itoa(len(h.picked)+1), h.queueID)
		if err != nil {
			return false, err
		}
		found := false
		for rows.Next() && !found {
			if err := rows.Scan(&h.oldest, &enqueued); err != nil {
				rows.Close()
				return false, err
			}
			found = !slices.Contains(h.picked, h.oldest)
		}
		rows.Close()
		if err := rows.Err(); err != nil || !found {
			return false, err
		}
		if dialect == Postgres {
			// pickJobs finds the head itself, locking it (and skipping
			// what other claimers hold): it needs only the order.
			h.classify(enqueued, starving)
			return true, nil
		}
		err = tx.QueryRowContext(ctx, `SELECT seq, fair_key FROM jobs WHERE queue_id = $1 AND status = 'queued'
			AND (fair_key, seq) > ($2, $3) ORDER BY fair_key, seq LIMIT 1`, h.queueID, h.afterKey, h.afterSeq).Scan(&h.seq, &h.key)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // PostgreSQL: the rest is another claimer's
		}
		if err != nil {
			return false, err
		}
	}
	h.classify(enqueued, starving)
	return true, nil
}

// classify sets h's class from its oldest Job's enqueue time.
func (h *queueHead) classify(enqueued, starving int64) {
	switch {
	case h.prio == 1:
		h.class = 1
	case enqueued <= starving:
		h.class = 0 // the queue has waited too long: its fair head goes first
	default:
		h.class = 2
	}
}

// sortHeads orders heads by preference: class, then oldest Job first.
func sortHeads(heads []queueHead) {
	slices.SortFunc(heads, func(a, b queueHead) int {
		if a.class != b.class {
			return a.class - b.class
		}
		return cmp.Compare(a.oldest, b.oldest)
	})
}

// Heartbeat records progress (0..1) and extends the lease to expires. It
// returns aimg.ErrLeaseLost when the worker no longer holds the Job.
func (s *Store) Heartbeat(ctx context.Context, l aimg.Lease, progress float64, now, expires time.Time) error {
	// A lease that has already expired stays expired, even before the
	// reaper gets to it: the worker and the reaper never disagree.
	res, err := s.w.ExecContext(ctx, `UPDATE jobs SET lease_expires_at = $4, progress = $5
		WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3 AND lease_expires_at > $6`,
		l.JobID, l.WorkerID, l.Attempt, ms(expires), progress, ms(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return aimg.ErrLeaseLost
	}
	return nil
}

// CompleteJob marks the Job completed and its Items completed with their
// files, placed in folderID ("" = root), in one transaction, which also
// records the results' unrecorded Files and forgets the Job's pending
// outputs (AddPendingOutputs). Only the lease
// holder may complete: anyone else gets aimg.ErrLeaseLost and nothing changes,
// so a Job is never completed twice.
func (s *Store) CompleteJob(ctx context.Context, l aimg.Lease, results []aimg.ItemResult, folderID string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var itemIDs string
		err := tx.QueryRowContext(ctx, `UPDATE jobs SET status = 'completed', progress = 1, finished_at = $4,
			lease_expires_at = NULL, error = '' WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3
			RETURNING item_ids`, l.JobID, l.WorkerID, l.Attempt, ms(now)).Scan(&itemIDs)
		if errors.Is(err, sql.ErrNoRows) {
			return aimg.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		var want []string
		if err := json.Unmarshal([]byte(itemIDs), &want); err != nil {
			return err
		}
		if len(results) != len(want) {
			return fmt.Errorf("complete job %s: %d results for %d items", l.JobID, len(results), len(want))
		}
		var folderAdded sql.NullInt64
		if folderID != "" {
			folderAdded = sql.NullInt64{Int64: ms(now), Valid: true}
		}
		for _, r := range results {
			if !slices.Contains(want, r.ItemID) {
				return fmt.Errorf("complete job %s: item %s is not one of its items", l.JobID, r.ItemID)
			}
			// Stored, not yet recorded (issue 11: no commit of their own).
			for _, f := range r.Files {
				if err := insertFile(ctx, tx, f); err != nil {
					return err
				}
			}
			frames := r.Frames
			if frames == nil {
				frames = []aimg.Frame{}
			}
			fr, err := jsonText(frames)
			if err != nil {
				return err
			}
			// The Folder asked for at enqueue, if it still is the owner's
			// (it may have been deleted meanwhile: then the root Folder).
			// An owner deleted with deleteItems while the Job was queued
			// gets the Item deleted as it completes.
			if _, err := tx.ExecContext(ctx, `UPDATE items SET status = 'completed', error = '', file_id = $3, frames = $4,
				completed_at = $5, updated_at = $5,
				folder_id = CASE WHEN EXISTS (SELECT 1 FROM folders f WHERE f.id = $6 AND f.user_id = items.user_id) THEN $6 ELSE folder_id END,
				folder_added_at = CASE WHEN EXISTS (SELECT 1 FROM folders f WHERE f.id = $6 AND f.user_id = items.user_id) THEN $7 ELSE folder_added_at END,
				deleted_at = CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = items.user_id AND u.deleted_at IS NOT NULL
					AND u.delete_items_requested) THEN $5 ELSE deleted_at END
				WHERE id = $1 AND job_id = $2`,
				r.ItemID, l.JobID, r.FileID, fr, ms(now), nullString(folderID), folderAdded); err != nil {
				return err
			}
		}
		// The Items point at their files now: the orphan sweeper has
		// nothing to follow for them. In this transaction rather than a
		// second one (issue 11: one commit less per Job). Only this
		// attempt's files: an earlier attempt's leftovers (its process died
		// after storing) stay for the sweeper (the cluster test found it).
		for _, r := range results {
			ids := []string{r.FileID}
			for _, f := range r.Frames {
				ids = append(ids, f.FileID)
			}
			for _, id := range ids {
				if _, err := tx.ExecContext(ctx, `DELETE FROM pending_outputs WHERE job_id = $1 AND file_id = $2`, l.JobID, id); err != nil {
					return err
				}
			}
		}
		return deleteJobPreviews(ctx, tx, l.JobID)
	})
}

// FailJob ends the worker's attempt at the Job with reason. With retry and
// attempts left, the Job goes back to its queue (keeping its seq and fair
// key, so it is at the head again) and its Items are queued again; otherwise the Job and
// its Items fail with the reason. requeued tells which happened.
func (s *Store) FailJob(ctx context.Context, l aimg.Lease, reason string, retry bool, now time.Time) (requeued bool, err error) {
	retryFlag := 0
	if retry {
		retryFlag = 1
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `UPDATE jobs SET
			status = CASE WHEN $4 = 1 AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,
			finished_at = CASE WHEN $4 = 1 AND attempts < max_attempts THEN NULL ELSE CAST($5 AS BIGINT) END,
			lease_expires_at = NULL, progress = 0, error = $6
			WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3 RETURNING status`,
			l.JobID, l.WorkerID, l.Attempt, retryFlag, ms(now), reason).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return aimg.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		requeued = status == string(aimg.JobQueued)
		return setJobItemsStatus(ctx, tx, l.JobID, aimg.JobStatus(status), reason, now)
	})
	return requeued, err
}

// ReleaseJob gives a Job back to its queue without counting the attempt
// (the worker is shutting down, the Job did not fail).
func (s *Store) ReleaseJob(ctx context.Context, l aimg.Lease, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'queued', attempts = attempts - 1,
			lease_expires_at = NULL, progress = 0 WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3`,
			l.JobID, l.WorkerID, l.Attempt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return aimg.ErrLeaseLost
		}
		return setJobItemsStatus(ctx, tx, l.JobID, aimg.JobQueued, "", now)
	})
}

// setJobItemsStatus moves a Job's unfinished Items along with the Job.
func setJobItemsStatus(ctx context.Context, tx *sql.Tx, jobID string, st aimg.JobStatus, reason string, now time.Time) error {
	item := aimg.StatusQueued
	if st == aimg.JobFailed {
		item = aimg.StatusFailed
	} else {
		reason = "" // a queued Item has not failed (yet)
	}
	_, err := tx.ExecContext(ctx, `UPDATE items SET status = $2, error = $3, updated_at = $4
		WHERE job_id = $1 AND status IN ('queued', 'processing')`, jobID, string(item), reason, ms(now))
	if err != nil {
		return err
	}
	return deleteJobPreviews(ctx, tx, jobID)
}

// RequeueExpired puts every running Job whose lease expired before now back
// in its queue, or fails it when its attempts are used up. It returns how
// many Jobs it requeued and failed.
func (s *Store) RequeueExpired(ctx context.Context, now time.Time) (requeued, failed int, err error) {
	return s.requeueRunning(ctx, now, LeaseExpiredReason, `lease_expires_at < $1`)
}

// ExpireWorkerLeases ends at once the leases of worker name (the owners
// name and name/<slot>), as if they had expired: a restarted worker takes
// back what its previous process held without waiting for the leases to
// run out. Like the reaper it keeps the attempt spent (a Job that kills its
// worker fails after max_attempts instead of crashing it forever).
func (s *Store) ExpireWorkerLeases(ctx context.Context, name string, now time.Time) (requeued, failed int, err error) {
	prefix := name + "/"
	return s.requeueRunning(ctx, now, WorkerRestartedReason,
		`(lease_owner = $3 OR substr(lease_owner, 1, $4) = $5)`, name, utf8.RuneCountInString(prefix), prefix)
}

// requeueRunning ends the running Jobs matching cond (SQL on jobs, with
// parameters from $3 on): back to their queue, or failed when their
// attempts are used up, with reason.
func (s *Store) requeueRunning(ctx context.Context, now time.Time, reason, cond string, args ...any) (requeued, failed int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		requeued, failed = 0, 0
		all := append([]any{ms(now), reason}, args...)
		if err := s.lockRunning(ctx, tx, `CAST($1 AS BIGINT) IS NOT NULL AND CAST($2 AS TEXT) IS NOT NULL AND `+cond, all); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET
			status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
			finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE CAST($1 AS BIGINT) END,
			lease_expires_at = NULL, progress = 0, error = $2
			WHERE status = 'running' AND `+cond+` RETURNING id, status`, all...)
		if err != nil {
			return err
		}
		type moved struct{ id, status string }
		var jobs []moved
		for rows.Next() {
			var m moved
			if err := rows.Scan(&m.id, &m.status); err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range jobs {
			if m.status == string(aimg.JobQueued) {
				requeued++
			} else {
				failed++
			}
			if err := setJobItemsStatus(ctx, tx, m.id, aimg.JobStatus(m.status), reason, now); err != nil {
				return err
			}
		}
		return nil
	})
	return requeued, failed, err
}

// ReleaseWorkerJobs gives every Job leased by exactly workerID back to its
// queue without counting the attempt, like ReleaseJob for a lease the
// worker does not know: a claim whose answer was lost (the call was cut
// off while its transaction committed) leaves a Job the worker never saw.
func (s *Store) ReleaseWorkerJobs(ctx context.Context, workerID string, now time.Time) (int, error) {
	return s.releaseRunning(ctx, now, `lease_owner = $1`, workerID)
}

// releaseRunning gives the running Jobs matching cond (SQL on jobs, with
// parameters from $1 on) back to their queue without counting the attempt.
func (s *Store) releaseRunning(ctx context.Context, now time.Time, cond string, args ...any) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if err := s.lockRunning(ctx, tx, cond, args); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET status = 'queued', attempts = attempts - 1,
			lease_expires_at = NULL, progress = 0 WHERE status = 'running' AND `+cond+` RETURNING id`, args...)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := setJobItemsStatus(ctx, tx, id, aimg.JobQueued, "", now); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// lockRunning takes, on PostgreSQL, the locks that a bulk move of the
// running Jobs matching cond back to their queues needs, in the order every
// other transaction takes them: the Job rows (by seq), then each queue's
// top fair-share counter rows (by queue). Without it the per-row triggers
// would lock counter rows of several queues in the update's row order, and
// two bulk moves, or a bulk move and a FailJob, could deadlock. SQLite has
// one writer.
func (s *Store) lockRunning(ctx context.Context, tx *sql.Tx, cond string, args []any) error {
	if s.dialect != Postgres {
		return nil
	}
	return lockJobsThenQueues(ctx, tx, `status = 'running' AND `+cond, args)
}

// lockJobsThenQueues locks (PostgreSQL) the Jobs matching cond by seq, then
// their queues' top fair-share counter rows by queue: the one order of
// every transaction that changes several Jobs (lockRunning, CancelItems).
func lockJobsThenQueues(ctx context.Context, tx *sql.Tx, cond string, args []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT queue_id FROM jobs WHERE `+cond+` ORDER BY seq FOR UPDATE`, args...)
	if err != nil {
		return err
	}
	var queues []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(queues, q) {
			queues = append(queues, q)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	slices.Sort(queues)
	for _, q := range queues {
		if _, err := tx.ExecContext(ctx, `SELECT n FROM job_fair_counts WHERE queue_id = $1 AND level = $2
			ORDER BY bucket, slot FOR UPDATE`, q, fairLevels); err != nil {
			return err
		}
	}
	return nil
}
