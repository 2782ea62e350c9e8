package aimg

import (
	"context"
	"time"
)

// Every calls fn every d until ctx ends: the loop of the background sweeps
// (expired sessions and OTPs, view records, subscriptions).
func Every(ctx context.Context, d time.Duration, fn func(ctx context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// Turn tells whether this replica makes this interval's run of the
// periodic sweep name (every replica runs the same loops, one of them
// does each run); the app's Turn asks the database (store.ClaimRun).
type Turn func(ctx context.Context, name string, every time.Duration) bool

// EveryTurn is Every for a sweep that one replica of a cluster makes per
// interval: each tick runs fn only when turn says it is this replica's
// turn. A nil turn is always this replica's (one process, or tests).
func EveryTurn(ctx context.Context, turn Turn, name string, d time.Duration, fn func(ctx context.Context)) {
	Every(ctx, d, func(ctx context.Context) {
		if turn == nil || turn(ctx, name, d) {
			fn(ctx)
		}
	})
}
