package workerapi_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/workerapi"
)

// A worker pool draining a full queue, with a renderer that takes no time
// (docs/performance.md "Batch claim in the pool"):
//
//	go test ./internal/workerapi -run '^$' -bench PoolDrain -benchtime 2000x
//
// b.N Jobs are queued first; then one pool of poolDrainSlots slots claims
// and completes them all, over the worker protocol (remote, as `aimg
// worker`) or on the generation service (embedded). claim=batch is the
// pool as it is: its idle slots are claimed for in one call;
// claim=single asks for one slot per call, as the pool did before.
// cpu-ms/job is this process's CPU (server, and for remote the worker
// too); claims/job counts the claim calls that answered.

const poolDrainSlots = 8

// oneSlotAtATime passes each batch claim on for its first slot only.
type oneSlotAtATime struct{ worker.JobSource }

func (s oneSlotAtATime) ClaimJobs(ctx context.Context, workerIDs, modelIDs []string) ([]*aimg.Job, error) {
	return s.JobSource.ClaimJobs(ctx, workerIDs[:1], modelIDs)
}

// drainCounter counts the claims that answered Jobs and closes done once
// the last of n Jobs is completed.
type drainCounter struct {
	worker.JobSource
	claims, completed atomic.Int64
	n                 int64
	done              chan struct{}
}

func (c *drainCounter) ClaimJobs(ctx context.Context, workerIDs, modelIDs []string) ([]*aimg.Job, error) {
	jobs, err := c.JobSource.ClaimJobs(ctx, workerIDs, modelIDs)
	if err == nil {
		c.claims.Add(1)
	}
	return jobs, err
}

func (c *drainCounter) Complete(ctx context.Context, l aimg.Lease, out []aimg.ItemOutput) error {
	err := c.JobSource.Complete(ctx, l, out)
	if err == nil && c.completed.Add(1) == c.n {
		close(c.done)
	}
	return err
}

// zeroBackend renders the 1x1 PNG at once.
type zeroBackend struct{}

func (zeroBackend) Render(_ context.Context, j worker.RenderJob, _ func(float64)) ([]aimg.ItemOutput, error) {
	return zeroOutputs(j.Job), nil
}

func BenchmarkPoolDrain(b *testing.B) {
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		for _, via := range []string{"embedded", "remote"} {
			for _, claim := range []string{"batch", "single"} {
				b.Run(fmt.Sprintf("%s/claim=%s", via, claim), func(b *testing.B) {
					srv, key, caller := benchServer(b, url)
					for range b.N {
						if _, err := srv.App.Generation.GenerateImage(context.Background(), caller,
							generation.ImageRequest{Prompt: "a dot", ModelName: "sketch"}); err != nil {
							b.Fatal(err)
						}
					}
					var src worker.JobSource = srv.App.Generation
					if via == "remote" {
						client := workerapi.NewClient(srv.URL, key, nil)
						client.Wait = time.Second
						src = client
					}
					if claim == "single" {
						src = oneSlotAtATime{src}
					}
					counted := &drainCounter{JobSource: src, n: int64(b.N), done: make(chan struct{})}
					cpu0 := testsupport.ProcessCPU()
					b.ResetTimer()
					testsupport.StartPool(b, counted, zeroBackend{}, worker.Config{Name: "drain", Concurrency: poolDrainSlots,
						ModelIDs: []string{"sketch"}, PollInterval: 10 * time.Millisecond})
					<-counted.done
					b.StopTimer()
					cpu := testsupport.ProcessCPU() - cpu0
					b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/job")
					b.ReportMetric(float64(counted.claims.Load())/float64(b.N), "claims/job")
				})
			}
		}
	})
}
