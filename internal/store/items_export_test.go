package store

import (
	"context"
	"database/sql"
)

// UserJobCountForTest counts the Jobs of a user, for the guest-move test.
func (s *Store) UserJobCountForTest(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}

// MoveGuestItemsForTest moves the guest's Items and Jobs in a transaction of
// their own (in production MoveGuestData does it with the rest of the merge).
func (s *Store) MoveGuestItemsForTest(ctx context.Context, guestUserID, userID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return moveGuestItems(ctx, tx, s.dialect, guestUserID, userID)
	})
}
