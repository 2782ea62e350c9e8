package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// "A Job was queued", between replicas: PostgreSQL NOTIFY on one channel,
// LISTEN on a connection of its own. SQLite is one process: nothing to do.

const jobsQueuedChannel = "aimg_job_queued"

// NotifyJobQueued tells every replica that listens that a Job was queued.
func (s *Store) NotifyJobQueued(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `SELECT pg_notify($1, '')`, jobsQueuedChannel)
	return err
}

// ListenJobQueued calls fn for every NotifyJobQueued of any replica until
// ctx ends, and once after each (re)connection (Jobs may have been queued
// while it was not listening). It reconnects with backoff when the
// connection drops. On SQLite it returns at once.
func (s *Store) ListenJobQueued(ctx context.Context, log *slog.Logger, fn func()) {
	if s.dialect != Postgres {
		return
	}
	s.listen(ctx, log, jobsQueuedChannel, func(string) { fn() })
}

// listen calls fn with the payload of every notification on channel until
// ctx ends, and with "" once after each (re)connection (what was sent
// while it was not listening is lost). It reconnects with backoff.
func (s *Store) listen(ctx context.Context, log *slog.Logger, channel string, fn func(payload string)) {
	for failures := 0; ctx.Err() == nil; failures++ {
		err := s.listenOnce(ctx, channel, fn, func() { failures = 0 })
		if ctx.Err() != nil {
			return
		}
		log.Warn("listening for notifications failed; retrying", "channel", channel, "err", err)
		t := time.NewTimer(min(100*time.Millisecond<<min(failures, 8), 10*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, channel string, fn func(payload string), connected func()) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `LISTEN `+channel); err != nil {
		return err
	}
	connected()
	fn("")
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: not a pgx connection (%T)", dc)
		}
		for {
			n, err := c.Conn().WaitForNotification(ctx)
			if err != nil {
				// The connection is left in LISTEN (or broken): never reuse it.
				return fmt.Errorf("%w: %v", driver.ErrBadConn, err)
			}
			fn(n.Payload)
		}
	})
}
