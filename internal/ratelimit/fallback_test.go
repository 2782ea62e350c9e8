package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// flaky is a shared limiter that fails while down is set and counts calls.
type flaky struct {
	mu    sync.Mutex
	down  bool
	calls int
	inner *Memory
}

func (f *flaky) Allow(ctx context.Context, name, key string, rule Rule) (Result, error) {
	f.mu.Lock()
	f.calls++
	down := f.down
	f.mu.Unlock()
	if down {
		return Result{}, errors.New("dial tcp 127.0.0.1:1: connection refused")
	}
	return f.inner.Allow(ctx, name, key, rule)
}

func (f *flaky) Peek(ctx context.Context, name, key string, rule Rule) (Result, error) {
	f.mu.Lock()
	f.calls++
	down := f.down
	f.mu.Unlock()
	if down {
		return Result{}, errors.New("dial tcp 127.0.0.1:1: connection refused")
	}
	return f.inner.Peek(ctx, name, key, rule)
}

func (f *flaky) Close() error { return nil }

func (f *flaky) set(down bool) (calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	return f.calls
}

// The suite's semantics hold on a Fallback whose shared limiter is down.
func TestFallbackWithSharedDown(t *testing.T) {
	runSuite(t, func(t *testing.T) harness {
		clock := newFakeClock()
		shared := &flaky{down: true, inner: NewMemory(clock.Now)}
		return harness{limiter: NewFallback(shared, NewMemory(clock.Now), clock.Now, nil), wait: clock.Advance, name: func(s string) string { return s }}
	})
}

// While the shared limiter fails, the local buckets limit (they are not
// "allow everything"), the shared one is asked again only after the
// pause, and once it answers its buckets count again.
func TestFallbackLimitsLocallyAndReturnsToShared(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	shared := &flaky{inner: NewMemory(clock.Now)}
	f := NewFallback(shared, NewMemory(clock.Now), clock.Now, nil)
	rule := Rule{Requests: 3, Per: time.Hour}
	allow := func() bool {
		t.Helper()
		res, err := f.Allow(ctx, "authenticateUser:email", "a@b.c", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return res.Allowed
	}
	if !allow() { // one token from the shared bucket
		t.Fatal("denied at first")
	}
	before := shared.set(true)
	for i := range 3 {
		if !allow() {
			t.Fatalf("local attempt %d denied within the burst", i)
		}
	}
	if allow() {
		t.Fatal("the local bucket allowed past its burst while the shared limiter was down")
	}
	if got := shared.set(true) - before; got != 1 {
		t.Fatalf("the shared limiter was asked %d times during the pause, want 1", got)
	}
	if _, err := f.Allow(ctx, "bad name", "k", rule); err == nil {
		t.Fatal("a bad name was accepted")
	}
	shared.set(false)
	if allow() {
		t.Fatal("the local bucket (empty) should answer until the pause ends")
	}
	clock.Advance(FallbackPause)
	// The shared bucket had one token taken; two are left.
	if !allow() || !allow() || allow() {
		t.Fatal("after the pause the shared bucket does not answer")
	}
}
