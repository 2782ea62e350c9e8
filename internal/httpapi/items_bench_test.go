package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

// Benchmark knobs (docs/performance.md, "getMyCreations"):
//
//	AIMG_BENCH_ITEMS         Items seeded for the benchmark user (default 10000)
//	AIMG_BENCH_SQLITE_URL    an already seeded SQLite database (sqlite:<path>), e.g. by `aimg dev seed`
//	AIMG_BENCH_POSTGRES_URL  an already seeded PostgreSQL database
//	AIMG_BENCH_EMAIL         the seeded user of those databases (default seed@example.com)
//
// Without a seeded database each run seeds a fresh one (SQLite in a temp
// dir; PostgreSQL in a fresh schema when AIMG_TEST_DATABASE_URL is set).
func BenchmarkMyCreations(b *testing.B) {
	n := benchItems(b)
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_SQLITE_URL", "AIMG_BENCH_POSTGRES_URL", func(b *testing.B, url string) {
		benchMyCreations(b, url, n)
	})
}

func benchMyCreations(b *testing.B, dbURL string, n int) {
	srv := testsupport.NewServer(b, dbURL)
	ctx := context.Background()
	st := srv.App.Store
	userID := testsupport.BenchUser(b, st, n, 200, func(userID string, i int, at time.Time) *aimg.Item {
		it := apiItem(userID, time.Duration(i)*time.Millisecond)
		it.CreatedAt = at
		return it
	})
	// The session is the real thing: a row the handler resolves on every request.
	session := uuid.NewString()
	now := srv.Clock.Now()
	if err := st.CreateSession(ctx, &aimg.Session{ID: session, UserID: userID, Authenticated: true, CreatedAt: now, LastSeenAt: now},
		now.Add(24*time.Hour)); err != nil {
		b.Fatal(err)
	}
	// The deep page starts 90% of the way down the list.
	deep, err := st.ListCreations(ctx, userID, aimg.ItemFilter{}, aimg.Page{Reverse: true, Limit: 1, Skip: n / 10})
	if err != nil || len(deep.Items) != 1 {
		b.Fatalf("deep index: %v", err)
	}
	deepIndex := strconv.FormatInt(deep.Items[0].CreatedAt.UnixMilli(), 10)

	minimal := httptest.NewServer(minimalCreationsHandler(b, dbURL, userID))
	b.Cleanup(minimal.Close)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	pages := map[string]string{"first": "limit=100", "deep": "limit=100&paginationIndex=" + deepIndex}
	for _, server := range []struct{ name, base string }{{"aimg", srv.URL + "/api/getMyCreations"}, {"minimal", minimal.URL}} {
		for _, page := range []string{"first", "deep"} {
			url := server.base + "?" + pages[page]
			get := func() int {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("X-Session-ID", session)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				nb, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", url, resp.StatusCode)
				}
				return int(nb)
			}
			b.Run(server.name+"/"+page, func(b *testing.B) {
				size := get()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				cpu := testsupport.ProcessCPU()
				b.ResetTimer()
				for b.Loop() {
					get()
				}
				// CPU of the process (server and client alike) per request:
				// what a loaded, shared machine does not blur as it does wall time.
				b.ReportMetric(float64((testsupport.ProcessCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
			})
			b.Run(server.name+"/"+page+"/parallel", func(b *testing.B) {
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get()
					}
				})
			})
		}
	}
}

// minimalCreationsHandler is the floor to compare with: plain net/http and
// database/sql, the same keyset query on the same database, a flat JSON
// array of the Image fields; no session, envelope, counts or middleware.
func minimalCreationsHandler(b *testing.B, dbURL, userID string) http.Handler {
	driver, dsn := "pgx", dbURL
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxIdleConns(8)
	b.Cleanup(func() { db.Close() })
	type image struct {
		ID            string  `json:"id"`
		UserID        string  `json:"userID"`
		BatchID       string  `json:"batchID"`
		URL           string  `json:"url"`
		CompletedDate *int64  `json:"completedDate,omitempty"`
		MType         string  `json:"mtype"`
		MediaType     string  `json:"mediaType"`
		IsPublic      bool    `json:"isPublic"`
		FolderID      *string `json:"folderID,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := `SELECT id, user_id, batch_id, file_id, completed_at, mtype, media_type, is_public, folder_id
			FROM items WHERE user_id = $1 AND deleted_at IS NULL`
		args := []any{userID}
		if idx := r.URL.Query().Get("paginationIndex"); idx != "" {
			q += ` AND created_at < $2`
			n, _ := strconv.ParseInt(idx, 10, 64)
			args = append(args, n)
		}
		rows, err := db.QueryContext(r.Context(), q+` ORDER BY created_at DESC, id DESC LIMIT 101`, args...)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		out := make([]image, 0, 101)
		for rows.Next() {
			var im image
			var fileID string
			if err := rows.Scan(&im.ID, &im.UserID, &im.BatchID, &fileID, &im.CompletedDate, &im.MType, &im.MediaType,
				&im.IsPublic, &im.FolderID); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			im.URL = "http://127.0.0.1/api/getFile?id=" + fileID
			out = append(out, im)
		}
		if len(out) > 100 {
			out = out[:100]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}
