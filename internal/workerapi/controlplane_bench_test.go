package workerapi_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/testsupport"
	"aimg/internal/workerapi"
)

// The control plane's cost per Item (issue 11, docs/performance.md "Control
// plane per Item"): enqueue, claim, complete with one tiny output file and
// one status read, render time zero, on the zero-cost Model sketch.
//
//	go test ./internal/workerapi -run '^$' -bench ControlPlane -benchtime 2000x
//
// CPU is measured, not only wall time: the machine is shared, so wall time
// says little, while the process's CPU seconds (getrusage: user + system,
// every goroutine and the GC) per Item are what an Item costs. In the
// "service" runs the process is only the server (the pipeline calls the
// generation service as the embedded worker does); in the "http" runs the
// clients (generateImage, getItemStatus, the worker protocol) share the
// process, so its CPU is server plus client: an upper bound. PostgreSQL's
// own CPU is in its processes and not counted. On PostgreSQL, the run also
// measures pgbench -N with the same number of clients for 10 s
// (AIMG_BENCH_PGBENCH=0 skips it) and reports Items/s over its TPS.

// controlPlaneClients is how many pipelines run at once: clients, each
// enqueueing one Item, then claiming, completing and reading a status.
const controlPlaneClients = 4

// pipeline is one Item's way through the control plane.
type pipeline func(ctx context.Context, client int) error

func BenchmarkControlPlane(b *testing.B) {
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		// The reference, in the same run: what this PostgreSQL commits per
		// second with the same number of clients, measured once per
		// database right after the first full run.
		var ref pgbenchResult
		reference := func(b *testing.B) pgbenchResult {
			if ref.tps == 0 {
				ref = pgbenchTPS(b, controlPlaneClients, 10*time.Second)
				b.Logf("pgbench -N -c %d -T 10: %.0f TPS, %.3f ms of CPU per transaction (pgbench %.3f, PostgreSQL %.3f)",
					controlPlaneClients, ref.tps, ref.cpuPerTx(), ref.clientCPUPerTx, ref.serverCPUPerTx)
			}
			return ref
		}
		for _, mode := range []string{"service", "http"} {
			for _, users := range []int{1, controlPlaneClients} {
				b.Run(fmt.Sprintf("%s/users=%d", mode, users), func(b *testing.B) {
					srv, key, caller := benchServer(b, url)
					callers := append([]aimg.Caller{caller}, benchCallers(b, srv, users-1)...)
					var run pipeline
					if mode == "service" {
						run = servicePipeline(srv, callers)
					} else {
						run = httpPipeline(srv, key, callers)
					}
					postgres := strings.HasPrefix(url, "postgres")
					var serverCPU func() (time.Duration, bool)
					if postgres {
						serverCPU = postgresCPU(b, url)
					}
					itemsPerSec, cpuPerItem := runControlPlane(b, run, serverCPU)
					if postgres && b.N > 1 && os.Getenv("AIMG_BENCH_PGBENCH") != "0" {
						ref := reference(b)
						b.ReportMetric(itemsPerSec/ref.tps, "items/pgbench-tx")
						// What the ratio could be if the machine's CPU is
						// all that limits both: Items/s = cores / CPU per
						// Item, TPS = cores / CPU per transaction.
						b.ReportMetric(ref.cpuPerTx()/cpuPerItem, "cpu-bound-items/pgbench-tx")
					}
				})
			}
		}
	})
}

// benchCallers signs up n users on srv, each with a fresh address: a
// benchmark function runs more than once on the same database (b.N = 1
// first). Pipeline c enqueues as callers[c % len(callers)]: with one
// user the pipelines serialise on that user's lock (lockUsers, which its
// limits need); with one user per pipeline they do not.
func benchCallers(b *testing.B, srv *testsupport.Server, n int) []aimg.Caller {
	ctx := context.Background()
	var out []aimg.Caller
	for range n {
		acct := testsupport.SignUp(b, srv, "bench-"+uuid.NewString()[:8]+"@example.com")
		user, err := srv.App.Store.UserByID(ctx, acct.UserID)
		if err != nil {
			b.Fatal(err)
		}
		sess, err := srv.App.Store.SessionByID(ctx, acct.SessionID, srv.Clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, aimg.Caller{Session: sess, User: user, Domain: user.Domain})
	}
	return out
}

// BenchmarkPgbench is pgbench -N on a scratch database, alone, reported
// as TPS, so that its figure sits beside BenchmarkControlPlane's.
func BenchmarkPgbench(b *testing.B) {
	if os.Getenv(testsupport.PostgresEnv) == "" {
		b.Skip("no PostgreSQL (" + testsupport.PostgresEnv + ")")
	}
	var r pgbenchResult
	for range b.N {
		r = pgbenchTPS(b, controlPlaneClients, 10*time.Second)
	}
	b.ReportMetric(r.tps, "TPS")
	b.ReportMetric(r.cpuPerTx(), "cpu-ms/tx")
}

// runControlPlane runs b.N Items through run and returns Items/s and the
// CPU milliseconds per Item of this process and, when serverCPU is not
// nil, of the database server (reported as pg-cpu-ms/item).
func runControlPlane(b *testing.B, run pipeline, serverCPU func() (time.Duration, bool)) (itemsPerSec, cpuMsPerItem float64) {
	if serverCPU == nil {
		serverCPU = func() (time.Duration, bool) { return 0, false }
	}
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	pg0, _ := serverCPU()
	cpu0, wall0 := testsupport.ProcessCPU(), time.Now()
	for c := range controlPlaneClients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := run(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu, wall := testsupport.ProcessCPU()-cpu0, time.Since(wall0)
	pg1, pgSeen := serverCPU()
	b.StopTimer()
	cpuMsPerItem = float64(cpu.Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(cpuMsPerItem, "cpu-ms/item")
	if pgSeen {
		pgMs := float64((pg1 - pg0).Microseconds()) / 1000 / float64(b.N)
		b.ReportMetric(pgMs, "pg-cpu-ms/item")
		cpuMsPerItem += pgMs
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "items/s")
	if cpu > 0 {
		// Items/s if the control plane had both cores to itself.
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "items/cpu-s")
	}
	return float64(b.N) / wall.Seconds(), cpuMsPerItem
}

// servicePipeline calls the generation service, as the embedded worker and
// the HTTP handlers do.
func servicePipeline(srv *testsupport.Server, callers []aimg.Caller) pipeline {
	gen := srv.App.Generation
	return func(ctx context.Context, client int) error {
		caller := callers[client%len(callers)]
		st, err := gen.GenerateImage(ctx, caller, generation.ImageRequest{Prompt: "a dot", ModelName: "sketch"})
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		job, err := gen.Claim(ctx, "bench/"+strconv.Itoa(client), []string{"sketch"})
		if aimg.IsNotFound(err) {
			return nil // another client took it; its status is read all the same
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if err := gen.Complete(ctx, job.Lease(), zeroOutputs(job)); err != nil {
			return fmt.Errorf("complete: %w", err)
		}
		if _, err := gen.ItemStatus(ctx, caller, st.ImageID); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		return nil
	}
}

// httpPipeline goes through the AIMG API and the worker protocol.
func httpPipeline(srv *testsupport.Server, key string, callers []aimg.Caller) pipeline {
	workers := make([]*workerapi.Client, controlPlaneClients)
	for i := range workers {
		workers[i] = workerapi.NewClient(srv.URL, key, nil)
		workers[i].Wait = 0
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: controlPlaneClients}}
	call := func(ctx context.Context, session, method, path string, body []byte) (json.RawMessage, error) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Session-ID", session)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var env struct {
			HasError     bool            `json:"hasError"`
			ErrorMessage string          `json:"errorMessage"`
			Payload      json.RawMessage `json:"payload"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			return nil, err
		}
		if env.HasError {
			return nil, fmt.Errorf("%s: %d %s", path, resp.StatusCode, env.ErrorMessage)
		}
		return env.Payload, nil
	}
	enqueueBody := []byte(`{"prompt":"a dot","modelName":"sketch"}`)
	return func(ctx context.Context, client int) error {
		session := callers[client%len(callers)].Session.ID
		payload, err := call(ctx, session, http.MethodPost, "/api/generateImage", enqueueBody)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		var st struct {
			ImageID string `json:"imageID"`
		}
		if err := json.Unmarshal(payload, &st); err != nil {
			return err
		}
		w := workers[client]
		job, err := w.Claim(ctx, "bench/"+strconv.Itoa(client), nil)
		if aimg.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if err := w.Complete(ctx, job.Lease(), zeroOutputs(job)); err != nil {
			return fmt.Errorf("complete: %w", err)
		}
		if _, err := call(ctx, session, http.MethodGet, "/api/getItemStatus?imageID="+st.ImageID, nil); err != nil {
			return fmt.Errorf("status: %w", err)
		}
		return nil
	}
}

var (
	pgbenchTPSLine      = regexp.MustCompile(`^tps = ([0-9.]+)`)
	pgbenchProgressLine = regexp.MustCompile(`^progress: ([0-9.]+) s, ([0-9.]+) tps`)
)

// postgresCPU reads the CPU time of the PostgreSQL server at url and its
// processes, when it runs on this machine. It counts every database of
// that server: a quiet server, or one of its own, gives the benchmark's.
func postgresCPU(b *testing.B, url string) func() (time.Duration, bool) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pid := testsupport.PostmasterPID(db)
	return func() (time.Duration, bool) { return testsupport.ProcessTreeCPU(pid) }
}

// pgbenchResult is what a pgbench -N run reached: transactions per second
// and the CPU milliseconds each cost pgbench and the PostgreSQL server.
type pgbenchResult struct {
	tps                            float64
	clientCPUPerTx, serverCPUPerTx float64
}

func (r pgbenchResult) cpuPerTx() float64 { return r.clientCPUPerTx + r.serverCPUPerTx }

// pgbenchTPS runs pgbench -i and pgbench -N (simple update: three updates
// and an insert per transaction, one commit) with clients clients for d on
// a scratch database it creates and drops.
func pgbenchTPS(b *testing.B, clients int, d time.Duration) pgbenchResult {
	b.Helper()
	base := testsupport.ServiceURL(b, testsupport.PostgresEnv, "e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if _, err := exec.LookPath("pgbench"); err != nil {
		b.Skip("pgbench is not installed")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	postmaster := testsupport.PostmasterPID(db)
	name := "perf_pgbench_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		b.Fatalf("create database: %v", err)
	}
	defer func() {
		if _, err := db.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			b.Errorf("drop database %s: %v", name, err)
		}
	}()
	target := strings.Replace(base, "/test?", "/"+name+"?", 1)
	if target == base {
		b.Skipf("cannot derive a scratch database URL from %s (expected a path /test)", base)
	}
	if out, err := exec.Command("pgbench", "-i", "-q", target).CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	// The server's CPU is read 1 s after the start and 1 s before the
	// end, while pgbench's connections live (an ended backend's CPU is
	// no longer in /proc), against the transactions that pgbench's
	// progress lines (-P 1) count in between.
	cmd := exec.Command("pgbench", "-N", "-P", "1", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(clients),
		"-T", strconv.Itoa(int(d.Seconds())), target)
	var pg [2]time.Duration
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		time.Sleep(time.Second)
		pg[0], _ = testsupport.ProcessTreeCPU(postmaster)
		time.Sleep(d - 2*time.Second)
		pg[1], _ = testsupport.ProcessTreeCPU(postmaster)
	}()
	out, err := cmd.CombinedOutput()
	<-sampled
	if err != nil {
		b.Fatalf("pgbench -N: %v\n%s", err, out)
	}
	var r pgbenchResult
	between := 0.0 // transactions from 1 s to d-1 s
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := pgbenchProgressLine.FindStringSubmatch(sc.Text()); m != nil {
			at, _ := strconv.ParseFloat(m[1], 64)
			tps, _ := strconv.ParseFloat(m[2], 64)
			if at > 1 && at <= d.Seconds()-1 {
				between += tps
			}
		}
		if m := pgbenchTPSLine.FindStringSubmatch(sc.Text()); m != nil {
			r.tps, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	if r.tps > 0 {
		client := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		r.clientCPUPerTx = float64(client.Microseconds()) / 1000 / (r.tps * d.Seconds())
		if between > 0 {
			r.serverCPUPerTx = float64((pg[1] - pg[0]).Microseconds()) / 1000 / between
		}
		return r
	}
	b.Fatalf("no tps in pgbench output:\n%s", out)
	return pgbenchResult{}
}
