package store

import (
	"context"
	"log/slog"
	"strings"
)

// "These Jobs' Items changed" (status or progress), between replicas, for
// the getItemEvents streams: PostgreSQL NOTIFY on a second channel whose
// payload is the Job ids, comma-separated; LISTEN on a connection of its
// own. The Job, not the Item, is what every change knows (a heartbeat
// names its lease's Job) and a Job's Items change together; each stream
// knows the Jobs of its Items. SQLite is one process: nothing to do.

const itemEventsChannel = "aimg_item_event"

// maxNotifyPayload stays under PostgreSQL's 8,000-byte NOTIFY payload.
const maxNotifyPayload = 7900

// NotifyItemEvents tells every replica that listens that the Items of
// jobIDs changed; no ids means "any Item may have changed" (a sweep that
// moved Jobs it does not name). Long lists go out as several NOTIFYs.
func (s *Store) NotifyItemEvents(ctx context.Context, jobIDs []string) error {
	if s.dialect != Postgres {
		return nil
	}
	for _, payload := range notifyPayloads(jobIDs) {
		if _, err := s.w.ExecContext(ctx, `SELECT pg_notify($1, $2)`, itemEventsChannel, payload); err != nil {
			return err
		}
	}
	return nil
}

// notifyPayloads packs ids into comma-separated payloads that fit one
// NOTIFY each; no ids is one empty payload.
func notifyPayloads(ids []string) []string {
	if len(ids) == 0 {
		return []string{""}
	}
	var out []string
	var b strings.Builder
	for _, id := range ids {
		if id == "" || len(id) > 200 || strings.Contains(id, ",") {
			continue // never an id of ours
		}
		if b.Len() > 0 && b.Len()+1+len(id) > maxNotifyPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// ListenItemEvents calls fn with the Job ids of every NotifyItemEvents of
// any replica until ctx ends, and with none ("anything may have changed")
// once after each (re)connection, since notifications sent while it was
// not listening are lost. On SQLite it returns at once.
func (s *Store) ListenItemEvents(ctx context.Context, log *slog.Logger, fn func(jobIDs []string)) {
	if s.dialect != Postgres {
		return
	}
	s.listen(ctx, log, itemEventsChannel, func(payload string) {
		if payload == "" {
			fn(nil)
			return
		}
		fn(strings.Split(payload, ","))
	})
}
