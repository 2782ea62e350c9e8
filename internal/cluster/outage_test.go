package cluster_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"aimg/internal/cluster"
)

// Scenario 5: the replicas' dependencies fail under them, one at a time,
// through proxies the test cuts: Redis (each replica limits in its own
// process, generation goes on), PostgreSQL (/readyz and the API answer
// 503 while it is away, the replicas recover by themselves) and S3 for
// 10 s during a load (downloads answer 503, completions are retried,
// nothing is lost). Every Item of the run is then completed exactly once
// with a matching checksum.
func TestClusterDependenciesFail(t *testing.T) {
	// A lease longer than the S3 outage: a completion retried meanwhile
	// keeps its Job (one attempt), as with the shipped 30 s.
	c := cluster.Start(t, cluster.Options{Proxies: true, Config: "generation: {leaseDuration: 30s, heartbeatInterval: 5s}"})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var gens []*cluster.Generation
	generate := func(t *testing.T, o cluster.LoadOptions) {
		t.Helper()
		res, err := c.Generate(ctx, o)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		gens = append(gens, res.Generations...)
	}
	generate(t, cluster.LoadOptions{Users: 5, Items: 20})
	baseline := gens[0]

	t.Run("Redis down: limits in each process, generation goes on", func(t *testing.T) {
		c.RedisProxy.Cut()
		// createUser is limited (createUser:ip): through each replica.
		for i := range c.Replicas {
			newUserOn(t, c, i)
		}
		generate(t, cluster.LoadOptions{Users: 5, Items: 20})
		for _, r := range c.Replicas {
			if len(r.LogRecords(fellBack)) == 0 {
				t.Errorf("%s did not fall back to limiting in its process", r.Name)
			}
		}
		c.RedisProxy.Restore()
		// The shared limiter is asked again after a pause (ratelimit.FallbackPause).
		for i, r := range c.Replicas {
			until(t, r.Name+" uses Redis again", 30*time.Second, func() bool {
				newUserOn(t, c, i)
				return len(r.LogRecords(backToRedis)) > 0
			})
		}
	})

	const pgAway = 3 * time.Second
	t.Run("PostgreSQL restarts: 503 meanwhile, the replicas recover by themselves", func(t *testing.T) {
		cut := time.Now()
		c.DBProxy.Cut()
		for i, r := range c.Replicas {
			until(t, r.Name+"'s /readyz answers 503", 30*time.Second, func() bool {
				code, _, err := c.Get(ctx, i, "/readyz")
				return err == nil && code == http.StatusServiceUnavailable
			})
			// An API call is refused as "try again" (503, Retry-After), not
			// as a server bug (500).
			env, err := c.DoOn(ctx, i, cluster.Req{Path: "/api/getSelfUser", Session: baseline.User.SessionID})
			if err != nil {
				t.Fatal(err)
			}
			if env.Status != http.StatusServiceUnavailable || env.Header.Get("Retry-After") == "" {
				t.Errorf("%s: getSelfUser without the database: %d (Retry-After %q) %s", r.Name, env.Status, env.Header.Get("Retry-After"), env.Raw)
			}
		}
		// Away a few seconds, as a restart is: the workers' claims and
		// heartbeats, the replicas' LISTEN connections and sweeps fail
		// meanwhile.
		time.Sleep(time.Until(cut.Add(pgAway)))
		c.DBProxy.Restore()
		restored := time.Now()
		for i, r := range c.Replicas {
			until(t, r.Name+"'s /readyz answers 200 again", time.Minute, func() bool {
				code, _, err := c.Get(ctx, i, "/readyz")
				return err == nil && code == http.StatusOK
			})
		}
		t.Logf("PostgreSQL away %s; every replica ready again %s later", restored.Sub(cut).Round(time.Millisecond), time.Since(restored).Round(time.Millisecond))
		generate(t, cluster.LoadOptions{Users: 5, Items: 20})
	})

	t.Run("S3 away for 10 s: downloads 503, completions retried, nothing lost", func(t *testing.T) {
		const items = 60
		started := make(chan struct{})
		loaded := make(chan error, 1)
		go func() {
			res, err := c.Generate(ctx, cluster.LoadOptions{Users: 10, Items: items, Done: func(n int64) {
				if n == 8 {
					close(started)
				}
			}})
			if res != nil {
				gens = append(gens, res.Generations...)
			}
			loaded <- err
		}()
		select {
		case <-started:
		case err := <-loaded:
			t.Fatalf("the load ended before the cut: %v", err)
		}
		c.S3Proxy.Cut()
		cut := time.Now()
		u, err := url.Parse(baseline.Final.URL)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range c.Replicas {
			code, body, err := c.Get(ctx, i, u.RequestURI())
			if err != nil {
				t.Fatal(err)
			}
			if code != http.StatusServiceUnavailable {
				t.Errorf("%s: a download while S3 is away: %d %.200s", r.Name, code, body)
			}
		}
		time.Sleep(time.Until(cut.Add(10 * time.Second)))
		if c.S3Proxy.Refused() == 0 {
			t.Error("no replica tried S3 while it was away: the outage proved nothing")
		}
		var failed int
		if err := c.DB().QueryRowContext(ctx, `SELECT count(*) FROM items WHERE status = 'failed'`).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			t.Errorf("%d Items failed while S3 was away", failed)
		}
		c.S3Proxy.Restore()
		if err := <-loaded; err != nil {
			t.Fatalf("load through the S3 outage: %v", err)
		}
		t.Logf("%d Items through a 10 s S3 outage, %d connections refused meanwhile", items, c.S3Proxy.Refused())
	})

	p, err := c.CheckGenerations(ctx, gens, cluster.CheckOptions{MaxAttempts: 1})
	report(t, "generations", p, err)
}

// Log messages of ratelimit.Fallback.
const (
	fellBack    = "rate limits: the shared limiter (Redis) failed; limiting in this process until it answers"
	backToRedis = "rate limits: the shared limiter (Redis) answers again"
)

// until polls cond every 100 ms until it holds; after limit it fails
// the test.
func until(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || t.Context().Err() != nil {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
