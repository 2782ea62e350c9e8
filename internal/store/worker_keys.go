package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// Worker keys of remote workers (docs/worker-protocol.md).

const workerKeyColumns = `id, name, model_ids, secret_hash, created_at, last_seen_at, revoked_at`

func scanWorkerKey(row interface{ Scan(...any) error }) (*aimg.WorkerKey, error) {
	var (
		k             aimg.WorkerKey
		models        string
		created       int64
		seen, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &models, &k.SecretHash, &created, &seen, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, aimg.Errorf(aimg.CodeNotFound, "Worker key not found")
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(models), &k.ModelIDs); err != nil {
		return nil, fmt.Errorf("worker key %s models: %w", k.ID, err)
	}
	k.CreatedAt, k.LastSeenAt, k.RevokedAt = fromMS(created), fromNullMS(seen), fromNullMS(revoked)
	return &k, nil
}

// CreateWorkerKey inserts k.
func (s *Store) CreateWorkerKey(ctx context.Context, k *aimg.WorkerKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO worker_keys (`+workerKeyColumns+`) VALUES ($1,$2,$3,$4,$5,NULL,NULL)`,
		k.ID, k.Name, jsonList(k.ModelIDs), k.SecretHash, ms(k.CreatedAt))
	return err
}

// WorkerKey returns the key id, revoked or not.
func (s *Store) WorkerKey(ctx context.Context, id string) (*aimg.WorkerKey, error) {
	return scanWorkerKey(s.r.QueryRowContext(ctx, `SELECT `+workerKeyColumns+` FROM worker_keys WHERE id = $1`, id))
}

// maxWorkerKeys bounds a listing (keys are made by Admins, one per machine).
const maxWorkerKeys = 1000

// WorkerKeys lists the keys, newest first, with the Jobs each holds now.
func (s *Store) WorkerKeys(ctx context.Context) ([]aimg.WorkerKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+workerKeyColumns+` FROM worker_keys ORDER BY created_at DESC, id LIMIT $1`, maxWorkerKeys)
	if err != nil {
		return nil, err
	}
	var keys []aimg.WorkerKey
	for rows.Next() {
		k, err := scanWorkerKey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, *k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range keys {
		prefix := keys[i].LeaseOwnerPrefix()
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE status = 'running' AND substr(lease_owner, 1, $1) = $2`,
			utf8.RuneCountInString(prefix), prefix).Scan(&keys[i].RunningJobs); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// TouchWorkerKey records that the key was used at now; it writes at most
// once a minute per key, so a busy worker does not write on every call.
func (s *Store) TouchWorkerKey(ctx context.Context, id string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE worker_keys SET last_seen_at = $2
		WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)`, id, ms(now), ms(now.Add(-time.Minute)))
	return err
}

// RevokeWorkerKey marks the key revoked at now (once) and gives every Job
// its workers hold back to its queue without spending the attempt (the
// Job did nothing wrong). It returns how many Jobs went back.
func (s *Store) RevokeWorkerKey(ctx context.Context, id string, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE worker_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, ms(now))
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.WorkerKey(ctx, id); err != nil {
			return 0, err
		}
	}
	prefix := id + "/"
	return s.releaseRunning(ctx, now, `substr(lease_owner, 1, $1) = $2`, utf8.RuneCountInString(prefix), prefix)
}
