package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minSweepInterval is the fewest Allow calls between two sweeps of full buckets.
const minSweepInterval = 1024

// Memory keeps token buckets in this process. It is safe for concurrent use.
type Memory struct {
	now func() time.Time

	mu         sync.Mutex
	buckets    map[bucketID]*bucket
	sinceSweep int
}

type bucketID struct{ name, key string }

type bucket struct {
	limiter *rate.Limiter
	rule    Rule
}

// NewMemory returns an in-process limiter that reads time from now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, buckets: make(map[bucketID]*bucket)}
}

// Allow takes one token from the bucket (name, key).
func (m *Memory) Allow(_ context.Context, name, key string, rule Rule) (Result, error) {
	return m.take(name, key, rule, true)
}

// Peek tells what Allow would answer now, taking nothing.
func (m *Memory) Peek(_ context.Context, name, key string, rule Rule) (Result, error) {
	return m.take(name, key, rule, false)
}

// take answers for the bucket (name, key) and, when spend is set and a
// token is there, takes it. Peeking creates no bucket: a missing bucket
// is a full one.
func (m *Memory) take(name, key string, rule Rule, spend bool) (Result, error) {
	if err := validName(name); err != nil {
		return Result{}, err
	}
	if err := rule.Validate(); err != nil {
		return Result{}, err
	}
	perSecond := rate.Limit(float64(rule.Requests) / rule.Per.Seconds())
	burst := rule.burst()

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweepIfDue(now)

	id := bucketID{name, bucketKey(name, key)}
	b := m.buckets[id]
	switch {
	case b == nil && !spend:
		return Result{Allowed: true, Remaining: burst}, nil
	case b == nil:
		b = &bucket{limiter: rate.NewLimiter(perSecond, burst), rule: rule}
		m.buckets[id] = b
	case b.rule != rule:
		// The operator changed the rule: keep the tokens, change rate and size.
		b.limiter.SetLimitAt(now, perSecond)
		b.limiter.SetBurstAt(now, burst)
		b.rule = rule
	}

	tokens := b.limiter.TokensAt(now)
	if tokens >= 1 {
		if !spend {
			return Result{Allowed: true, Remaining: wholeTokens(tokens)}, nil
		}
		if b.limiter.AllowN(now, 1) {
			return Result{Allowed: true, Remaining: wholeTokens(b.limiter.TokensAt(now))}, nil
		}
	}
	missing := 1 - b.limiter.TokensAt(now)
	// Round up so that waiting RetryAfter always yields a token.
	retryAfter := time.Duration(math.Ceil(missing / float64(perSecond) * float64(time.Second)))
	return Result{Allowed: false, Remaining: 0, RetryAfter: max(retryAfter, time.Nanosecond)}, nil
}

// sweepIfDue drops full buckets: a full bucket is what a new one would be, so
// dropping it changes no outcome, and memory stays proportional to the keys
// that are actually being limited. Sweeping at most once per len(buckets)
// calls keeps the cost amortised O(1) per call.
func (m *Memory) sweepIfDue(now time.Time) {
	m.sinceSweep++
	if m.sinceSweep < max(minSweepInterval, len(m.buckets)) {
		return
	}
	m.sinceSweep = 0
	for id, b := range m.buckets {
		if b.limiter.TokensAt(now) >= float64(b.limiter.Burst()) {
			delete(m.buckets, id)
		}
	}
}

// Close releases nothing: Memory has no background work.
func (m *Memory) Close() error { return nil }

func wholeTokens(tokens float64) int {
	if tokens <= 0 {
		return 0
	}
	return int(math.Floor(tokens))
}
