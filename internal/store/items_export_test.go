package store

import "context"

// UserJobCountForTest counts the Jobs of a user, for the guest-move test.
func (s *Store) UserJobCountForTest(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}
