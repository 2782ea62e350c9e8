package workerapi_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"slices"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/generation"
	"aimg/internal/testsupport"
	"aimg/internal/workerapi"
)

// The dispatch overhead of the worker protocol, with a renderer that takes
// no time (docs/performance.md "Remote workers"):
//
//	go test ./internal/workerapi -run '^$' -bench Dispatch -benchtime 2000x

// zeroRenderPNG is the output of every benchmark Item: a 1x1 PNG.
var zeroRenderPNG = func() []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	return buf.Bytes()
}()

func zeroOutputs(j *aimg.Job) []aimg.ItemOutput {
	out := make([]aimg.ItemOutput, len(j.ItemIDs))
	for i, id := range j.ItemIDs {
		out[i] = aimg.ItemOutput{ItemID: id, Files: []aimg.OutputFile{{ContentType: "image/png", Role: aimg.OutputImage, Data: zeroRenderPNG}}}
	}
	return out
}

// benchServer is a server whose Models let one user queue any number of
// Items, with a worker key.
func benchServer(b *testing.B, url string) (*testsupport.Server, string, aimg.Caller) {
	srv := testsupport.NewServer(b, url, testsupport.WithoutRateLimits, func(c *config.Config) {
		for i := range c.Service.Models {
			c.Service.Models[i].Tier0Concurrent = 1 << 30
		}
	})
	env := srv.AdminPost(b, "/api/createWorkerKey", map[string]any{"name": "bench"})
	var k struct{ Key string }
	env.Decode(b, &k)
	return srv, k.Key, benchCallers(b, srv, 1)[0]
}

func enqueueOne(b *testing.B, srv *testsupport.Server, c aimg.Caller) {
	if _, err := srv.App.Generation.GenerateImage(context.Background(), c, generation.ImageRequest{Prompt: "a dot"}); err != nil {
		b.Fatal(err)
	}
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
}

// Enqueue to claim: one remote worker waits in a claim; the Job is queued;
// the time until the claim answers with it. One Job at a time.
func BenchmarkDispatchEnqueueToClaim(b *testing.B) {
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		srv, key, caller := benchServer(b, url)
		client := workerapi.NewClient(srv.URL, key, nil)
		ctx := context.Background()
		claimed := make(chan time.Time)
		next := make(chan struct{})
		go func() {
			for range next {
				job, err := client.Claim(ctx, "bench/0", nil)
				if err != nil {
					b.Error(err)
					close(claimed)
					return
				}
				at := time.Now()
				if err := client.Complete(ctx, job.Lease(), zeroOutputs(job)); err != nil {
					b.Error(err)
				}
				claimed <- at
			}
		}()
		lat := make([]time.Duration, 0, b.N)      // from the start of the enqueue
		dispatch := make([]time.Duration, 0, b.N) // from its commit (the enqueue call returned)
		b.ResetTimer()
		for range b.N {
			next <- struct{}{}
			time.Sleep(time.Millisecond) // let the claim reach its wait
			start := time.Now()
			enqueueOne(b, srv, caller)
			queued := time.Now()
			at, ok := <-claimed
			if !ok {
				b.FailNow()
			}
			lat = append(lat, at.Sub(start))
			dispatch = append(dispatch, at.Sub(queued))
		}
		b.StopTimer()
		close(next)
		b.ReportMetric(percentile(lat, 0.5), "ms-p50")
		b.ReportMetric(percentile(lat, 0.99), "ms-p99")
		b.ReportMetric(percentile(dispatch, 0.5), "ms-dispatch-p50")
	})
}

// Throughput: b.N Jobs queued first, then 8 remote workers claim and
// complete them; ns/op is the wall time per Job, and ms-p50 the time from
// a worker's complete to its next claim (the queue is never empty).
func BenchmarkDispatchThroughput8Workers(b *testing.B) {
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		srv, key, caller := benchServer(b, url)
		for range b.N {
			enqueueOne(b, srv, caller)
		}
		ctx := context.Background()
		var (
			mu   sync.Mutex
			gaps []time.Duration
			left = b.N
			wg   sync.WaitGroup
		)
		b.ResetTimer()
		for w := range 8 {
			client := workerapi.NewClient(srv.URL, key, nil)
			client.Wait = 0
			wg.Go(func() {
				var last time.Time
				for {
					mu.Lock()
					if left == 0 {
						mu.Unlock()
						return
					}
					mu.Unlock()
					job, err := client.Claim(ctx, "bench/"+string(rune('a'+w)), nil)
					if aimg.IsNotFound(err) {
						continue
					}
					if err != nil {
						b.Error(err)
						return
					}
					if !last.IsZero() {
						mu.Lock()
						gaps = append(gaps, time.Since(last))
						mu.Unlock()
					}
					if err := client.Complete(ctx, job.Lease(), zeroOutputs(job)); err != nil {
						b.Error(err)
						return
					}
					last = time.Now()
					mu.Lock()
					left--
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(percentile(gaps, 0.5), "ms-p50")
	})
}
