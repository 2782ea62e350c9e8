package aimg_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/aimg"
)

// Every calls fn on each tick and returns once ctx ends.
func TestEveryStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		aimg.Every(ctx, time.Millisecond, func(context.Context) {
			if calls++; calls == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if calls < 3 {
		t.Fatalf("%d calls", calls)
	}
}
