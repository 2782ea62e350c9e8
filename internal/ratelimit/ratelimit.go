// Package ratelimit provides token-bucket rate limits: in-process by default,
// shared through Redis when several replicas must see the same buckets.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rule allows at most Requests per Per, with bursts of Burst (Burst 0 means
// Requests). A bucket holds Burst tokens and refills at Requests/Per.
type Rule struct {
	Requests int           `json:"requests" yaml:"requests"`
	Per      time.Duration `json:"per" yaml:"per"`
	Burst    int           `json:"burst" yaml:"burst"`
}

// Validate reports the first bad field of r.
func (r Rule) Validate() error {
	if r.Requests <= 0 {
		return fmt.Errorf("rate limit rule: requests must be greater than 0, got %d", r.Requests)
	}
	if r.Per <= 0 {
		return fmt.Errorf("rate limit rule: per must be greater than 0, got %s", r.Per)
	}
	if r.Burst < 0 {
		return fmt.Errorf("rate limit rule: burst must be 0 (same as requests) or greater, got %d", r.Burst)
	}
	return nil
}

// burst is the bucket size with the Burst 0 default applied.
func (r Rule) burst() int {
	if r.Burst == 0 {
		return r.Requests
	}
	return r.Burst
}

// Result is the outcome of one Allow call.
type Result struct {
	Allowed bool
	// Remaining is the number of whole tokens left in the bucket.
	Remaining int
	// RetryAfter is how long until the next token is available; 0 when Allowed.
	RetryAfter time.Duration
}

// Limiter takes tokens from named buckets.
type Limiter interface {
	// Allow takes one token from the bucket (name, key), e.g.
	// ("requestOTP:email", "a@b.c"). An invalid rule is an error.
	Allow(ctx context.Context, name, key string, rule Rule) (Result, error)
	// Peek tells what Allow would answer now without taking a token. A
	// limit that counts only failures (wrong passwords) peeks before the
	// attempt and takes a token with Allow only when the attempt fails, so
	// correct attempts never use the bucket up.
	Peek(ctx context.Context, name, key string, rule Rule) (Result, error)
	Close() error
}

// Open returns an in-process limiter when redisURL is empty, and otherwise a
// Redis limiter for redisURL (redis://, rediss:// or unix://), checked with a
// PING so that a wrong URL fails at start rather than on the first request.
func Open(ctx context.Context, redisURL string, now func() time.Time) (Limiter, error) {
	if redisURL == "" {
		return NewMemory(now), nil
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		// The parse error never contains the password, but the URL may: leave it out.
		return nil, fmt.Errorf("rate limits: invalid Redis URL (AIMG_REDIS_URL): %w", err)
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		return nil, errors.Join(
			fmt.Errorf("rate limits: Redis at %s is unreachable (AIMG_REDIS_URL): %w", opts.Addr, err),
			client.Close())
	}
	return NewRedis(client), nil
}

// validName rejects names that would make bucket keys ambiguous or unreadable.
func validName(name string) error {
	if name == "" {
		return errors.New("rate limit: empty bucket name")
	}
	if strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("rate limit: bucket name %q contains white space", name)
	}
	return nil
}
