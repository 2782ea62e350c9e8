package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/cluster"
)

// Scenario 4: background work with three replicas, seen from outside
// (the database, the replicas' logs). The lease reaper runs on every
// replica: the leases of a worker frozen by SIGSTOP are reaped exactly
// once (one requeue per Job in all the replicas' logs, one attempt
// spent), and the worker, thawed, does not complete them a second time.
// The sweeps that take turns (store.ClaimRun) each remove what they find
// in one replica's run, once: expired tiers (billing.sweep, every
// minute), outputs a crash left pending (generation.orphanedOutputs) and
// expired tasks (tasks.expire), the last two every 15 s here.
func TestClusterBackgroundWork(t *testing.T) {
	const lease = 10 * time.Second // cluster.BaseConfig
	c := cluster.Start(t, cluster.Options{Workers: 1, Config: `
generation: {orphanSweepInterval: 15s}
ocs: {taskExpiryInterval: 15s}
`, Worker: func(_ int, w *cluster.WorkerOptions) {
		// Slow renders: the worker holds its four leases when it is frozen.
		w.Delay = 3 * time.Second
	}})
	started := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()

	// Subscriptions that expired a minute ago, their users still on tier
	// 1: the replicas' first billing.sweep (one minute after each started)
	// expires them.
	const subscribers = 5

	for range subscribers {
		u, err := c.NewUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.NewString()
		expired := time.Now().Add(-time.Minute).UnixMilli()
		if _, err := c.DB().ExecContext(ctx, `INSERT INTO subscriptions (id, user_id, domain, provider, tier, status, expires_at, created_at, updated_at)
			VALUES ($1, $2, 'default', 'stripe', 1, 'active', $3, $3, $3)`, id, u.UserID, expired); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DB().ExecContext(ctx, `UPDATE users SET tier = 1, tier_expiration = $2 WHERE id = $1`, u.UserID, expired); err != nil {
			t.Fatal(err)
		}

	}

	// Outputs stored for a Job that never completed with them, two hours
	// ago (generation.OrphanAge is an hour): file rows, S3 objects and
	// pending rows.
	const orphans = 6
	var orphanKeys []string
	twoHoursAgo := time.Now().Add(-2 * time.Hour).UnixMilli()
	for i := range orphans {
		id, key := uuid.NewString(), "orphans/"+uuid.NewString()
		if err := c.PutBlob(ctx, key, []byte(fmt.Sprintf("orphan %d", i))); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DB().ExecContext(ctx, `INSERT INTO files (id, name, content_type, size, checksum, checksum_algorithm, blob_key, created_at)
			VALUES ($1, 'orphan.png', 'image/png', 8, '', 'sha256', $2, $3)`, id, key, twoHoursAgo); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DB().ExecContext(ctx, `INSERT INTO pending_outputs (file_id, job_id, created_at) VALUES ($1, $2, $3)`,
			id, uuid.NewString(), twoHoursAgo); err != nil {
			t.Fatal(err)
		}
		orphanKeys = append(orphanKeys, key)
	}
	// Tasks last updated a month ago (ocs.taskTTL is a week).
	const oldTasks = 7
	for range oldTasks {
		monthAgo := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
		if _, err := c.DB().ExecContext(ctx, `INSERT INTO tasks (type, user_id, app_id, input, status, scheduled_at, last_updated)
			VALUES ('core:text2text:headline', 'someone', 'assistant', '{"input":"x"}', 3, $1, $1)`, monthAgo); err != nil {
			t.Fatal(err)
		}
	}

	victim := c.Workers[0]
	type loadOutcome struct {
		res *cluster.LoadResult
		err error
	}
	loaded := make(chan loadOutcome, 1)
	go func() {
		res, err := c.Generate(ctx, cluster.LoadOptions{Users: 2, Items: 16})
		loaded <- loadOutcome{res, err}
	}()
	var held []string
	until(t, victim.Name+" holds four Jobs", time.Minute, func() bool {
		held = heldJobs(t, c, victim.LeaseOwnerPrefix)
		return len(held) == 4
	})
	if err := victim.Pause(); err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	held = heldJobs(t, c, victim.LeaseOwnerPrefix)
	until(t, "the frozen worker's leases are reaped", lease+time.Minute, func() bool {
		return len(heldJobs(t, c, victim.LeaseOwnerPrefix)) == 0
	})
	t.Logf("%s frozen holding %d Jobs; its leases reaped %s later", victim.Name, len(held), time.Since(frozen).Round(time.Millisecond))
	// Every replica's reaper looked; the requeues they logged add up to
	// one per Job.
	requeued, failed := 0, 0
	for _, r := range c.Replicas {
		for _, rec := range r.LogRecords("jobs lost their worker") {
			requeued += int(number(rec["requeued"]))
			failed += int(number(rec["failed"]))
		}
	}
	if requeued != len(held) || failed != 0 {
		t.Errorf("the replicas' reapers requeued %d Jobs and failed %d, want %d and 0 (the frozen worker's)", requeued, failed, len(held))
	}
	for _, id := range held {
		var status string
		var attempts int
		if err := c.DB().QueryRowContext(ctx, `SELECT status, attempts FROM jobs WHERE id = $1`, id).Scan(&status, &attempts); err != nil {
			t.Fatal(err)
		}
		if status != "queued" || attempts != 1 {
			t.Errorf("Job %s after the reap: %s, %d attempts; want queued, 1", id, status, attempts)
		}
	}

	// Another worker takes them over; the frozen one thaws with stale
	// leases.
	c.AddWorker(t, cluster.WorkerOptions{Replica: 2})
	if err := victim.Resume(); err != nil {
		t.Fatal(err)
	}
	out := <-loaded
	if out.err != nil {
		t.Fatalf("load: %v", out.err)
	}
	for _, id := range held {
		var attempts int
		if err := c.DB().QueryRowContext(ctx, `SELECT attempts FROM jobs WHERE id = $1`, id).Scan(&attempts); err != nil {
			t.Fatal(err)
		}
		if attempts != 2 {
			t.Errorf("Job %s: %d attempts, want 2 (the frozen one, then the rescuer's)", id, attempts)
		}
	}
	p, err := c.CheckGenerations(ctx, out.res.Generations, cluster.CheckOptions{MaxAttempts: 2})
	report(t, "generations", p, err)

	// The tiers: expired by one replica's billing.sweep, once.
	until(t, "the expired subscriptions are swept", 2*time.Minute, func() bool {
		return count(t, c, `SELECT count(*) FROM subscriptions WHERE status <> 'expired'`) == 0
	})
	t.Logf("subscriptions swept %s after the cluster started", time.Since(started).Round(time.Millisecond))
	if tiered := count(t, c, `SELECT count(*) FROM users WHERE tier <> 0`); tiered != 0 {
		t.Errorf("%d users kept their tier after their subscription expired", tiered)
	}
	checkSweptOnce(t, c, "expired subscriptions", "count", subscribers)

	until(t, "the orphaned outputs are swept", time.Minute, func() bool {
		return count(t, c, `SELECT count(*) FROM pending_outputs`) == 0
	})
	keys, err := c.BlobKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if slices.Contains(orphanKeys, k) {
			t.Errorf("orphaned object %s is still in S3", k)
		}
	}
	checkSweptOnce(t, c, "removed orphaned outputs", "files", orphans)

	until(t, "the expired tasks are removed", time.Minute, func() bool {
		return count(t, c, `SELECT count(*) FROM tasks`) == 0
	})
	checkSweptOnce(t, c, "removed expired tasks", "count", oldTasks)

	if sweeps := count(t, c, `SELECT count(*) FROM background_runs
		WHERE name IN ('billing.sweep', 'generation.orphanedOutputs', 'tasks.expire')`); sweeps != 3 {
		t.Errorf("background_runs has %d rows of the three sweeps, want 3", sweeps)
	}
}

// checkSweptOnce reads the replicas' logs: the sweep logged msg with
// field = want in one record of one replica (one run did the work), and
// no other run found anything.
func checkSweptOnce(t *testing.T, c *cluster.Cluster, msg, field string, want int) {
	t.Helper()
	var runs []string
	total := 0
	for _, r := range c.Replicas {
		for _, rec := range r.LogRecords(msg) {
			runs = append(runs, fmt.Sprintf("%s: %v", r.Name, rec[field]))
			total += int(number(rec[field]))
		}
	}
	if len(runs) != 1 || total != want {
		t.Errorf("%q: %v; want one run of one replica with %s %d", msg, runs, field, want)
	} else {
		t.Logf("%q: %s", msg, runs[0])
	}
}

// count runs a SELECT count(*) on the cluster's database.
func count(t *testing.T, c *cluster.Cluster, query string) int {
	t.Helper()
	var n int
	if err := c.DB().QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// number reads a JSON number of a log record (0 when absent).
func number(v any) float64 {
	f, _ := v.(float64)
	return f
}
