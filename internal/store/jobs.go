package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"aimg/internal/aimg"
)

// The durable generation queue. A Job row is in one queue (queue_id) with a
// global enqueue order (seq) and a fair-share order within its queue
// (fair_key, see job_fair.go). Every hot query is a range of a partial index:
// jobs_fair (queue_id, fair_key, seq) WHERE status = 'queued' answers a
// queue's head and, with the job_fair_counts rows, a Job's exact position;
// jobs_served (queue_id, fair_key) WHERE started_at IS NOT NULL the rank a
// queue has served;
// jobs_queued (queue_id, seq) answers how long a queue's oldest Job waited;
// jobs_running_lease answers which leases expired. Status literals are written into the SQL (not bound)
// so that both planners match the partial indexes.

const jobColumns = `seq, id, queue_id, model_id, priority, user_id, batch_id, item_ids, kind, payload, status,
	attempts, max_attempts, lease_owner, lease_expires_at, progress, error, enqueued_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*aimg.Job, error) {
	var (
		j                        aimg.Job
		itemIDs, payload, status string
		lease, started, finished sql.NullInt64
		enqueued                 int64
	)
	err := row.Scan(&j.Seq, &j.ID, &j.QueueID, &j.ModelID, &j.Priority, &j.UserID, &j.BatchID, &itemIDs, &j.Kind,
		&payload, &status, &j.Attempts, &j.MaxAttempts, &j.LeaseOwner, &lease, &j.Progress, &j.Error, &enqueued,
		&started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Job not found")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(itemIDs), &j.ItemIDs); err != nil {
		return nil, fmt.Errorf("job %s item_ids: %w", j.ID, err)
	}
	j.Payload = []byte(payload)
	j.Status = aimg.JobStatus(status)
	j.LeaseExpiresAt = fromNullMS(lease)
	j.EnqueuedAt = fromMS(enqueued)
	j.StartedAt, j.FinishedAt = fromNullMS(started), fromNullMS(finished)
	return &j, nil
}

type idempotentResponse struct {
	ItemIDs []string `json:"itemIDs"`
}

// Enqueue writes the Items (status queued) and their Job in one transaction,
// after checking the limits under a per-user lock, so concurrent requests of
// one user cannot both slip under a limit. The Job's Seq, Status and
// EnqueuedAt are set here, as are the Items' JobID, Status and timestamps.
func (s *Store) Enqueue(ctx context.Context, nj aimg.NewJob) (aimg.Enqueued, error) {
	j := nj.Job
	if len(nj.Items) == 0 {
		return aimg.Enqueued{}, errors.New("enqueue: a job needs at least one item")
	}
	var out aimg.Enqueued
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Once, for the limits below and assignCreatedAt.
		if err := lockUsers(ctx, tx, s.dialect, j.UserID); err != nil {
			return err
		}
		if nj.IdempotencyKey != "" {
			ids, found, err := idempotentItems(ctx, tx, j.UserID, nj.IdempotencyKey, nj.Now.Add(-nj.IdempotencyTTL))
			if err != nil || found {
				out = aimg.Enqueued{Replayed: found, ItemIDs: ids}
				return err
			}
		}
		if nj.MaxActive >= 0 {
			var active int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE user_id = $1 AND model_id = $2
				AND status IN ('queued', 'processing')`, j.UserID, j.ModelID).Scan(&active); err != nil {
				return err
			}
			if active+len(nj.Items) > nj.MaxActive {
				return aimg.Errorf(aimg.CodeRateLimited,
					"You already have %d Items of Model %s queued or generating; the limit is %d at once", active, j.ModelID, nj.MaxActive)
			}
		}
		if nj.HourlyLimit > 0 {
			var recent int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE user_id = $1 AND created_at > $2`,
				j.UserID, ms(nj.Now.Add(-time.Hour))).Scan(&recent); err != nil {
				return err
			}
			if recent+len(nj.Items) > nj.HourlyLimit {
				return aimg.Errorf(aimg.CodeRateLimited, "Generation is limited to %d Items per hour on this account", nj.HourlyLimit)
			}
		}
		for _, it := range nj.Items {
			it.CreatedAt = nj.Now
		}
		if err := assignCreatedAt(ctx, tx, nj.Items); err != nil {
			return err
		}
		j.Status, j.EnqueuedAt = aimg.JobQueued, nj.Now
		j.ItemIDs = j.ItemIDs[:0]
		for _, it := range nj.Items {
			j.ItemIDs = append(j.ItemIDs, it.ID)
		}
		rank, err := fairRank(ctx, tx, s.dialect, j.QueueID, j.UserID)
		if err != nil {
			return err
		}
		if err := insertJob(ctx, tx, s.dialect, j, rank); err != nil {
			return err
		}
		for _, it := range nj.Items {
			it.JobID, it.BatchID, it.Status, it.UpdatedAt = j.ID, j.BatchID, aimg.StatusQueued, nj.Now
		}
		if err := insertItemRows(ctx, tx, s.dialect, nj.Items); err != nil {
			return err
		}
		if nj.IdempotencyKey != "" {
			resp, _ := json.Marshal(idempotentResponse{ItemIDs: j.ItemIDs})
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, response, created_at)
				VALUES ($1, $2, $3, $4)`, j.UserID, nj.IdempotencyKey, string(resp), ms(nj.Now)); err != nil {
				return err
			}
		}
		out = aimg.Enqueued{ItemIDs: slices.Clone(j.ItemIDs)}
		return nil
	})
	return out, err
}

// idempotentItems returns the Items of an earlier request with the key made
// after since; a stale record of the key is removed so the key can be reused.
func idempotentItems(ctx context.Context, tx *sql.Tx, userID, key string, since time.Time) ([]string, bool, error) {
	var (
		resp    string
		created int64
	)
	err := tx.QueryRowContext(ctx, `SELECT response, created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
		userID, key).Scan(&resp, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if created <= ms(since) {
		_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2`, userID, key)
		return nil, false, err
	}
	var r idempotentResponse
	if err := json.Unmarshal([]byte(resp), &r); err != nil {
		return nil, false, fmt.Errorf("idempotency key %q: %w", key, err)
	}
	return r.ItemIDs, true, nil
}

// DeleteIdempotencyKeysBefore forgets keys recorded before t.
func (s *Store) DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ms(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insertJob inserts a queued Job with fair key rank | tie (job_fair.go).
func insertJob(ctx context.Context, tx *sql.Tx, dialect Dialect, j *aimg.Job, rank int64) error {
	payload := string(j.Payload)
	if payload == "" {
		payload = "{}"
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO jobs (id, queue_id, model_id, priority, user_id, batch_id, item_ids,
		kind, payload, status, attempts, max_attempts, enqueued_at, fair_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,0,$11,$12,
		$13 + (`+fairTieSQL(dialect)+` & `+strconv.Itoa(1<<fairTieBits-1)+`)) RETURNING seq`,
		j.ID, j.QueueID, j.ModelID, j.Priority, j.UserID, j.BatchID, jsonList(j.ItemIDs), j.Kind, payload,
		string(aimg.JobQueued), j.MaxAttempts, ms(j.EnqueuedAt), rank).Scan(&j.Seq)
	if isUniqueViolation(err) {
		return &aimg.Error{Code: aimg.CodeConflict, Message: "Job already exists", Err: err}
	}
	return err
}

// JobByID returns the Job.
func (s *Store) JobByID(ctx context.Context, id string) (*aimg.Job, error) {
	return scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
}

// JobsByStatus counts Jobs per status (for tests, metrics and admin views).
func (s *Store) JobsByStatus(ctx context.Context) (map[aimg.JobStatus]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[aimg.JobStatus]int64{}
	for rows.Next() {
		var (
			st string
			n  int64
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[aimg.JobStatus(st)] = n
	}
	return out, rows.Err()
}
