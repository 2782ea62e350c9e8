package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// Benchmark knobs (docs/performance.md, "Web UI"), as the API's listing
// benchmarks (internal/httpapi/items_bench_test.go) have them:
//
//	AIMG_BENCH_ITEMS         Items seeded for the benchmark user (default 10000)
//	AIMG_BENCH_SQLITE_URL    an already seeded SQLite database (sqlite:<path>), e.g. by `aimg dev seed`
//	AIMG_BENCH_POSTGRES_URL  an already seeded PostgreSQL database
//	AIMG_BENCH_EMAIL         the seeded user of those databases (default seed@example.com)
//
// 1M Items: seed once with `aimg dev seed --items 1000000` and point the
// benchmark at the database (seeding inside the run works too, slower).

// BenchmarkGalleryFirstPage is My creations' first page (/creations, 24
// cards) as a signed-in browser gets it: session cookie, keyset page,
// templates, security headers; the page's bytes are its weight without
// images or assets.
func BenchmarkGalleryFirstPage(b *testing.B) {
	n := 10000
	if v := os.Getenv("AIMG_BENCH_ITEMS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("AIMG_BENCH_ITEMS=%q: want an integer >= 100", v)
		}
	}
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		srv := testsupport.NewServer(b, url, testsupport.WithoutRateLimits)
		st := srv.App.Store
		userID := benchGalleryUser(b, st, n)
		session := uuid.NewString()
		now := srv.Clock.Now()
		if err := st.CreateSession(context.Background(), &aimg.Session{ID: session, UserID: userID, Authenticated: true,
			CreatedAt: now, LastSeenAt: now}, now.Add(24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		get := func(path string) int {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || strings.Count(string(body), `class="card"`) != 24 {
				b.Fatalf("%s: %d, %d cards", path, resp.StatusCode, strings.Count(string(body), `class="card"`))
			}
			return len(body)
		}
		b.Run("creations", func(b *testing.B) {
			b.SetBytes(int64(get("/creations")))
			b.ReportAllocs()
			cpu := benchCPU()
			b.ResetTimer()
			for b.Loop() {
				get("/creations")
			}
			// CPU of the process (server and client) per page: what a
			// shared machine blurs less than wall time.
			b.ReportMetric(float64((benchCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
		})
	})
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchGalleryUser finds the seeded user of a prepared database, or
// creates one with n completed Items (10,000 per transaction).
func benchGalleryUser(b *testing.B, st *store.Store, n int) string {
	ctx := context.Background()
	email := os.Getenv("AIMG_BENCH_EMAIL")
	if email == "" {
		email = "seed@example.com"
	}
	if u, err := st.UserByEmail(ctx, "localhost", email); err == nil {
		if have, err := st.CountItems(ctx, u.ID); err != nil || have < 24 {
			b.Fatalf("%s has %d Items (%v); seed it with aimg dev seed", email, have, err)
		}
		return u.ID
	}
	id := uuid.NewString()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateUser(ctx, &aimg.User{ID: id, Domain: "localhost", Email: email, Username: "bench",
		CreatedAt: t0, UpdatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for done := 0; done < n; {
		chunk := make([]*aimg.Item, 0, min(10000, n-done))
		for range cap(chunk) {
			at := t0.Add(time.Duration(done) * time.Millisecond)
			end := at.Add(time.Second)
			chunk = append(chunk, &aimg.Item{ID: uuid.NewString(), UserID: id, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
				MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch",
				Prompt: fmt.Sprintf("a lighthouse at dusk, oil painting %d", done),
				Params: aimg.GenerationParams{Steps: 20, Seed: int64(done), Sampler: "Euler a", CFGScale: 7, Width: 256, Height: 256},
				FileID: uuid.NewString(), CreatedAt: at, UpdatedAt: at, CompletedAt: &end})
			done++
		}
		if err := st.InsertItems(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d Items in %v", n, time.Since(start).Round(time.Millisecond))
	return id
}
