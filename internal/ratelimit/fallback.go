package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FallbackPause is how long a Fallback answers from its local buckets
// after the shared limiter failed, before it asks the shared one again: a
// Redis that does not answer costs one request a timeout per pause, not
// every request.
const FallbackPause = 5 * time.Second

// Fallback is the shared limiter (Redis) with in-process buckets for when
// it fails: while Redis is down every replica limits on its own, so that
// sign-in guessing stays bounded (by the rule times the number of
// replicas) and nothing that is rate limited stops working
// (docs/decisions.md, "Background work and failing dependencies").
type Fallback struct {
	shared, local Limiter
	now           func() time.Time
	log           *slog.Logger

	mu        sync.Mutex
	downUntil time.Time // zero: the shared limiter answers
}

// NewFallback answers from shared and, while shared fails, from local.
// Close closes both.
func NewFallback(shared, local Limiter, now func() time.Time, log *slog.Logger) *Fallback {
	if now == nil {
		now = time.Now
	}
	return &Fallback{shared: shared, local: local, now: now, log: log}
}

// Allow takes a token from the shared bucket, or from the local one while
// the shared limiter fails.
func (f *Fallback) Allow(ctx context.Context, name, key string, rule Rule) (Result, error) {
	return f.answer(ctx, name, rule, func(l Limiter) (Result, error) { return l.Allow(ctx, name, key, rule) })
}

// Peek tells what Allow would answer now, taking nothing.
func (f *Fallback) Peek(ctx context.Context, name, key string, rule Rule) (Result, error) {
	return f.answer(ctx, name, rule, func(l Limiter) (Result, error) { return l.Peek(ctx, name, key, rule) })
}

func (f *Fallback) answer(ctx context.Context, name string, rule Rule, call func(Limiter) (Result, error)) (Result, error) {
	// A bad name or rule is the caller's fault, not the shared limiter's.
	if err := validName(name); err != nil {
		return Result{}, err
	}
	if err := rule.Validate(); err != nil {
		return Result{}, err
	}
	if f.down() {
		return call(f.local)
	}
	res, err := call(f.shared)
	if err == nil {
		f.up()
		return res, nil
	}
	if ctx.Err() != nil { // the caller gave up: says nothing about Redis
		return Result{}, err
	}
	f.fail(err)
	return call(f.local)
}

// down tells whether the local buckets answer now.
func (f *Fallback) down() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.downUntil.IsZero() && f.now().Before(f.downUntil)
}

// fail starts (or extends) a pause of the shared limiter.
func (f *Fallback) fail(err error) {
	f.mu.Lock()
	first := f.downUntil.IsZero()
	f.downUntil = f.now().Add(FallbackPause)
	f.mu.Unlock()
	if first && f.log != nil {
		f.log.Warn("rate limits: the shared limiter (Redis) failed; limiting in this process until it answers", "err", err)
	}
}

// up ends a pause after the shared limiter answered again.
func (f *Fallback) up() {
	f.mu.Lock()
	was := !f.downUntil.IsZero()
	f.downUntil = time.Time{}
	f.mu.Unlock()
	if was && f.log != nil {
		f.log.Info("rate limits: the shared limiter (Redis) answers again")
	}
}

// Close closes both limiters.
func (f *Fallback) Close() error {
	return errors.Join(f.shared.Close(), f.local.Close())
}
