package store

import "context"

// ExecForTest runs raw SQL on the writer, for tests that set up odd states.
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}
