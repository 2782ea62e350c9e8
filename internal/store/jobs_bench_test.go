package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// forEachBenchStore runs fn per dialect; PostgreSQL only when
// AIMG_TEST_DATABASE_URL is set.
// claimAndComplete is one worker turn: claim the head Job of model "m" and
// complete it.
func claimAndComplete(b *testing.B, st *store.Store) {
	ctx := context.Background()
	j, err := st.ClaimJob(ctx, aimg.Claim{WorkerID: "w", ModelIDs: []string{"m"}, Lease: testLease,
		StarvationBound: time.Minute, Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}
	if err := st.CompleteJob(ctx, j.Lease(), res, "", t0); err != nil {
		b.Fatal(err)
	}
}

func forEachBenchStore(b *testing.B, fn func(b *testing.B, st *store.Store)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, testsupport.OpenStore(b, "sqlite:"+filepath.Join(b.TempDir(), "aimg.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(testsupport.PostgresEnv) == "" {
			b.Skip("set " + testsupport.PostgresEnv)
		}
		fn(b, testsupport.OpenStore(b, testsupport.FreshPostgres(b)))
	})
}

// Enqueue throughput: one request (Item + Job, limits checked) per op.
func BenchmarkEnqueue(b *testing.B) {
	forEachBenchStore(b, func(b *testing.B, st *store.Store) {
		ctx := context.Background()
		u := newUser(b, st)
		now := t0
		b.ResetTimer()
		for b.Loop() {
			nj := newJob(u.ID, "m", 0, now)
			nj.MaxActive = 1 << 30
			if _, err := st.Enqueue(ctx, nj); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
}

// Claim + complete throughput: each op leases the head Job and completes it.
func BenchmarkClaimComplete(b *testing.B) {
	forEachBenchStore(b, func(b *testing.B, st *store.Store) {
		u := newUser(b, st)
		for i := range b.N {
			enqueue(b, st, newJob(u.ID, "m", i%2, t0))
		}
		b.ResetTimer()
		for range b.N {
			claimAndComplete(b, st)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
}

// depthsEnv selects the queue depths of the *AtDepth benchmarks, e.g.
// AIMG_BENCH_QUEUE_DEPTHS=0,100000,1000000 (docs/performance.md, "Depth at
// 1M"); without it they run the quick default.
const depthsEnv = "AIMG_BENCH_QUEUE_DEPTHS"

var depths = benchDepths([]int{0, 10_000, 100_000})

func benchDepths(def []int) []int {
	v := os.Getenv(depthsEnv)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			panic(fmt.Sprintf("%s=%q: want comma-separated depths >= 0", depthsEnv, v))
		}
		out = append(out, n)
	}
	return out
}

// seedQueue queues depth Jobs of one other user in model "m"'s normal
// queue and logs how long it took (1M takes a while).
func seedQueue(b *testing.B, st *store.Store, depth int) {
	start := time.Now()
	if err := st.SeedQueuedJobsForTest(context.Background(), aimg.NormalQueue("m"), "m", depth, t0.UnixMilli()); err != nil {
		b.Fatal(err)
	}
	if depth >= 100_000 {
		b.Logf("seeded %d queued Jobs in %v", depth, time.Since(start).Round(time.Millisecond))
	}
}

// Enqueue latency with depth Jobs already queued in the same queue (0, 10k
// and 100k, or AIMG_BENCH_QUEUE_DEPTHS). Reports p50 and p99 per enqueue.
func BenchmarkEnqueueAtDepth(b *testing.B) {
	for _, depth := range depths {
		b.Run(fmt.Sprintf("queued=%d", depth), func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				seedQueue(b, st, depth)
				u := newUser(b, st)
				var lat []time.Duration
				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					nj := newJob(u.ID, "m", 0, t0)
					nj.MaxActive = 1 << 30
					if _, err := st.Enqueue(ctx, nj); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				reportLatency(b, lat)
			})
		})
	}
}

// Claim + complete latency with 0, 10k and 100k Jobs queued behind the head.
func BenchmarkClaimAtDepth(b *testing.B) {
	for _, depth := range depths {
		b.Run(fmt.Sprintf("queued=%d", depth), func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				u := newUser(b, st)
				for range b.N {
					enqueue(b, st, newJob(u.ID, "m", 0, t0))
				}
				if err := st.SeedQueuedJobsForTest(ctx, aimg.NormalQueue("m"), "m", depth, t0.UnixMilli()); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					claimAndComplete(b, st)
				}
			})
		})
	}
}

// Exact queue position of the Job at the tail of a queue of 10k and 100k
// (the last of one user's batch; another user's Job would be second): a
// bounded number of counter rows and index entries (job_fair.go).
func BenchmarkQueuePositionAtTail(b *testing.B) {
	for _, depth := range depths[1:] {
		b.Run(fmt.Sprintf("queued=%d", depth), func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				q := aimg.NormalQueue("m")
				if err := st.SeedQueuedJobsForTest(ctx, q, "m", depth, t0.UnixMilli()); err != nil {
					b.Fatal(err)
				}
				id := fmt.Sprintf("seed-queued-%s-%d", q, depth)
				b.ResetTimer()
				for b.Loop() {
					pos, err := st.QueuePosition(ctx, id)
					if err != nil || pos != int64(depth) {
						b.Fatalf("position %d, %v", pos, err)
					}
				}
			})
		})
	}
}

// reportLatency reports the median and p99 of the per-op durations.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[(len(d)*99)/100].Microseconds())/1000, "p99-ms")
}

// What a generateImage request does in the store: enqueue the Job, then
// read its queue position for the response, with 0 or 100k Jobs (one other
// user's batch; or AIMG_BENCH_QUEUE_DEPTHS) already queued. Reports p50 and
// p99 per request.
func BenchmarkEnqueueWithPositionAtDepth(b *testing.B) {
	for _, depth := range benchDepths([]int{0, 100_000}) {
		b.Run(fmt.Sprintf("queued=%d", depth), func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				seedQueue(b, st, depth)
				u := newUser(b, st)
				var lat []time.Duration
				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					nj := newJob(u.ID, "m", 0, t0)
					nj.MaxActive = 1 << 30
					if _, err := st.Enqueue(ctx, nj); err != nil {
						b.Fatal(err)
					}
					if pos, err := st.QueuePosition(ctx, nj.Job.ID); err != nil || pos < 1 {
						b.Fatalf("position %d, %v", pos, err)
					}
					lat = append(lat, time.Since(start))
				}
				reportLatency(b, lat)
			})
		})
	}
}

// The position of the first and of the last of 100k queued Jobs; with
// +job, also the Job read before it: the Job reads of a getItemStatus for a
// queued Item (generation.statusOf: JobByID for the Folder, QueuePosition).
func BenchmarkQueuePositionHeadTail(b *testing.B) {
	const depth = 100_000
	for _, at := range []struct {
		name    string
		i       int
		withJob bool
	}{{"head", 1, false}, {"tail", depth, false}, {"head+job", 1, true}, {"tail+job", depth, true}} {
		b.Run(at.name, func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				q := aimg.NormalQueue("m")
				if err := st.SeedQueuedJobsForTest(ctx, q, "m", depth, t0.UnixMilli()); err != nil {
					b.Fatal(err)
				}
				id := fmt.Sprintf("seed-queued-%s-%d", q, at.i)
				var lat []time.Duration
				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					if at.withJob {
						if _, err := st.JobByID(ctx, id); err != nil {
							b.Fatal(err)
						}
					}
					pos, err := st.QueuePosition(ctx, id)
					if err != nil || pos != int64(at.i) {
						b.Fatalf("position %d, %v; want %d", pos, err, at.i)
					}
					lat = append(lat, time.Since(start))
				}
				reportLatency(b, lat)
			})
		})
	}
}

// Batch claims (docs/performance.md "Batch claim"): b.N queued Jobs of
// three users in two queues, claimed batch Jobs per transaction (ClaimJobs)
// until none is left; completions are not measured. cpu-us/job is this
// process's CPU (the Go side: driver, SQLite itself), pg-cpu-us/job the
// CPU of this benchmark's PostgreSQL backends (/proc), both per Job.
//
//	go test ./internal/store -run '^$' -bench ClaimBatch -benchtime 2000x
func BenchmarkClaimBatch(b *testing.B) {
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			forEachBenchStore(b, func(b *testing.B, st *store.Store) {
				ctx := context.Background()
				users := []*aimg.User{newUser(b, st), newUser(b, st), newUser(b, st)}
				for i := range b.N {
					enqueue(b, st, newJob(users[i%3].ID, "m", i/3%2, t0))
				}
				ws := owners("bench", batch)
				pg0 := backendCPU(b, st)
				b.ResetTimer()
				cpu0 := testsupport.ProcessCPU()
				for claimed := 0; claimed < b.N; {
					jobs, err := st.ClaimJobs(ctx, aimg.Claim{WorkerIDs: ws[:min(batch, b.N-claimed)], ModelIDs: []string{"m"},
						Lease: testLease, StarvationBound: time.Minute, Now: t0})
					if err != nil {
						b.Fatal(err)
					}
					claimed += len(jobs)
				}
				cpu := testsupport.ProcessCPU() - cpu0
				b.StopTimer()
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/job")
				if pg := backendCPU(b, st) - pg0; pg0 >= 0 {
					b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/job")
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
			})
		})
	}
}

// backendCPU is the CPU time so far of st's PostgreSQL backends (those
// connected to its database, read from /proc: the server runs on this
// machine), or -1 on SQLite or when /proc does not show them.
func backendCPU(b *testing.B, st *store.Store) time.Duration {
	var pids string
	err := st.QueryRowForTest(context.Background(), `SELECT COALESCE(string_agg(pid::text, ','), '')
		FROM pg_stat_activity WHERE datname = current_database()`).Scan(&pids)
	if err != nil || pids == "" {
		return -1
	}
	var total time.Duration
	for _, pid := range strings.Split(pids, ",") {
		raw, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return -1
		}
		// Fields after the command's closing parenthesis: state is the
		// 3rd field of the line, utime and stime the 14th and 15th.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	}
	return total
}
