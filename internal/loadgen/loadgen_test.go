package loadgen_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"aimg/internal/loadgen"
	"aimg/internal/testsupport"
)

// A short run against one test server: Items complete, every measure has
// samples, and nothing is left queued or leased.
func TestRunAgainstOneServer(t *testing.T) {
	srv := testsupport.NewServer(t, "sqlite:"+t.TempDir()+"/aimg.db", testsupport.WithoutRateLimits)
	env := srv.AdminPost(t, "/api/createWorkerKey", map[string]any{"name": "load"})
	var k struct{ Key string }
	env.Decode(t, &k)

	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Servers: []string{srv.URL}, WorkerKey: k.Key, Workers: 2, Clients: 3, Duration: 1500 * time.Millisecond,
		Poll: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Errors, res.FirstErrors)
	}
	if res.Items == 0 || res.Completed < res.Items {
		t.Fatalf("items %d seen completed, %d completed by workers", res.Items, res.Completed)
	}
	if res.Enqueue.Count == 0 || res.ClaimToComplete.Count == 0 || res.Status.Count == 0 {
		t.Fatalf("a measure has no samples: %+v", res)
	}
	if res.Enqueue.P50 > res.Enqueue.P99 {
		t.Fatalf("p50 %v above p99 %v", res.Enqueue.P50, res.Enqueue.P99)
	}
	counts, err := srv.App.Store.JobsByStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts["running"] != 0 {
		t.Fatalf("jobs left running after the run: %v", counts)
	}
	var out bytes.Buffer
	if err := res.Write(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Items/s") {
		t.Fatalf("report without Items/s:\n%s", out.String())
	}
}

func TestConfigRefusesWhatCannotRun(t *testing.T) {
	for name, cfg := range map[string]loadgen.Config{
		"no server":      {Clients: 1, Duration: time.Second},
		"bad url":        {Servers: []string{"localhost:1"}, Clients: 1, Duration: time.Second},
		"workers no key": {Servers: []string{"http://x"}, Workers: 1, Clients: 1, Duration: time.Second},
		"no clients":     {Servers: []string{"http://x"}, Duration: time.Second},
		"no duration":    {Servers: []string{"http://x"}, Clients: 1},
	} {
		if _, err := loadgen.Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
