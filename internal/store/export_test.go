package store

import (
	"context"
	"database/sql"
)

// ExecForTest runs raw SQL on the writer, for tests that set up odd states.
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}

// QueryRowForTest reads raw SQL from the writer, for tests that check rows.
func (s *Store) QueryRowForTest(ctx context.Context, query string, args ...any) *sql.Row {
	return s.w.QueryRowContext(ctx, query, args...)
}
