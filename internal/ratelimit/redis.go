package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

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

// redisRatePrefix is what redis_rate puts before every key it is given;
// Peek reads the same keys (runSuite's "peek" cases fail if it does not).
const redisRatePrefix = "rate:"

// peekScript is redis_rate's GCRA step for one token with the write left
// out: it reads the bucket's theoretical arrival time (tat) with the Redis
// server's clock, as Allow does, and answers {allowed, remaining,
// retry_after seconds}.
var peekScript = redis.NewScript(`
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local emission_interval = period / rate
local burst_offset = emission_interval * burst
local now = redis.call("TIME")
now = (now[1] - 1483228800) + (now[2] / 1000000)
local tat = redis.call("GET", KEYS[1])
if not tat then
  tat = now
else
  tat = tonumber(tat)
end
tat = math.max(tat, now)
local diff = now - (tat + emission_interval - burst_offset)
local remaining = diff / emission_interval
if remaining < 0 then
  return {0, 0, tostring(-diff)}
end
return {1, math.floor(remaining), "0"}
`)

// Peek tells what Allow would answer now, writing nothing.
func (r *Redis) Peek(ctx context.Context, name, key string, rule Rule) (Result, error) {
	if err := validName(name); err != nil {
		return Result{}, err
	}
	if err := rule.Validate(); err != nil {
		return Result{}, err
	}
	k := redisRatePrefix + redisKey(name, bucketKey(name, key))
	v, err := peekScript.Run(ctx, r.client, []string{k}, rule.burst(), rule.Requests, rule.Per.Seconds()).Slice()
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: redis: %w", name, err)
	}
	if len(v) != 3 {
		return Result{}, fmt.Errorf("rate limit %s: redis: peek answered %d values, want 3", name, len(v))
	}
	allowed, _ := v[0].(int64)
	remaining, _ := v[1].(int64)
	retry, _ := v[2].(string)
	secs, err := strconv.ParseFloat(retry, 64)
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: redis: peek retry-after %q: %w", name, retry, err)
	}
	if allowed == 1 {
		// Allow counts the token it takes; Peek says what is there before.
		return Result{Allowed: true, Remaining: int(remaining) + 1}, nil
	}
	return Result{Allowed: false, RetryAfter: max(time.Duration(secs*float64(time.Second)), time.Nanosecond)}, nil
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
