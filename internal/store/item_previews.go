package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// Item previews (migration 00034): the latest preview image of a
// processing Item, stored so that any replica serves it. The generation
// service checks the budgets (size, type, pixels) before it stores one.

// PutItemPreview stores p as the preview of its Item, replacing the
// earlier one, when the lease l still holds the Job and the Item is one of
// its processing Items; anyone else gets aimg.ErrLeaseLost. When any
// preview of the Job was stored after now-minInterval the preview is
// dropped: stored is false and nothing changes (the rate bound).
func (s *Store) PutItemPreview(ctx context.Context, l aimg.Lease, p aimg.ItemPreview, now time.Time, minInterval time.Duration) (version int64, stored bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR NO KEY UPDATE" // one preview of the Job at a time: the rate check holds
		}
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE id = $1 AND status = 'running'
			AND lease_owner = $2 AND attempts = $3 AND lease_expires_at > $4`+lock,
			l.JobID, l.WorkerID, l.Attempt, ms(now)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return aimg.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		var n int
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE id = $1 AND job_id = $2 AND status = 'processing'`,
			p.ItemID, l.JobID).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return aimg.Invalid("item", "the Item is not one this Job is rendering")
		}
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(updated_at) FROM item_previews WHERE job_id = $1`,
			l.JobID).Scan(&last); err != nil {
			return err
		}
		if last.Valid && last.Int64 > ms(now.Add(-minInterval)) {
			return nil
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO item_previews (item_id, job_id, content_type, data, version, updated_at)
			VALUES ($1, $2, $3, $4, 1, $5)
			ON CONFLICT (item_id) DO UPDATE SET job_id = excluded.job_id, content_type = excluded.content_type,
			data = excluded.data, version = item_previews.version + 1, updated_at = excluded.updated_at
			RETURNING version`, p.ItemID, l.JobID, p.ContentType, p.Data, ms(now)).Scan(&version)
		stored = err == nil
		return err
	})
	return version, stored, err
}

// ItemPreview returns the stored preview of the Item, or a not-found error.
func (s *Store) ItemPreview(ctx context.Context, itemID string) (*aimg.ItemPreview, error) {
	p := aimg.ItemPreview{ItemID: itemID}
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT job_id, content_type, data, version, updated_at FROM item_previews
		WHERE item_id = $1`, itemID).Scan(&p.JobID, &p.ContentType, &p.Data, &p.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "No preview")
	}
	if err != nil {
		return nil, err
	}
	p.UpdatedAt = time.UnixMilli(updated)
	return &p, nil
}

// ItemPreviewVersion is the version of the Item's stored preview; 0: none.
func (s *Store) ItemPreviewVersion(ctx context.Context, itemID string) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT version FROM item_previews WHERE item_id = $1`, itemID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// deleteJobPreviews drops the previews of a Job that ends its attempt:
// completed, failed, cancelled, released or requeued.
func deleteJobPreviews(ctx context.Context, tx *sql.Tx, jobID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM item_previews WHERE job_id = $1`, jobID)
	return err
}
