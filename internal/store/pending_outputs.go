package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"aimg/internal/aimg"
)

// Output files of Jobs between their upload and the Job's completion
// (migration 00027): what the orphan sweeper looks at.

// AddPendingOutputs records that the files are about to be stored for jobID.
func (s *Store) AddPendingOutputs(ctx context.Context, jobID string, outputs []aimg.PendingOutput, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, o := range outputs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pending_outputs (file_id, job_id, created_at, blob_key) VALUES ($1, $2, $3, $4)
				ON CONFLICT (file_id) DO NOTHING`, o.FileID, jobID, ms(now), o.BlobKey); err != nil {
				return err
			}
		}
		return nil
	})
}

// DropPendingOutputs forgets the pending files fileIDs (their Job
// completed with them, or they were removed). Only these: the rows of the
// same Job's other attempts (a process that died after storing) must stay
// for the orphan sweeper.
func (s *Store) DropPendingOutputs(ctx context.Context, fileIDs []string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range fileIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pending_outputs WHERE file_id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClaimOrphanedOutputs returns up to limit files recorded before cutoff
// that no Item of their Job points at, each claimed by this caller (its
// row deleted: of several sweepers exactly one gets a file). Rows of files
// that an Item does point at (the process died after completing) are
// dropped.
func (s *Store) ClaimOrphanedOutputs(ctx context.Context, cutoff time.Time, limit int) ([]aimg.PendingOutput, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT file_id, job_id, blob_key FROM pending_outputs WHERE created_at < $1
		ORDER BY created_at LIMIT $2`, ms(cutoff), limit)
	if err != nil {
		return nil, err
	}
	type pending struct{ fileID, jobID, blobKey string }
	var list []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.fileID, &p.jobID, &p.blobKey); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	used := map[string][]string{} // job -> the file ids its Items point at
	var orphans []aimg.PendingOutput
	for _, p := range list {
		ids, ok := used[p.jobID]
		if !ok {
			if ids, err = jobItemFiles(ctx, s.r, p.jobID); err != nil {
				return nil, err
			}
			used[p.jobID] = ids
		}
		res, err := s.w.ExecContext(ctx, `DELETE FROM pending_outputs WHERE file_id = $1`, p.fileID)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 && !slices.Contains(ids, p.fileID) {
			orphans = append(orphans, aimg.PendingOutput{FileID: p.fileID, BlobKey: p.blobKey})
		}
	}
	return orphans, nil
}

// jobItemFiles lists the files (main and frames) the Job's Items point at.
func jobItemFiles(ctx context.Context, q queryer, jobID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT file_id, frames FROM items WHERE job_id = $1`, jobID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var fileID, frames string
		if err := rows.Scan(&fileID, &frames); err != nil {
			return nil, err
		}
		ids = append(ids, fileID)
		var fs []aimg.Frame
		if err := json.Unmarshal([]byte(frames), &fs); err != nil {
			return nil, fmt.Errorf("job %s frames: %w", jobID, err)
		}
		for _, f := range fs {
			ids = append(ids, f.FileID)
		}
	}
	return ids, rows.Err()
}
