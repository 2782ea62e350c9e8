package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

const fileColumns = `id, name, content_type, size, checksum, checksum_algorithm, owner_id, custom_metadata, blob_key, created_at`

func scanFile(row interface{ Scan(...any) error }) (*aimg.File, error) {
	var (
		f        aimg.File
		owner    sql.NullString
		custom   sql.NullString
		createdM int64
	)
	err := row.Scan(&f.ID, &f.Name, &f.ContentType, &f.Size, &f.Checksum, &f.ChecksumAlgorithm, &owner, &custom,
		&f.BlobKey, &createdM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "File not found")
	}
	if err != nil {
		return nil, err
	}
	f.OwnerID = owner.String
	if custom.Valid {
		f.CustomMetadata = []byte(custom.String)
	}
	f.CreatedAt = fromMS(createdM)
	return &f, nil
}

// CreateFile inserts f. A taken id is a conflict naming the id field.
func (s *Store) CreateFile(ctx context.Context, f *aimg.File) error {
	return insertFile(ctx, s.w, f)
}

func insertFile(ctx context.Context, q queryer, f *aimg.File) error {
	var custom sql.NullString
	if len(f.CustomMetadata) > 0 {
		custom = sql.NullString{String: string(f.CustomMetadata), Valid: true}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO files (`+fileColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		f.ID, f.Name, f.ContentType, f.Size, f.Checksum, f.ChecksumAlgorithm, nullString(f.OwnerID), custom,
		f.BlobKey, ms(f.CreatedAt))
	if isUniqueViolation(err) {
		return &aimg.Error{Code: aimg.CodeConflict, Field: "id", Message: "id: a file with this id already exists", Err: err}
	}
	return err
}

// FileByID returns the file, or a not-found Error.
func (s *Store) FileByID(ctx context.Context, id string) (*aimg.File, error) {
	return scanFile(s.r.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id))
}

// DeleteFile deletes the file's row and its variant rows, returning what was
// deleted: the file and the blob keys of its variants, so that the caller can
// remove the blobs. An unknown id is a not-found Error.
func (s *Store) DeleteFile(ctx context.Context, id string) (*aimg.File, []string, error) {
	var (
		f        *aimg.File
		variants []string
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if f, err = scanFile(tx.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id)); err != nil {
			return err
		}
		if variants, err = fileVariantKeys(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM file_variants WHERE file_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM files WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return f, variants, nil
}

// AddFileVariant records that blobKey holds a variant of the file. Recording
// the same variant twice is not an error; a variant of a file that no longer
// exists is a not-found Error (the caller then removes the blob).
func (s *Store) AddFileVariant(ctx context.Context, fileID, blobKey string, now time.Time) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO file_variants (file_id, blob_key, created_at)
		SELECT id, $2, $3 FROM files WHERE id = $1
		ON CONFLICT (file_id, blob_key) DO NOTHING`, fileID, blobKey, ms(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Either recorded before or the file is gone: tell which.
		if _, err := s.FileByID(ctx, fileID); err != nil {
			return err
		}
	}
	return nil
}

// FileVariantKeys lists the blob keys of the file's recorded variants.
func (s *Store) FileVariantKeys(ctx context.Context, fileID string) ([]string, error) {
	return fileVariantKeys(ctx, s.r, fileID)
}

func fileVariantKeys(ctx context.Context, q queryer, fileID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT blob_key FROM file_variants WHERE file_id = $1 ORDER BY blob_key`, fileID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
