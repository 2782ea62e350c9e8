package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
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
		userID := testsupport.BenchUser(b, st, n, 24, galleryItem)
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
			cpu := testsupport.ProcessCPU()
			b.ResetTimer()
			for b.Loop() {
				get("/creations")
			}
			// CPU of the process (server and client) per page: what a
			// shared machine blurs less than wall time.
			b.ReportMetric(float64((testsupport.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
		})
	})
}

// galleryItem is a completed image as the Create page makes it.
func galleryItem(userID string, i int, at time.Time) *aimg.Item {
	end := at.Add(time.Second)
	return &aimg.Item{ID: uuid.NewString(), UserID: userID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
		MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "sketch",
		Prompt: fmt.Sprintf("a lighthouse at dusk, oil painting %d", i),
		Params: aimg.GenerationParams{Steps: 20, Seed: int64(i), Sampler: "Euler a", CFGScale: 7, Width: 256, Height: 256},
		FileID: uuid.NewString(), CreatedAt: at, UpdatedAt: at, CompletedAt: &end}
}
