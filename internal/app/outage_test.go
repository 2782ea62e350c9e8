package app_test

import (
	"context"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

// freePort is a port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startRedis runs a Redis of the test's own on a free port; kill stops it
// (by its PID) as a crash would.
func startRedis(t *testing.T) (url string, kill func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(testsupport.RequireServicesEnv) != "" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	kill = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	for t.Context().Err() == nil {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return "redis://127.0.0.1:" + port + "/0", kill
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return "", nil
}

// get answers the status and body of GET url.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// until polls cond until it holds (the test's deadline bounds it).
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func generateItem(t *testing.T, srv *testsupport.Server, session string) string {
	t.Helper()
	env := srv.Post(t, "/api/generateImage", session, map[string]any{"prompt": "a quiet harbour", "seed": 7, "width": 256, "height": 256})
	testsupport.ExpectOK(t, env)
	var out struct{ ImageID string }
	env.Decode(t, &out)
	return out.ImageID
}

type itemState struct {
	Status string
	URL    string
}

func itemOf(t *testing.T, srv *testsupport.Server, session, id string) itemState {
	t.Helper()
	env := srv.Get(t, "/api/getItemStatus?imageID="+id, session)
	testsupport.ExpectOK(t, env)
	var s itemState
	env.Decode(t, &s)
	return s
}

func waitCompleted(t *testing.T, srv *testsupport.Server, session, id string) itemState {
	t.Helper()
	var s itemState
	until(t, "item "+id+" completed", func() bool {
		s = itemOf(t, srv, session, id)
		if s.Status == "failed" {
			t.Fatalf("item %s failed", id)
		}
		return s.Status == "completed"
	})
	return s
}

// download GETs an Item's file through srv (its URL names the public URL).
func download(t *testing.T, srv *testsupport.Server, itemURL string) (int, []byte) {
	t.Helper()
	u, err := neturl.Parse(itemURL)
	if err != nil {
		t.Fatal(err)
	}
	return get(t, srv.URL+u.RequestURI())
}

// Redis dies under a running server: rate limits fall back to this
// process's buckets (sign-in stays limited, not refused), and
// generation, downloads and new sessions go on.
func TestRedisDownRateLimitsFallBackToTheProcess(t *testing.T) {
	redisURL, killRedis := startRedis(t)
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.RedisURL = redisURL
		c.EmbeddedWorker = true
	})
	user := testsupport.SignUp(t, srv, "redis-down@example.com")
	killRedis()

	// Signing in works, and wrong passwords still run out of tokens.
	testsupport.SignIn(t, srv, user.Email, user.Password)
	limited := false
	for range 15 {
		env := srv.Post(t, "/api/authenticateUser", uuid.NewString(), map[string]any{"email": user.Email, "password": "wrong-password-123"})
		if env.Status == http.StatusServiceUnavailable {
			t.Fatalf("sign-in refused with 503 while Redis is down: %s", env.Raw)
		}
		if env.Status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("15 wrong passwords in a row were never rate limited while Redis was down")
	}
	// A new anonymous visitor gets a session (newSession:ip is limited too).
	testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser", uuid.NewString()))
	// Generation and downloads do not need Redis.
	id := generateItem(t, srv, user.SessionID)
	item := waitCompleted(t, srv, user.SessionID, id)
	if code, body := download(t, srv, item.URL); code != http.StatusOK || !strings.HasPrefix(string(body), "\x89PNG") {
		t.Fatalf("download while Redis is down: %d, %d bytes", code, len(body))
	}
	if !strings.Contains(srv.LogText(), "limiting in this process") {
		t.Fatal("the fall-back was not logged")
	}
}

// PostgreSQL goes away under two replicas and comes back: /readyz says so
// on both, and both recover by themselves: sessions, generation, and the
// NOTIFY that wakes a worker on the other replica.
func TestPostgresRestartReplicasRecover(t *testing.T) {
	url := testsupport.FreshPostgres(t)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testsupport.NewProxy(t, u.Host)
	u.Host = proxy.Addr
	proxied := u.String()
	// Replica A's embedded worker looks at the queue only when woken: a Job
	// queued on B reaches it through B's NOTIFY and A's LISTEN.
	a := testsupport.NewServer(t, proxied, testsupport.WithoutRateLimits, func(c *config.Config) {
		c.EmbeddedWorker = true
		c.Service.Generation.PollInterval = time.Hour
	})
	b := testsupport.NewServer(t, proxied, testsupport.WithoutRateLimits)
	b.App.Start(t.Context())
	t.Cleanup(func() { _ = b.App.Stop(context.Background()) })
	user := testsupport.SignUp(t, a, "pg-restart@example.com")
	first := generateItem(t, b, user.SessionID)
	waitCompleted(t, a, user.SessionID, first)

	start := time.Now()
	proxy.Cut()
	for _, srv := range []*testsupport.Server{a, b} {
		until(t, "/readyz answers 503 while PostgreSQL is away", func() bool {
			code, _ := get(t, srv.URL+"/readyz")
			return code == http.StatusServiceUnavailable
		})
	}
	// API calls answer 503 with Retry-After (retry me), not 500 (a bug),
	// whether the pool's connection was cut or a new one is refused.
	for range 3 {
		env := b.Get(t, "/api/getSelfUser", user.SessionID)
		if env.Status != http.StatusServiceUnavailable || env.Header.Get("Retry-After") == "" {
			t.Fatalf("getSelfUser without a database: %d (Retry-After %q) %s", env.Status, env.Header.Get("Retry-After"), env.Raw)
		}
	}
	t.Logf("cut: 503 seen after %s", time.Since(start))
	proxy.Restore()
	for _, srv := range []*testsupport.Server{a, b} {
		until(t, "/readyz answers 200 after PostgreSQL is back", func() bool {
			code, _ := get(t, srv.URL+"/readyz")
			return code == http.StatusOK
		})
	}
	t.Logf("restored: 200 seen after %s", time.Since(start))
	testsupport.ExpectOK(t, b.Get(t, "/api/getSelfUser", user.SessionID))
	second := generateItem(t, b, user.SessionID)
	waitCompleted(t, b, user.SessionID, second)
	t.Logf("generated after %s", time.Since(start))
}

// The S3 server is away for 10 s: downloads answer 503 meanwhile, a remote
// worker's completion is retried (not failed, not rendered again), and
// nothing is lost once S3 is back.
func TestS3DownCompletionsRetryAndDownloadsAnswer503(t *testing.T) {
	raw := testsupport.ServiceURL(t, "AIMG_TEST_S3_URL", "see scripts/s3-test-server.sh")
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal("AIMG_TEST_S3_URL does not parse")
	}
	q := u.Query()
	proxy := testsupport.NewProxy(t, q.Get("endpoint"))
	q.Set("endpoint", proxy.Addr)
	q.Set("prefix", "aimg-outage-test/"+uuid.NewString()+"/")
	u.RawQuery = q.Encode()
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits, func(c *config.Config) { c.BlobURL = u.String() })

	keyEnv := srv.AdminPost(t, "/api/createWorkerKey", map[string]any{"name": "gpu-s3"})
	testsupport.ExpectOK(t, keyEnv)
	var k struct{ Key string }
	keyEnv.Decode(t, &k)
	client := workerapi.NewClient(srv.URL, k.Key, nil)
	models, err := client.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	testsupport.StartPool(t, client, builtin.Backend{}, worker.Config{Name: "gpu-s3", Concurrency: 1, ModelIDs: models,
		PollInterval: 10 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond})
	user := testsupport.SignUp(t, srv, "s3-down@example.com")
	before := waitCompleted(t, srv, user.SessionID, generateItem(t, srv, user.SessionID))

	proxy.Cut()
	cutAt := time.Now()
	during := generateItem(t, srv, user.SessionID)
	until(t, "the server tried S3 while it was away", func() bool { return proxy.Refused() > 0 })
	if code, body := download(t, srv, before.URL); code != http.StatusServiceUnavailable {
		t.Fatalf("download while S3 is away: %d %s", code, body)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while S3 is away: %d", code)
	}
	time.Sleep(time.Until(cutAt.Add(10 * time.Second)))
	if s := itemOf(t, srv, user.SessionID, during); s.Status == "failed" {
		t.Fatalf("the Item rendered while S3 was away failed")
	}
	proxy.Restore()

	after := waitCompleted(t, srv, user.SessionID, during)
	for _, it := range []itemState{before, after} {
		if code, body := download(t, srv, it.URL); code != http.StatusOK || !strings.HasPrefix(string(body), "\x89PNG") {
			t.Fatalf("download after S3 is back: %d, %d bytes", code, len(body))
		}
	}
	// The completion was retried under its first lease: one render.
	it, err := srv.App.Store.ItemByID(t.Context(), during)
	if err != nil {
		t.Fatal(err)
	}
	job, err := srv.App.Store.JobByID(t.Context(), it.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Attempts != 1 {
		t.Fatalf("the Job took %d attempts: its completion was not retried", job.Attempts)
	}
}
