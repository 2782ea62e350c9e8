package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every bucket key this package writes (redis_rate puts its
// own "rate:" in front of it).
const KeyPrefix = "aimg:rl:"

// Redis keeps token buckets in Redis (GCRA, computed by a Lua script with the
// Redis server's clock), so every replica using the same Redis shares them.
type Redis struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
}

// NewRedis returns a limiter on client. Close closes client.
func NewRedis(client *redis.Client) *Redis {
	return &Redis{client: client, limiter: redis_rate.NewLimiter(client)}
}

// Allow takes one token from the bucket (name, key).
func (r *Redis) Allow(ctx context.Context, name, key string, rule Rule) (Result, error) {
	if err := validName(name); err != nil {
		return Result{}, err
	}
	if err := rule.Validate(); err != nil {
		return Result{}, err
	}
	limit := redis_rate.Limit{Rate: rule.Requests, Period: rule.Per, Burst: rule.burst()}
	res, err := r.limiter.Allow(ctx, redisKey(name, bucketKey(name, key)), limit)
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: redis: %w", name, err)
	}
	if res.Allowed > 0 {
		return Result{Allowed: true, Remaining: res.Remaining}, nil
	}
	return Result{Allowed: false, Remaining: res.Remaining, RetryAfter: res.RetryAfter}, nil
}

// redisKey hashes the key: keys are client input (emails, addresses) that
// should neither be readable in Redis nor make keys long, and a hex hash
// holds no ':' so the name before the last ':' is unambiguous.
func redisKey(name, key string) string {
	sum := sha256.Sum256([]byte(key))
	return KeyPrefix + name + ":" + hex.EncodeToString(sum[:16])
}

// Close closes the Redis client.
func (r *Redis) Close() error { return r.client.Close() }
