package store

import (
	"context"
	"errors"
	"time"
)

// runSlack is the part of a sweep's interval by which a replica's run may
// come early and still count: replicas' tickers and clocks drift by
// milliseconds, and without slack a run due at exactly one interval after
// the last would be refused and the sweep would skip a whole interval.
const runSlack = 10 // percent

// ClaimRun tells whether the caller makes this interval's run of the
// periodic sweep name: true when no replica ran it in the last interval
// (less runSlack percent), and the run is then recorded at now, so that
// the other replicas asking in the same interval get false. One statement
// on both databases: concurrent claims on PostgreSQL serialise on the
// row, and exactly one of them moves last_run_at.
func (s *Store) ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	if name == "" || every <= 0 {
		return false, errors.New("store: ClaimRun needs a name and a positive interval")
	}
	due := now.Add(-every * (100 - runSlack) / 100)
	res, err := s.w.ExecContext(ctx, `INSERT INTO background_runs (name, last_run_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at
		WHERE background_runs.last_run_at <= $3`, name, ms(now), ms(due))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
