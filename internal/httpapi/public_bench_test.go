package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// Benchmark knobs (docs/performance.md, "Public feeds" and "likeItems"):
//
//	AIMG_BENCH_ITEMS                Items seeded per run (default 10000)
//	AIMG_BENCH_PUBLIC_SQLITE_URL    a database seeded by `aimg dev seed --public`
//	AIMG_BENCH_PUBLIC_POSTGRES_URL  the same on PostgreSQL
//
// Without a seeded database each run seeds a fresh one.
func BenchmarkPublicFeeds(b *testing.B) {
	n := benchItems(b)
	testsupport.ForEachBenchDatabase(b, "AIMG_BENCH_PUBLIC_SQLITE_URL", "AIMG_BENCH_PUBLIC_POSTGRES_URL", func(b *testing.B, url string) {
		benchPublicFeeds(b, url, n)
	})
}

func benchItems(b *testing.B) int {
	n := 10000
	if v := os.Getenv("AIMG_BENCH_ITEMS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 200 {
			b.Fatalf("AIMG_BENCH_ITEMS=%q: want an integer >= 200", v)
		}
	}
	return n
}

func benchPublicFeeds(b *testing.B, dbURL string, n int) {
	srv := testsupport.NewServer(b, dbURL, testsupport.WithoutRateLimits)
	ctx := context.Background()
	st := srv.App.Store
	benchPublicUser(b, st, n)
	all, err := st.CountPublicItems(ctx, "")
	if err != nil || all < 200 {
		b.Fatalf("%d public Items (%v)", all, err)
	}
	// The deep page starts 90% of the way down the feed.
	deep, err := st.ListPublicItems(ctx, aimg.PublicFilter{}, aimg.Page{Reverse: true, Limit: 1, Skip: int(all / 10)})
	if err != nil || len(deep.Items) != 1 {
		b.Fatalf("deep index: %v", err)
	}
	deepIndex := strconv.FormatInt(deep.Items[0].CreatedAt.UnixMilli(), 10)
	minimal := httptest.NewServer(minimalFeedHandler(b, dbURL))
	b.Cleanup(minimal.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, page := range []struct{ name, aimg, minimal string }{
		{"creations/first", "/api/getPublicCreations?limit=100", "/?key=created_at"},
		{"creations/deep", "/api/getPublicCreations?limit=100&paginationIndex=" + deepIndex, "/?key=created_at&paginationIndex=" + deepIndex},
		{"latest/first", "/api/getLatestItems?limit=100", "/?key=folder_added_at"},
	} {
		for _, server := range []struct{ name, url string }{{"aimg", srv.URL + page.aimg}, {"minimal", minimal.URL + page.minimal}} {
			get := func() int { return benchGet(b, client, server.url, "") }
			b.Run(page.name+"/"+server.name, func(b *testing.B) {
				b.SetBytes(int64(get()))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					get()
				}
			})
			b.Run(page.name+"/"+server.name+"/16clients", func(b *testing.B) {
				b.SetParallelism(8) // 8 per GOMAXPROCS: 16 on 2 vCPUs
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get()
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

func benchGet(b *testing.B, client *http.Client, url, session string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if session != "" {
		req.Header.Set("X-Session-ID", session)
	}
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

// benchPublicUser finds the seeded user of a prepared database, or
// creates one with n Items published in one Public Folder.
func benchPublicUser(b *testing.B, st *store.Store, n int) string {
	ctx := context.Background()
	if u, err := st.UserByEmail(ctx, "localhost", "seed@example.com"); err == nil {
		return u.ID
	}
	id := uuid.NewString()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateUser(ctx, &aimg.User{ID: id, Domain: "localhost", Email: "seed@example.com", Username: "bench",
		CreatedAt: t0, UpdatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	folder := &aimg.Folder{ID: "p-" + uuid.NewString(), UserID: id, Name: "bench", CreatedAt: t0}
	if err := st.CreateFolder(ctx, folder); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; {
		chunk := make([]*aimg.Item, 0, min(10000, n-done))
		for range cap(chunk) {
			it := publishedItem(id, folder.ID, 0, 0)
			it.CreatedAt = t0.Add(time.Duration(done) * time.Millisecond)
			at := it.CreatedAt
			it.FolderAddedAt = &at
			chunk = append(chunk, it)
			done++
		}
		if err := st.InsertItems(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	return id
}

// minimalFeedHandler is the floor for the feeds: plain net/http and
// database/sql running the feed's SQL (the same statements: the count for
// getPublicCreations, the page with the same columns, predicate, keyset
// and index, the page's tags) and writing the rows as JSON; no session,
// envelope, views or ISO dates.
func minimalFeedHandler(b *testing.B, dbURL string) http.Handler {
	db := benchDB(b, dbURL, true)
	type image struct {
		ID, UserID, BatchID, JobID, MType, MediaType, Status, ModelID, URL string
		FolderID                                                           *string
		FolderAdded                                                        *int64
		IsPublic                                                           bool
		Approval                                                           string
		IsProtected                                                        bool
		Views, Likes, Dislikes, Created, Updated                           int64
		Completed, Deleted                                                 *int64
	}
	sqlite := strings.HasPrefix(dbURL, "sqlite:")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		var total int64
		if key == "created_at" {
			if err := db.QueryRowContext(r.Context(), `SELECT COALESCE(SUM(c.n), 0) FROM item_counts c JOIN users u ON u.id = c.user_id
				WHERE c.folder_key LIKE 'p-%' AND u.deleted_at IS NULL AND u.abuse < 2`).Scan(&total); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		from := "items"
		if sqlite {
			from += map[string]string{"created_at": " INDEXED BY items_public_created", "folder_added_at": " INDEXED BY items_public_published"}[key]
		}
		q := `SELECT id, user_id, batch_id, job_id, mtype, media_type, status, model_id, file_id, folder_id,
			folder_added_at, is_public, public_approval_status, is_protected, view_count, like_count, dislike_count,
			created_at, updated_at, completed_at, deleted_at FROM ` + from + `
			WHERE is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL
			AND (SELECT u.deleted_at IS NULL AND u.abuse < 2 FROM users u WHERE u.id = items.user_id)`
		var args []any
		if idx := r.URL.Query().Get("paginationIndex"); idx != "" {
			n, _ := strconv.ParseInt(idx, 10, 64)
			q += ` AND ` + key + ` < $1`
			args = append(args, n)
		}
		rows, err := db.QueryContext(r.Context(), q+` ORDER BY `+key+` DESC, id DESC LIMIT 101`, args...)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		out := make([]image, 0, 101)
		for rows.Next() {
			var im image
			var fileID string
			if err := rows.Scan(&im.ID, &im.UserID, &im.BatchID, &im.JobID, &im.MType, &im.MediaType, &im.Status, &im.ModelID,
				&fileID, &im.FolderID, &im.FolderAdded, &im.IsPublic, &im.Approval, &im.IsProtected, &im.Views, &im.Likes,
				&im.Dislikes, &im.Created, &im.Updated, &im.Completed, &im.Deleted); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			im.URL = "http://127.0.0.1/api/getFile?id=" + fileID
			out = append(out, im)
		}
		if len(out) > 100 {
			out = out[:100]
		}
		rows.Close()
		// The page's tags, in one query, as the endpoint reads them.
		tags := map[string][]string{}
		if len(out) > 0 {
			ph := make([]string, len(out))
			ids := make([]any, len(out))
			for i, im := range out {
				ph[i], ids[i] = "$"+strconv.Itoa(i+1), im.ID
			}
			trows, err := db.QueryContext(r.Context(), `SELECT item_id, tag FROM item_tags WHERE item_id IN (`+strings.Join(ph, ", ")+`) ORDER BY item_id, tag`, ids...)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			for trows.Next() {
				var id, tag string
				if err := trows.Scan(&id, &tag); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				tags[id] = append(tags[id], tag)
			}
			trows.Close()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": out, "total": total, "tags": tags})
	})
}

func benchDB(b *testing.B, dbURL string, readOnly bool) *sql.DB {
	driver, dsn := "pgx", dbURL
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		if readOnly {
			dsn += "&_pragma=query_only(1)"
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxIdleConns(16)
	if !readOnly && driver == "sqlite" {
		db.SetMaxOpenConns(1) // one writer, as the store does
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// likeItems from 16 concurrent clients, each a signed-in user toggling its
// like on a random one of 1,000 public Items, through the full app and
// through a minimal net/http handler running the same transaction (lock
// the Item, read the caller's reaction, insert or delete it; the triggers
// keep the counts) with the user taken from a header.
func BenchmarkLikeItems(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchLikeItems(b, "sqlite:"+b.TempDir()+"/bench.db") })
	b.Run("postgres", func(b *testing.B) { benchLikeItems(b, testsupport.FreshPostgres(b)) })
}

func benchLikeItems(b *testing.B, dbURL string) {
	srv := testsupport.NewServer(b, dbURL, testsupport.WithoutRateLimits)
	ctx := context.Background()
	st := srv.App.Store
	benchPublicUser(b, st, 1000)
	page, err := st.ListPublicItems(ctx, aimg.PublicFilter{}, aimg.Page{Limit: 1000})
	if err != nil || len(page.Items) != 1000 {
		b.Fatalf("items: %v", err)
	}
	ids := make([]string, len(page.Items))
	for i, it := range page.Items {
		ids[i] = it.ID
	}
	type client struct{ user, session string }
	clients := make([]client, 16)
	now := srv.Clock.Now()
	for i := range clients {
		u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: "liker" + strconv.Itoa(i) + "@example.com",
			Username: "liker" + strconv.Itoa(i), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		s := &aimg.Session{ID: uuid.NewString(), UserID: u.ID, Authenticated: true, CreatedAt: now, LastSeenAt: now}
		if err := st.CreateSession(ctx, s, now.Add(24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		clients[i] = client{u.ID, s.ID}
	}
	minimal := httptest.NewServer(minimalLikeHandler(b, dbURL))
	b.Cleanup(minimal.Close)
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(url, session, user, body string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Session-ID", session)
		req.Header.Set("X-User-ID", user)
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: status %d", url, resp.StatusCode)
		}
	}
	for _, server := range []struct{ name, like, unlike string }{
		{"aimg", srv.URL + "/api/likeItems", srv.URL + "/api/unlikeItems"},
		{"minimal", minimal.URL + "/like", minimal.URL + "/unlike"},
	} {
		b.Run(server.name+"/16clients", func(b *testing.B) {
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := clients[int(next.Add(1)-1)%len(clients)]
				rng := rand.New(rand.NewPCG(uint64(next.Load()), 1))
				for pb.Next() {
					id := ids[rng.IntN(len(ids))]
					body := `{"imageIDs":["` + id + `"]}`
					post(server.like, c.session, c.user, body)
					post(server.unlike, c.session, c.user, body)
				}
			})
			b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
	// The counters are exact after all of it: every like was undone.
	for _, id := range ids[:50] {
		likes, _, err := st.ReactionCounts(ctx, id)
		if it, _ := st.ItemByID(ctx, id); err != nil || likes != 0 || it.LikeCount != 0 {
			b.Fatalf("%s: %d likes stored %d (%v)", id, likes, it.LikeCount, err)
		}
	}
}

// minimalLikeHandler does likeItems' and unlikeItems' SQL for one Item,
// the user from X-User-ID: no session, envelope, visibility or abuse checks.
func minimalLikeHandler(b *testing.B, dbURL string) http.Handler {
	db := benchDB(b, dbURL, false)
	postgres := !strings.HasPrefix(dbURL, "sqlite:")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ImageIDs []string `json:"imageIDs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.ImageIDs) != 1 {
			http.Error(w, "bad body", 400)
			return
		}
		user, id := r.Header.Get("X-User-ID"), body.ImageIDs[0]
		tx, err := db.BeginTx(r.Context(), nil)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer tx.Rollback()
		lock := ""
		if postgres {
			lock = " FOR UPDATE"
		}
		var status string
		if err := tx.QueryRowContext(r.Context(), `SELECT status FROM items WHERE id = $1`+lock, id).Scan(&status); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var kind sql.NullString
		_ = tx.QueryRowContext(r.Context(), `SELECT kind FROM reactions WHERE user_id = $1 AND item_id = $2`, user, id).Scan(&kind)
		if strings.HasSuffix(r.URL.Path, "/unlike") {
			_, err = tx.ExecContext(r.Context(), `DELETE FROM reactions WHERE user_id = $1 AND kind = 'like' AND item_id = $2`, user, id)
		} else {
			_, err = tx.ExecContext(r.Context(), `INSERT INTO reactions (user_id, item_id, kind, created_at) VALUES ($1, $2, 'like', $3)
				ON CONFLICT (user_id, item_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at`, user, id, time.Now().UnixMilli())
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":"` + id + `","success":true}]`))
	})
}
