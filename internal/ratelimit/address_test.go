package ratelimit

import (
	"context"
	"testing"
	"time"
)

// A limit per client address (a bucket name ending in ":ip") counts an IPv6
// client by its /64, the block one host or one customer line gets: keyed by
// the whole address, every client with IPv6 had 2^64 buckets of every
// per-address limit (new sessions, ingestLogs, resizing, sign-in) and
// passed them all by changing its source address. IPv4 addresses, and the
// keys of other limits, are kept as they are.
func TestAddressLimitsCountIPv6ByItsSlash64(t *testing.T) {
	check := func(t *testing.T, l Limiter, prefix string) {
		ctx := context.Background()
		rule := Rule{Requests: 1, Per: time.Hour, Burst: 1}
		allow := func(name, key string, want bool) {
			t.Helper()
			res, err := l.Allow(ctx, prefix+name, key, rule)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allowed != want {
				t.Fatalf("Allow(%q, %q) = %v, want %v", name, key, res.Allowed, want)
			}
		}
		allow("probe:ip", "2001:db8:1:2::1", true)
		allow("probe:ip", "2001:db8:1:2::2", false)                  // same /64
		allow("probe:ip", "2001:db8:1:2:ffff:ffff:ffff:ffff", false) // same /64
		allow("probe:ip", "2001:db8:1:3::1", true)                   // the next /64
		allow("probe:ip", "192.0.2.1", true)
		allow("probe:ip", "192.0.2.2", true) // IPv4: per address
		allow("probe:ip", "::ffff:192.0.2.3", true)
		allow("probe:ip", "192.0.2.3", false) // the same IPv4 address, written as IPv6
		allow("probe:email", "2001:db8:1:4::1", true)
		allow("probe:email", "2001:db8:1:4::2", true) // not an address limit: the key as given
	}
	t.Run("memory", func(t *testing.T) { check(t, NewMemory(time.Now), "") })
	t.Run("redis", func(t *testing.T) { check(t, openRedis(t), runID+"-") })
}
