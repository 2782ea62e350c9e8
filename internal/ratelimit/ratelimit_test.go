package ratelimit

import (
	"aimg/internal/testsupport/testclock"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// harness is one Limiter under test plus a way to let time pass for it.
type harness struct {
	limiter Limiter
	// wait lets d pass: a fake clock advance for Memory, a real sleep for Redis.
	wait func(d time.Duration)
	// name makes a bucket name unique to this test run (Redis is shared).
	name func(base string) string
}

// runSuite is the behaviour every Limiter must have.
func runSuite(t *testing.T, newHarness func(t *testing.T) harness) {
	ctx := context.Background()

	t.Run("burst then denied", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("burst")
		rule := Rule{Requests: 2, Per: time.Minute}
		for i, wantRemaining := range []int{1, 0} {
			res := mustAllow(t, h.limiter, name, "a@b.c", rule)
			if !res.Allowed || res.Remaining != wantRemaining || res.RetryAfter != 0 {
				t.Fatalf("call %d: got %+v, want allowed with %d remaining", i+1, res, wantRemaining)
			}
		}
		res := mustAllow(t, h.limiter, name, "a@b.c", rule)
		if res.Allowed {
			t.Fatalf("call 3: allowed after the burst of 2: %+v", res)
		}
		if res.RetryAfter <= 0 || res.RetryAfter > 30*time.Second {
			t.Fatalf("call 3: RetryAfter = %s, want in (0, 30s] (one token per 30s)", res.RetryAfter)
		}
	})

	t.Run("explicit burst", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("explicitburst")
		rule := Rule{Requests: 1, Per: time.Hour, Burst: 3}
		for i := range 3 {
			if res := mustAllow(t, h.limiter, name, "k", rule); !res.Allowed {
				t.Fatalf("call %d denied within burst 3: %+v", i+1, res)
			}
		}
		if res := mustAllow(t, h.limiter, name, "k", rule); res.Allowed {
			t.Fatalf("call 4 allowed beyond burst 3: %+v", res)
		}
	})

	t.Run("refills after RetryAfter", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("refill")
		rule := Rule{Requests: 2, Per: time.Second, Burst: 2}
		denied := exhaust(t, h.limiter, name, "k", rule)
		// Eventually allowed: real clocks may need a second short wait.
		for attempt := 1; ; attempt++ {
			h.wait(denied.RetryAfter)
			res := mustAllow(t, h.limiter, name, "k", rule)
			if res.Allowed {
				break
			}
			if attempt == 5 {
				t.Fatalf("still denied after waiting RetryAfter %d times: %+v", attempt, res)
			}
			denied = res
		}
	})

	t.Run("keys and names are independent", func(t *testing.T) {
		h := newHarness(t)
		name, other := h.name("indep"), h.name("indep2")
		rule := Rule{Requests: 1, Per: time.Hour}
		exhaust(t, h.limiter, name, "a", rule)
		if res := mustAllow(t, h.limiter, name, "b", rule); !res.Allowed {
			t.Fatalf("key b denied after key a was exhausted: %+v", res)
		}
		if res := mustAllow(t, h.limiter, other, "a", rule); !res.Allowed {
			t.Fatalf("name %s denied after %s was exhausted: %+v", other, name, res)
		}
		// Names with ':' must not run into keys with ':'.
		if res := mustAllow(t, h.limiter, name+":x", "a", rule); !res.Allowed {
			t.Fatalf("name %s:x shares a bucket with %s: %+v", name, name, res)
		}
		if res := mustAllow(t, h.limiter, name, "x:a", rule); !res.Allowed {
			t.Fatalf("key x:a denied: %+v", res)
		}
	})

	t.Run("concurrent callers share one bucket", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("concurrent")
		rule := Rule{Requests: 10, Per: time.Hour}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 5 {
					res, err := h.limiter.Allow(ctx, name, "k", rule)
					if err != nil {
						t.Error(err)
						return
					}
					if res.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != 10 {
			t.Fatalf("%d of 40 concurrent calls allowed, want exactly the burst of 10", got)
		}
	})

	t.Run("peek takes nothing and sees what Allow took", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("peek")
		rule := Rule{Requests: 2, Per: time.Minute}
		for range 3 {
			if res := mustPeek(t, h.limiter, name, "k", rule); !res.Allowed || res.Remaining != 2 {
				t.Fatalf("peek at a fresh bucket: %+v, want allowed with 2 remaining", res)
			}
		}
		mustAllow(t, h.limiter, name, "k", rule)
		if res := mustPeek(t, h.limiter, name, "k", rule); !res.Allowed || res.Remaining != 1 {
			t.Fatalf("peek after one Allow: %+v, want allowed with 1 remaining", res)
		}
		if res := mustAllow(t, h.limiter, name, "k", rule); !res.Allowed {
			t.Fatalf("second Allow denied: the peeks took tokens: %+v", res)
		}
		for range 2 {
			res := mustPeek(t, h.limiter, name, "k", rule)
			if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > 30*time.Second {
				t.Fatalf("peek at an empty bucket: %+v, want denied with RetryAfter in (0, 30s]", res)
			}
		}
		if res := mustPeek(t, h.limiter, name, "other", rule); !res.Allowed {
			t.Fatalf("peek at another key: %+v", res)
		}
	})

	t.Run("peek refills like Allow", func(t *testing.T) {
		h := newHarness(t)
		name := h.name("peekrefill")
		rule := Rule{Requests: 2, Per: time.Second, Burst: 2}
		denied := exhaust(t, h.limiter, name, "k", rule)
		for attempt := 1; ; attempt++ {
			h.wait(denied.RetryAfter)
			res := mustPeek(t, h.limiter, name, "k", rule)
			if res.Allowed {
				break
			}
			if attempt == 5 {
				t.Fatalf("peek still denied after waiting RetryAfter %d times: %+v", attempt, res)
			}
			denied = res
		}
	})

	t.Run("invalid input is an error", func(t *testing.T) {
		h := newHarness(t)
		for _, tc := range []struct {
			name string
			rule Rule
			want string
		}{
			{h.name("bad"), Rule{Requests: 0, Per: time.Second}, "requests"},
			{h.name("bad"), Rule{Requests: 1}, "per"},
			{h.name("bad"), Rule{Requests: 1, Per: time.Second, Burst: -1}, "burst"},
			{"", Rule{Requests: 1, Per: time.Second}, "name"},
		} {
			_, err := h.limiter.Allow(ctx, tc.name, "k", tc.rule)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Allow(%q, %+v) error = %v, want one naming %q", tc.name, tc.rule, err, tc.want)
			}
			_, err = h.limiter.Peek(ctx, tc.name, "k", tc.rule)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Peek(%q, %+v) error = %v, want one naming %q", tc.name, tc.rule, err, tc.want)
			}
		}
	})
}

func mustAllow(t *testing.T, l Limiter, name, key string, rule Rule) Result {
	t.Helper()
	res, err := l.Allow(context.Background(), name, key, rule)
	if err != nil {
		t.Fatalf("Allow(%q, %q): %v", name, key, err)
	}
	return res
}

func mustPeek(t *testing.T, l Limiter, name, key string, rule Rule) Result {
	t.Helper()
	res, err := l.Peek(context.Background(), name, key, rule)
	if err != nil {
		t.Fatalf("Peek(%q, %q): %v", name, key, err)
	}
	return res
}

// exhaust takes tokens until denied and returns the denial.
func exhaust(t *testing.T, l Limiter, name, key string, rule Rule) Result {
	t.Helper()
	for range rule.burst() + 10 {
		if res := mustAllow(t, l, name, key, rule); !res.Allowed {
			if res.RetryAfter <= 0 {
				t.Fatalf("denied with RetryAfter %s, want > 0", res.RetryAfter)
			}
			return res
		}
	}
	t.Fatalf("bucket %s/%s never denied (burst %d)", name, key, rule.burst())
	return Result{}
}

func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
}

func TestMemory(t *testing.T) {
	runSuite(t, func(t *testing.T) harness {
		clock := newFakeClock()
		m := NewMemory(clock.Now)
		t.Cleanup(func() { m.Close() })
		return harness{limiter: m, wait: clock.Advance, name: func(base string) string { return base }}
	})
}

func TestMemoryRefillIsExact(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	rule := Rule{Requests: 2, Per: time.Second, Burst: 2}
	denied := exhaust(t, m, "n", "k", rule)
	if denied.RetryAfter != 500*time.Millisecond {
		t.Fatalf("RetryAfter = %s, want 500ms (2 per second, bucket just emptied)", denied.RetryAfter)
	}
	clock.Advance(denied.RetryAfter - time.Millisecond)
	if res := mustAllow(t, m, "n", "k", rule); res.Allowed {
		t.Fatalf("allowed 1ms before RetryAfter: %+v", res)
	}
	clock.Advance(time.Millisecond)
	if res := mustAllow(t, m, "n", "k", rule); !res.Allowed {
		t.Fatalf("denied at RetryAfter: %+v", res)
	}
}

func TestMemoryRuleChangeKeepsTokens(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	exhaust(t, m, "n", "k", Rule{Requests: 1, Per: time.Hour})
	// A larger rule takes effect but does not hand out a fresh burst at once.
	bigger := Rule{Requests: 10, Per: time.Hour}
	if res := mustAllow(t, m, "n", "k", bigger); res.Allowed {
		t.Fatalf("allowed right after the rule grew, bucket was empty: %+v", res)
	}
	clock.Advance(6 * time.Minute) // one token at 10 per hour
	if res := mustAllow(t, m, "n", "k", bigger); !res.Allowed {
		t.Fatalf("denied after 6 minutes at 10 per hour: %+v", res)
	}
}

func TestMemoryEvictsIdleBuckets(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	rule := Rule{Requests: 5, Per: time.Minute}
	for i := range 20000 {
		mustAllow(t, m, "n", fmt.Sprint("key", i), rule)
	}
	if n := bucketCount(m); n < 10000 {
		t.Fatalf("%d buckets after 20000 fresh keys within one instant, want the recent ones kept", n)
	}
	// A minute later every bucket is full again, so holding them is pointless.
	clock.Advance(time.Minute)
	for i := range 2 * max(minSweepInterval, bucketCount(m)) {
		mustAllow(t, m, "other", fmt.Sprint(i%3), rule)
	}
	if n := bucketCount(m); n > 3 {
		t.Fatalf("%d buckets after the idle ones refilled, want at most the 3 in use", n)
	}
	// Eviction must not forget a bucket that is still partly empty.
	exhaust(t, m, "busy", "k", rule)
	for i := range 2 * minSweepInterval {
		mustAllow(t, m, "other", fmt.Sprint(i%3), rule)
	}
	if res := mustAllow(t, m, "busy", "k", rule); res.Allowed {
		t.Fatalf("exhausted bucket allowed after a sweep at the same instant: %+v", res)
	}
}

func bucketCount(m *Memory) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want string // "" = valid
	}{
		{Rule{Requests: 1, Per: time.Second}, ""},
		{Rule{Requests: 5, Per: time.Hour, Burst: 10}, ""},
		{Rule{Requests: 0, Per: time.Second}, "requests"},
		{Rule{Requests: -1, Per: time.Second}, "requests"},
		{Rule{Requests: 1, Per: 0}, "per"},
		{Rule{Requests: 1, Per: -time.Second}, "per"},
		{Rule{Requests: 1, Per: time.Second, Burst: -2}, "burst"},
	} {
		err := tc.rule.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.rule, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error = %v, want one naming %q", tc.rule, err, tc.want)
		}
	}
}

func TestOpenWithoutRedisIsMemory(t *testing.T) {
	l, err := Open(context.Background(), "", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, ok := l.(*Memory); !ok {
		t.Fatalf("Open(\"\") = %T, want *Memory", l)
	}
}

func TestOpenRejectsBadRedisURL(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "http://127.0.0.1:6379", time.Now); err == nil || !strings.Contains(err.Error(), "invalid Redis URL") {
		t.Errorf("Open(http://...) error = %v, want invalid Redis URL", err)
	}
	// Nothing listens on port 1: a refused connection must fail Open, not hang it.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "redis://:secret@127.0.0.1:1/0", time.Now)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Open(unreachable) error = %v, want unreachable", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

// redisURL returns the test Redis, or skips: CI sets AIMG_TEST_REDIS_URL and requires it.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("AIMG_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("AIMG_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("AIMG_TEST_REDIS_URL is required when AIMG_TEST_REQUIRE_SERVICES is set")
		}
		t.Skip("AIMG_TEST_REDIS_URL is not set; skipping Redis tests (e.g. AIMG_TEST_REDIS_URL=redis://127.0.0.1:6379/15)")
	}
	return u
}

func openRedis(t *testing.T) *Redis {
	t.Helper()
	l, err := Open(context.Background(), redisURL(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r, ok := l.(*Redis)
	if !ok {
		t.Fatalf("Open(redis URL) = %T, want *Redis", l)
	}
	return r
}

// runID keeps bucket names of concurrent or repeated test runs apart in the shared Redis.
var runID = fmt.Sprintf("test%d", time.Now().UnixNano())

func TestRedis(t *testing.T) {
	redisURL(t)
	runSuite(t, func(t *testing.T) harness {
		return harness{
			limiter: openRedis(t),
			wait:    time.Sleep,
			name:    func(base string) string { return runID + "-" + base },
		}
	})
}

func TestRedisReplicasShareBuckets(t *testing.T) {
	a, b := openRedis(t), openRedis(t) // two clients, as two replicas would have
	name := runID + "-shared"
	rule := Rule{Requests: 2, Per: time.Minute}
	for i, l := range []*Redis{a, b} {
		if res := mustAllow(t, l, name, "a@b.c", rule); !res.Allowed {
			t.Fatalf("replica %d denied within the shared burst: %+v", i, res)
		}
	}
	for i, l := range []*Redis{a, b} {
		if res := mustAllow(t, l, name, "a@b.c", rule); res.Allowed {
			t.Fatalf("replica %d allowed after the shared burst of 2 was used: %+v", i, res)
		}
	}
}

func TestRedisKeyLayout(t *testing.T) {
	r := openRedis(t)
	name := runID + "-layout"
	mustAllow(t, r, name, "a@b.c", Rule{Requests: 1, Per: time.Minute})
	keys, err := r.client.Keys(context.Background(), "*"+KeyPrefix+name+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || strings.Contains(keys[0], "a@b.c") {
		t.Fatalf("keys = %q, want one key under %s%s: with the client key hashed", keys, KeyPrefix, name)
	}
	ttl, err := r.client.TTL(context.Background(), keys[0]).Result()
	if err != nil || ttl <= 0 {
		t.Fatalf("TTL(%s) = %s, %v; want an expiry so idle buckets leave Redis", keys[0], ttl, err)
	}
}

func TestRedisErrorsAreReturned(t *testing.T) {
	r := openRedis(t)
	r.Close()
	_, err := r.Allow(context.Background(), runID+"-closed", "k", Rule{Requests: 1, Per: time.Second})
	if !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Allow on a closed client: error = %v, want redis.ErrClosed", err)
	}
	_, err = r.Peek(context.Background(), runID+"-closed", "k", Rule{Requests: 1, Per: time.Second})
	if !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Peek on a closed client: error = %v, want redis.ErrClosed", err)
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(time.Now)
	rule := Rule{Requests: 1000, Per: time.Second}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("client", i)
	}
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1) * 7919)
		for pb.Next() {
			i++
			if _, err := m.Allow(context.Background(), "bench", keys[i%len(keys)], rule); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
