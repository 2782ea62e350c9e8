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
