package worker

import (
	"testing"
	"time"

	"aimg/internal/aimg"
)

// Without a configured interval a Job is heartbeaten three times per
// lease the server granted it (the `aimg worker` case); a configured
// interval (the embedded worker's generation.heartbeatInterval) wins.
func TestHeartbeatIntervalFollowsTheGrantedLease(t *testing.T) {
	cases := []struct {
		configured, lease, want time.Duration
	}{
		{0, 30 * time.Second, 10 * time.Second},
		{0, 10 * time.Second, 10 * time.Second / 3},
		{0, 0, DefaultHeartbeatInterval}, // a server that does not tell the lease
		{2 * time.Second, 30 * time.Second, 2 * time.Second},
	}
	for _, c := range cases {
		p := &Pool{cfg: Config{HeartbeatInterval: c.configured}}
		if got := p.heartbeatInterval(&aimg.Job{LeaseDuration: c.lease}); got != c.want {
			t.Errorf("configured %s, lease %s: every %s, want %s", c.configured, c.lease, got, c.want)
		}
	}
}
