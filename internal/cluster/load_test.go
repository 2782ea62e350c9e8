package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"aimg/internal/cluster"
)

// ItemsEnv sets how many generations the load scenarios run (default
// 5,000, what CI runs).
const ItemsEnv = "AIMG_CLUSTER_ITEMS"

func itemCount(t *testing.T, def int) int {
	t.Helper()
	v := os.Getenv(ItemsEnv)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q is not a positive number", ItemsEnv, v)
	}
	return n
}

func report(t *testing.T, what string, p cluster.Problems, err error) {
	t.Helper()
	for _, s := range p {
		t.Error(what + ": " + s)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Scenario 1: 5,000 generations from 50 users through random replicas:
// every Item completed exactly once, its file in S3 with a matching
// checksum, the listings identical through every replica.
func TestClusterGenerations(t *testing.T) {
	c := cluster.Start(t, cluster.Options{})
	items := itemCount(t, 5000)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	res, err := c.Generate(ctx, cluster.LoadOptions{Users: 50, Items: items})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Logf("%d Items from %d users through %d replicas and %d workers in %s: %.0f Items/s (%d event streams)",
		len(res.Generations), len(res.Users), len(c.Replicas), len(c.Workers), res.Duration.Round(time.Millisecond),
		float64(len(res.Generations))/res.Duration.Seconds(), res.Streams)
	if len(res.Generations) != items {
		t.Fatalf("%d generations recorded, want %d", len(res.Generations), items)
	}

	start := time.Now()
	p, err := c.CheckGenerations(ctx, res.Generations, cluster.CheckOptions{MaxAttempts: 1})
	report(t, "generations", p, err)
	p, err = c.CheckListings(ctx, res.Generations)
	report(t, "listings", p, err)
	t.Logf("checks (database, S3, %d downloads, %d listings x %d replicas) took %s", items, len(res.Users), len(c.Replicas),
		time.Since(start).Round(time.Millisecond))
}

// Scenario 2: SIGKILL of one replica and one worker mid-run, then their
// restart: no Item lost or duplicated, a client that sends generateImage
// again with its Idempotency-Key gets the same Item, and the Jobs the dead
// worker held come back to the queue within one lease.
func TestClusterSurvivesKills(t *testing.T) {
	const victimDelay = time.Second
	c := cluster.Start(t, cluster.Options{Worker: func(i int, w *cluster.WorkerOptions) {
		if i == 0 {
			// Worker 0 takes its time per Job, so that it holds leases
			// when it is killed; it claims through replica 0, which lives.
			w.Delay = victimDelay
		}
	}})
	const lease, reaper = 10 * time.Second, time.Second // cluster.BaseConfig
	victimReplica, victimWorker := c.Replicas[1], c.Workers[0]
	items := max(itemCount(t, 5000)/5, 200)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	third := make(chan struct{})
	var once sync.Once
	type loadOutcome struct {
		res *cluster.LoadResult
		err error
	}
	loaded := make(chan loadOutcome, 1)
	go func() {
		res, err := c.Generate(ctx, cluster.LoadOptions{Users: 50, Items: items, Done: func(n int64) {
			if n >= int64(items/3) {
				once.Do(func() { close(third) })
			}
		}})
		loaded <- loadOutcome{res, err}
	}()
	select {
	case <-third:
	case out := <-loaded:
		t.Fatalf("the load ended before a third was done: %v", out.err)
	}

	if err := victimReplica.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := victimWorker.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	held := heldJobs(t, c, victimWorker.LeaseOwnerPrefix)
	t.Logf("killed %s and %s (which held %d Jobs)", victimReplica.Name, victimWorker.Name, len(held))
	if len(held) == 0 {
		t.Fatalf("%s held no Job when it was killed (render delay %s): the lease check would prove nothing", victimWorker.Name, victimDelay)
	}
	// The leases were taken at most one lease before the kill (heartbeats
	// extend them); the reaper looks every second. The grace is for a
	// loaded machine, not for the protocol.
	deadline := killed.Add(lease + reaper + 5*time.Second)
	for len(heldJobs(t, c, victimWorker.LeaseOwnerPrefix)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the dead worker's Jobs are still leased %s after the kill (lease %s, reaper every %s): %v",
				time.Since(killed).Round(time.Millisecond), lease, reaper, heldJobs(t, c, victimWorker.LeaseOwnerPrefix))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the dead worker's leases returned %s after the kill", time.Since(killed).Round(time.Millisecond))
	victimReplica.Start(t)
	victimWorker.Start(t)

	out := <-loaded
	if out.err != nil {
		t.Fatalf("load: %v", out.err)
	}
	res := out.res
	t.Logf("%d Items through the kills in %s (%d event streams)", len(res.Generations), res.Duration.Round(time.Millisecond), res.Streams)
	if len(res.Generations) != items {
		t.Fatalf("%d generations recorded, want %d", len(res.Generations), items)
	}
	for _, id := range held {
		var attempts int
		var status string
		if err := c.DB().QueryRowContext(ctx, `SELECT attempts, status FROM jobs WHERE id = $1`, id).Scan(&attempts, &status); err != nil {
			t.Fatal(err)
		}
		if attempts < 2 || status != "completed" {
			t.Errorf("Job %s of the dead worker: %d attempts, %s; want a second attempt that completed", id, attempts, status)
		}
	}

	// Every client sends its request again, with its key: the same Item.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, gen := range res.Generations {
		g.Go(func() error {
			id, err := c.GenerateRequest(gctx, gen.User.SessionID, gen.IdempotencyKey, gen.Body)
			if err != nil {
				return err
			}
			if id != gen.ImageID {
				return fmt.Errorf("key %s: the retry got Item %s, the first request %s", gen.IdempotencyKey, id, gen.ImageID)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	p, err := c.CheckGenerations(ctx, res.Generations, cluster.CheckOptions{MaxAttempts: 3})
	report(t, "generations", p, err)
	p, err = c.CheckListings(ctx, res.Generations)
	report(t, "listings", p, err)
}

// heldJobs lists the running Jobs leased by a worker's slots.
func heldJobs(t *testing.T, c *cluster.Cluster, ownerPrefix string) []string {
	t.Helper()
	rows, err := c.DB().QueryContext(t.Context(), `SELECT id FROM jobs WHERE status = 'running' AND lease_owner LIKE $1`,
		strings.ReplaceAll(ownerPrefix, "_", `\_`)+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}
