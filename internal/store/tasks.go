package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// Nextcloud tasks (docs/decisions.md "Nextcloud tasks").

const taskColumns = `id, type, user_id, app_id, custom_id, input, output, status, progress, error, job_id,
	webhook_uri, webhook_method, attempts, max_attempts, lease_owner, lease_expires_at,
	scheduled_at, started_at, ended_at, last_updated, completion_expected_at`

func scanTask(row interface{ Scan(...any) error }) (*aimg.Task, error) {
	var (
		t                             aimg.Task
		input                         string
		output                        sql.NullString
		progress                      sql.NullFloat64
		leaseExp, started, ended, eta sql.NullInt64
		scheduled, updated            int64
	)
	if err := row.Scan(&t.ID, &t.Type, &t.UserID, &t.AppID, &t.CustomID, &input, &output, &t.Status, &progress, &t.Error, &t.JobID,
		&t.WebhookURI, &t.WebhookMethod, &t.Attempts, &t.MaxAttempts, &t.LeaseOwner, &leaseExp,
		&scheduled, &started, &ended, &updated, &eta); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, aimg.Errorf(aimg.CodeNotFound, "Task not found")
		}
		return nil, err
	}
	t.Input = json.RawMessage(input)
	if output.Valid {
		t.Output = json.RawMessage(output.String)
	}
	if progress.Valid {
		p := progress.Float64
		t.Progress = &p
	}
	t.LeaseExpiresAt, t.StartedAt, t.EndedAt, t.CompletionExpectedAt = fromNullMS(leaseExp), fromNullMS(started), fromNullMS(ended), fromNullMS(eta)
	t.ScheduledAt, t.LastUpdated = fromMS(scheduled), fromMS(updated)
	return &t, nil
}

func scanTasks(rows *sql.Rows) ([]aimg.Task, error) {
	defer rows.Close()
	var out []aimg.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

func nullJSON(v json.RawMessage) sql.NullString {
	if v == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(v), Valid: true}
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}

// CreateTask inserts t and sets t.ID.
func (s *Store) CreateTask(ctx context.Context, t *aimg.Task) error {
	return s.w.QueryRowContext(ctx, `INSERT INTO tasks (type, user_id, app_id, custom_id, input, output, status, progress, error, job_id,
		webhook_uri, webhook_method, max_attempts, scheduled_at, last_updated, completion_expected_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING id`,
		t.Type, t.UserID, t.AppID, t.CustomID, string(t.Input), nullJSON(t.Output), t.Status, nullFloat(t.Progress), t.Error, t.JobID,
		t.WebhookURI, t.WebhookMethod, t.MaxAttempts, ms(t.ScheduledAt), ms(t.LastUpdated), nullMS(t.CompletionExpectedAt)).Scan(&t.ID)
}

// Task returns the task id, whoever owns it.
func (s *Store) Task(ctx context.Context, id int64) (*aimg.Task, error) {
	return scanTask(s.r.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id))
}

// Tasks lists the tasks f selects, oldest first; a zero f.Limit is no
// limit (the service always sets one).
func (s *Store) Tasks(ctx context.Context, f aimg.TaskFilter) ([]aimg.Task, error) {
	where, args := []string{"user_id = $1", "last_updated >= $2"}, []any{f.UserID, ms(f.UpdatedSince)}
	if f.AppID != "" {
		args = append(args, f.AppID)
		where = append(where, fmt.Sprintf("app_id = $%d", len(args)))
	}
	if f.CustomID != nil {
		args = append(args, *f.CustomID)
		where = append(where, fmt.Sprintf("custom_id = $%d", len(args)))
	}
	if len(f.Types) > 0 {
		where = append(where, "type IN ("+placeholders(&args, f.Types)+")")
	}
	query := `SELECT ` + taskColumns + ` FROM tasks WHERE ` + strings.Join(where, " AND ") + " ORDER BY id"
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanTasks(rows)
}

// placeholders appends vals to args and returns their "$n, $m" list.
func placeholders(args *[]any, vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		*args = append(*args, v)
		ph[i] = fmt.Sprintf("$%d", len(*args))
	}
	return strings.Join(ph, ", ")
}

// skipLocked is the row-locking clause of a claim's subquery: PostgreSQL
// claimers skip each other's rows; SQLite has one writer anyway.
func (s *Store) skipLocked() string {
	if s.dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ClaimTask leases the oldest runnable text task of c.Types: a scheduled
// one, or a running one whose lease expired (its runner died). It returns
// a not-found error when there is none. Tasks whose expired lease used the
// last attempt are failed first.
func (s *Store) ClaimTask(ctx context.Context, c aimg.TaskClaim) (*aimg.Task, error) {
	if len(c.Types) == 0 {
		// A runner that can run nothing gets nothing ("type IN ()" is an
		// error on PostgreSQL).
		return nil, aimg.Errorf(aimg.CodeNotFound, "Task not found")
	}
	now := ms(c.Now)
	if _, err := s.w.ExecContext(ctx, `UPDATE tasks SET status = $1, error = 'The task runner stopped answering too often',
		lease_owner = '', lease_expires_at = NULL, ended_at = $2, last_updated = $2,
		webhook_state = CASE WHEN webhook_uri <> '' THEN 'pending' ELSE '' END, webhook_next_at = $2
		WHERE job_id = '' AND status = $3 AND lease_expires_at < $2 AND attempts >= max_attempts`,
		aimg.TaskFailed, now, aimg.TaskRunning); err != nil {
		return nil, err
	}
	args := []any{aimg.TaskRunning, c.Owner, ms(c.Now.Add(c.Lease)), now, aimg.TaskScheduled}
	types := placeholders(&args, c.Types)
	return scanTask(s.w.QueryRowContext(ctx, `UPDATE tasks SET status = $1, lease_owner = $2, lease_expires_at = $3,
		attempts = attempts + 1, started_at = COALESCE(started_at, $4), last_updated = $4, progress = COALESCE(progress, 0)
		WHERE id = (SELECT id FROM tasks WHERE job_id = '' AND type IN (`+types+`)
			AND (status = $5 OR (status = $1 AND lease_expires_at < $4)) ORDER BY id LIMIT 1`+s.skipLocked()+`)
		RETURNING `+taskColumns, args...))
}

// HeartbeatTask records progress and extends l's lease; aimg.ErrLeaseLost
// when the task is no longer l's (cancelled, deleted, or taken over).
func (s *Store) HeartbeatTask(ctx context.Context, l aimg.TaskLease, progress float64, now, expires time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET progress = $1, lease_expires_at = $2, last_updated = $3
		WHERE id = $4 AND status = $5 AND lease_owner = $6`, progress, ms(expires), ms(now), l.TaskID, aimg.TaskRunning, l.Owner)
	return leaseHeld(res, err)
}

func leaseHeld(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return aimg.ErrLeaseLost
	}
	return nil
}

// FinishTask ends l's task as successful (with output) or failed (with
// reason), and queues its webhook.
func (s *Store) FinishTask(ctx context.Context, l aimg.TaskLease, status aimg.TaskStatus, output json.RawMessage, reason string, now time.Time) error {
	// $4 is 1 for a success, whose progress becomes 1; the CAST gives
	// PostgreSQL the type a parameter used only in CASE lacks.
	succeeded := 0
	if status == aimg.TaskSuccessful {
		succeeded = 1
	}
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET status = $1, output = $2, error = $3, progress = CASE WHEN CAST($4 AS INTEGER) = 1 THEN 1 ELSE progress END,
		lease_owner = '', lease_expires_at = NULL, ended_at = $5, last_updated = $5,
		webhook_state = CASE WHEN webhook_uri <> '' THEN 'pending' ELSE '' END, webhook_next_at = $5
		WHERE id = $6 AND status = $7 AND lease_owner = $8`,
		status, nullJSON(output), reason, succeeded, ms(now), l.TaskID, aimg.TaskRunning, l.Owner)
	return leaseHeld(res, err)
}

// RetryTask gives l's task back to the queue after a failed attempt (the
// attempt stays spent), or fails it when no attempt is left.
func (s *Store) RetryTask(ctx context.Context, l aimg.TaskLease, reason string, now time.Time) (failed bool, err error) {
	var status aimg.TaskStatus
	err = s.w.QueryRowContext(ctx, `UPDATE tasks SET
		status = CASE WHEN attempts >= max_attempts THEN CAST($1 AS INTEGER) ELSE CAST($2 AS INTEGER) END,
		error = $3, lease_owner = '', lease_expires_at = NULL, last_updated = $4,
		ended_at = CASE WHEN attempts >= max_attempts THEN CAST($4 AS BIGINT) ELSE NULL END,
		webhook_state = CASE WHEN attempts >= max_attempts AND webhook_uri <> '' THEN 'pending' ELSE '' END,
		webhook_next_at = $4
		WHERE id = $5 AND status = $6 AND lease_owner = $7 RETURNING status`,
		aimg.TaskFailed, aimg.TaskScheduled, reason, ms(now), l.TaskID, aimg.TaskRunning, l.Owner).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, aimg.ErrLeaseLost
	}
	return status == aimg.TaskFailed, err
}

// FollowedTasks returns up to limit text-to-image tasks that have not
// ended, with ids above afterID, oldest first, for the loop that follows
// their Jobs (a keyset page: afterID is the last id of the page before).
func (s *Store) FollowedTasks(ctx context.Context, afterID int64, limit int) ([]aimg.Task, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE job_id <> '' AND status IN ($1, $2) AND id > $3
		ORDER BY id LIMIT $4`, aimg.TaskScheduled, aimg.TaskRunning, afterID, limit)
	if err != nil {
		return nil, err
	}
	return scanTasks(rows)
}

// UpdateFollowedTask writes u to task id if it follows a Job and has not
// ended, in one transaction with its task files; it tells whether it did.
func (s *Store) UpdateFollowedTask(ctx context.Context, id int64, u aimg.TaskUpdate) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var output sql.NullString
		if u.Status == aimg.TaskSuccessful {
			ids := make([]int64, len(u.Files))
			for i, f := range u.Files {
				if err := tx.QueryRowContext(ctx, `INSERT INTO task_files (task_id, file_id) VALUES ($1, $2) RETURNING id`, id, f).Scan(&ids[i]); err != nil {
					return err
				}
			}
			b, err := json.Marshal(map[string][]int64{"images": ids})
			if err != nil {
				return err
			}
			output = sql.NullString{String: string(b), Valid: true}
		}
		now := ms(u.Now)
		// started and ended are 0 or 1: whether the task has started (it
		// runs or has ended) and whether it ended now. Flags rather than
		// comparisons of parameters, which PostgreSQL cannot type.
		started, ended := 0, 0
		var endedAt sql.NullInt64
		if u.Status >= aimg.TaskRunning {
			started = 1
		}
		if u.Status.Ended() {
			ended, endedAt = 1, sql.NullInt64{Int64: now, Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET status = $1, progress = $2, error = $3, output = $4,
			completion_expected_at = COALESCE($5, completion_expected_at), last_updated = $6,
			started_at = CASE WHEN CAST($7 AS INTEGER) = 1 THEN COALESCE(started_at, $6) ELSE started_at END, ended_at = $8,
			webhook_state = CASE WHEN CAST($9 AS INTEGER) = 1 AND webhook_uri <> '' THEN 'pending' ELSE webhook_state END,
			webhook_next_at = CASE WHEN CAST($9 AS INTEGER) = 1 THEN CAST($6 AS BIGINT) ELSE webhook_next_at END
			WHERE id = $10 AND job_id <> '' AND status IN ($11, $12)`,
			u.Status, nullFloat(u.Progress), u.Error, output, nullMS(u.CompletionExpectedAt), now, started, endedAt, ended,
			id, aimg.TaskScheduled, aimg.TaskRunning)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return errNotChanged
		}
		changed = true
		return nil
	})
	if errors.Is(err, errNotChanged) {
		return false, nil
	}
	return changed, err
}

var errNotChanged = errors.New("not changed")

// CancelTask cancels task id if it has not ended; it tells whether it did.
func (s *Store) CancelTask(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET status = $1, lease_owner = '', lease_expires_at = NULL, ended_at = $2, last_updated = $2,
		webhook_state = CASE WHEN webhook_uri <> '' THEN 'pending' ELSE '' END, webhook_next_at = $2
		WHERE id = $3 AND status IN ($4, $5)`, aimg.TaskCancelled, ms(now), id, aimg.TaskScheduled, aimg.TaskRunning)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteTask removes task id and its task files.
func (s *Store) DeleteTask(ctx context.Context, id int64) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM tasks WHERE id = $1`, id)
	return err
}

// DeleteTasksUpdatedBefore removes up to limit tasks last updated before t
// (Nextcloud removes tasks a week after their last update).
func (s *Store) DeleteTasksUpdatedBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE last_updated < $1 ORDER BY last_updated LIMIT $2)`,
		ms(t), limit)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TaskFile returns task file id of task taskID.
func (s *Store) TaskFile(ctx context.Context, taskID, id int64) (*aimg.TaskFile, error) {
	f := aimg.TaskFile{TaskID: taskID}
	err := s.r.QueryRowContext(ctx, `SELECT id, file_id FROM task_files WHERE id = $1 AND task_id = $2`, id, taskID).Scan(&f.ID, &f.FileID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Not found")
	}
	return &f, err
}

// ClaimWebhooks takes up to limit tasks whose webhook is due, and moves
// their next attempt lease later, so that another replica does not call
// the same webhook meanwhile.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]aimg.Task, error) {
	rows, err := s.w.QueryContext(ctx, `UPDATE tasks SET webhook_next_at = $1, webhook_attempts = webhook_attempts + 1
		WHERE id IN (SELECT id FROM tasks WHERE webhook_state = 'pending' AND webhook_next_at <= $2 ORDER BY webhook_next_at LIMIT $3`+s.skipLocked()+`)
		RETURNING `+taskColumns+`, webhook_attempts`, ms(now.Add(lease)), ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []aimg.Task
	for rows.Next() {
		var attempts int
		t, err := scanTask(scanWithExtra{rows, &attempts})
		if err != nil {
			return nil, err
		}
		t.WebhookAttempts = attempts
		out = append(out, *t)
	}
	return out, rows.Err()
}

// scanWithExtra scans a row of taskColumns followed by more columns.
type scanWithExtra struct {
	row   interface{ Scan(...any) error }
	extra any
}

func (s scanWithExtra) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }

// WebhookDelivered records a webhook's outcome: done, or failed for good,
// or (retryAt set) to be tried again then.
func (s *Store) WebhookDelivered(ctx context.Context, taskID int64, done bool, retryAt *time.Time) error {
	state := "failed"
	switch {
	case done:
		state = "done"
	case retryAt != nil:
		state = "pending"
	}
	_, err := s.w.ExecContext(ctx, `UPDATE tasks SET webhook_state = $1, webhook_next_at = $2 WHERE id = $3`, state, nullMS(retryAt), taskID)
	return err
}
