// Package cluster starts a multi-process AIMG cluster on 127.0.0.1 for
// tests: `aimg serve` replicas (embedded worker off) on one PostgreSQL
// database, one S3 bucket prefix and one Redis, and `aimg worker`
// processes (builtin backend) claiming through them. Processes are real
// child processes of the test, killed and restarted by PID; their logs are
// kept and printed when the test fails.
//
// Only tests import this package (it calls t.Fatal and needs the test
// services that CI starts: AIMG_TEST_DATABASE_URL, AIMG_TEST_S3_URL and
// AIMG_TEST_REDIS_URL); the aimg binary does not link it.
package cluster

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the harness reads the cluster's database directly

	"aimg/internal/testsupport"
)

// Environment variables of the services a cluster runs on (CI sets them).
const (
	S3Env    = "AIMG_TEST_S3_URL"
	RedisEnv = "AIMG_TEST_REDIS_URL"
)

// Options shape a cluster; the zero value is three replicas and four
// workers of the Model sketch.
type Options struct {
	Replicas int // `aimg serve` processes (default 3)
	Workers  int // `aimg worker` processes started with the cluster (default 4)
	// Worker adjusts the options of the i-th initial worker (which
	// replica it claims through, its Models, its concurrency, ...).
	Worker func(i int, w *WorkerOptions)
	// Config is YAML overlaid on BaseConfig (maps merge key by key, lists
	// replace, except models, which are appended): e.g.
	// "generation: {pollInterval: 1m}".
	Config string
	// Proxies puts a TCP proxy (testsupport.Proxy) between the replicas
	// and each of PostgreSQL, S3 and Redis, which a test cuts and
	// restores as if the service went down and came back
	// (Cluster.DBProxy, S3Proxy, RedisProxy). The harness's own checks
	// (DB, BlobKeys) go direct.
	Proxies bool
}

// WorkerOptions are one `aimg worker`'s settings.
type WorkerOptions struct {
	Replica     int      // the replica it claims through (--server); default: i mod replicas
	Name        string   // --name (default "worker-<i>"); lease owners are <key id>/<name>/<slot>
	Models      []string // --models (default: sketch)
	Concurrency int      // --concurrency (default 4)
	// Delay is the builtin backend's test-only render time per Job
	// (AIMG_WORKER_BUILTIN_DELAY): zero renders at once.
	Delay time.Duration
}

// ManualModel is a Model of the base config that no harness worker claims:
// a test drives its Jobs itself over the worker protocol (a claim through
// one replica, a cancel through another).
const ManualModel = "manual"

// BaseConfig is the service config (AIMG_CONFIG) of every cluster: short
// leases so that a dead worker's Jobs come back within seconds, the
// per-address rate limits raised (every client of the test is 127.0.0.1,
// and Redis keeps buckets across test runs), requestOTP:email as shipped,
// and the ManualModel.
const BaseConfig = `
http:
  drainDelay: 0s
generation:
  leaseDuration: 10s
  heartbeatInterval: 2s
  reaperInterval: 1s
  pollInterval: 1s
rateLimits:
  "createUser:ip": {requests: 1000000, per: 1h, burst: 1000000}
  "authenticateUser:ip": {requests: 1000000, per: 1h, burst: 1000000}
  "newSession:ip": {requests: 1000000, per: 1h, burst: 1000000}
  "requestOTP:ip": {requests: 1000000, per: 1h, burst: 1000000}
  "requestOTP:email": {requests: 5, per: 1h, burst: 3}
  "getItemEvents:user": {requests: 1000000, per: 1m, burst: 1000000}
  "workerAuth:ip": {requests: 1000000, per: 1m, burst: 1000000}
models:
  - modelID: manual
    name: "Manual (cluster tests)"
    description: "Claimed by the test itself over the worker protocol."
    mediaType: StaticImage
    kind: image
    backend: builtin
    minTier: 0
    tier0Concurrent: 4
    tier1Concurrent: 4
    tier2Concurrent: 4
    positiveTokens: []
    negativeTokens: []
    sampleImages: []
    minSteps: 1
    maxSteps: 20
    allowedWidths: [128]
    allowedHeights: [128]
    maxResolution: 16384
    defaultResolution: [128, 128]
    allowedSamplers: ["Euler a"]
    defaultSampler: "Euler a"
    minCfgScale: 1
    maxCfgScale: 10
    supportsVariations: false
    registrationWall: false
    defaultFaceFix: false
    wikiURL: ""
`

// Cluster is a running cluster. Its methods may be called from several
// goroutines, except Start-ing and Restart-ing the same Process at once.
type Cluster struct {
	t   testing.TB
	dir string
	bin string

	DatabaseURL string // the fresh PostgreSQL schema every replica uses
	BlobURL     string // AIMG_BLOB_URL: the test S3 server, a prefix of its own
	RedisURL    string
	AdminKey    string
	PublicURL   string // AIMG_PUBLIC_URL of every replica (replica 0's address: the load balancer's stand-in)
	ConfigFile  string

	// WorkerKey is the key every harness worker uses; WorkerKeyID starts
	// their lease owners.
	WorkerKey, WorkerKeyID string

	Replicas []*Process
	Workers  []*Process

	// With Options.Proxies: what the replicas reach PostgreSQL, S3 and
	// Redis through (nil without).
	DBProxy, S3Proxy, RedisProxy *testsupport.Proxy

	db   *sql.DB
	s3   *s3Prefix
	http *http.Client // API calls
	sse  *http.Client // event streams (no overall timeout)

	mu       sync.Mutex
	nworkers int
}

// Start builds cmd/aimg, starts the replicas and waits until each answers
// /readyz, makes a worker key, then starts the workers. Everything is
// stopped, and the schema and the S3 prefix removed, when the test ends.
// Without the test services the test is skipped (failed under
// AIMG_TEST_REQUIRE_SERVICES).
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	s3URL := testsupport.ServiceURL(t, S3Env, "see scripts/s3-test-server.sh")
	redisURL := testsupport.ServiceURL(t, RedisEnv, "e.g. redis://127.0.0.1:6379/15")
	dbURL := testsupport.FreshPostgres(t)
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	c := &Cluster{t: t, dir: t.TempDir(), DatabaseURL: dbURL, RedisURL: redisURL,
		AdminKey: "cluster-admin-" + randomHex(16),
		http:     &http.Client{Timeout: 60 * time.Second, Transport: newTransport()},
		sse:      &http.Client{Transport: newTransport()},
	}
	t.Cleanup(c.http.CloseIdleConnections)
	t.Cleanup(c.sse.CloseIdleConnections)
	var err error
	prefix := "aimg-cluster-" + randomHex(8) + "/"
	if c.BlobURL, c.s3, err = withPrefix(s3URL, prefix); err != nil {
		t.Fatalf("cluster: %s: %v", S3Env, err)
	}
	// Registered before the processes', so it runs after they stopped.
	t.Cleanup(func() {
		start := time.Now()
		n := c.s3.removeAll(t)
		t.Logf("cluster: removed %d S3 objects in %s", n, time.Since(start).Round(time.Millisecond))
	})
	if c.db, err = sql.Open("pgx", dbURL); err != nil {
		t.Fatalf("cluster: database: %v", err)
	}
	c.db.SetMaxOpenConns(4)
	t.Cleanup(func() { c.db.Close() })

	replicaDB, replicaBlob, replicaRedis := dbURL, c.BlobURL, redisURL
	if o.Proxies {
		if replicaDB, c.DBProxy, err = proxied(t, dbURL, urlHost); err == nil {
			if replicaBlob, c.S3Proxy, err = proxied(t, c.BlobURL, s3Endpoint); err == nil {
				replicaRedis, c.RedisProxy, err = proxied(t, redisURL, urlHost)
			}
		}
		if err != nil {
			t.Fatalf("cluster: proxies: %v", err)
		}
	}

	cfg, err := mergeConfig(BaseConfig, o.Config)
	if err != nil {
		t.Fatalf("cluster: Options.Config: %v", err)
	}
	c.ConfigFile = filepath.Join(c.dir, "cluster.yaml")
	if err := os.WriteFile(c.ConfigFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c.bin = build(t, c.dir)

	secretsKey := randomHex(32)
	for i := range o.Replicas {
		addr := freeAddr(t)
		if i == 0 {
			c.PublicURL = "http://" + addr
		}
		dataDir := filepath.Join(c.dir, fmt.Sprintf("replica-%d", i))
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			t.Fatal(err)
		}
		p := c.newProcess(fmt.Sprintf("replica-%d", i), []string{"serve"}, map[string]string{
			"AIMG_ADDR": addr, "AIMG_PUBLIC_URL": c.PublicURL, "AIMG_DATA_DIR": dataDir,
			"AIMG_DATABASE_URL": replicaDB, "AIMG_BLOB_URL": replicaBlob, "AIMG_REDIS_URL": replicaRedis,
			"AIMG_ADMIN_KEY": c.AdminKey, "AIMG_SECRETS_KEY": secretsKey,
			"AIMG_EMBEDDED_WORKER": "false", "AIMG_CONFIG": c.ConfigFile,
			"AIMG_LOG_FORMAT": "json", // for LogRecords
		})
		p.URL = "http://" + addr
		c.Replicas = append(c.Replicas, p)
	}
	// One after the other: the first applies the migrations; started
	// together, all but one would wait for the migration lock, which goose
	// tries again only every 5 s.
	for _, p := range c.Replicas {
		p.Start(t)
	}

	var key struct {
		Key   string `json:"key"`
		KeyID string `json:"keyID"`
	}
	env, err := c.DoOn(t.Context(), 0, Req{Method: http.MethodPost, Path: "/api/createWorkerKey", Admin: true,
		Body: map[string]any{"name": "cluster"}})
	if err == nil {
		err = env.Decode(&key)
	}
	if err != nil || key.Key == "" {
		t.Fatalf("cluster: createWorkerKey: %v", err)
	}
	c.WorkerKey, c.WorkerKeyID = key.Key, key.KeyID

	for i := range o.Workers {
		w := WorkerOptions{Replica: i % o.Replicas}
		if o.Worker != nil {
			o.Worker(i, &w)
		}
		c.Workers = append(c.Workers, c.AddWorker(t, w))
	}
	return c
}

// AddWorker starts one more `aimg worker` (its name defaults to
// worker-<n>, n counting every worker the cluster started).
func (c *Cluster) AddWorker(t testing.TB, w WorkerOptions) *Process {
	t.Helper()
	c.mu.Lock()
	n := c.nworkers
	c.nworkers++
	c.mu.Unlock()
	if w.Name == "" {
		w.Name = fmt.Sprintf("worker-%d", n)
	}
	if len(w.Models) == 0 {
		w.Models = []string{"sketch"}
	}
	if w.Concurrency == 0 {
		w.Concurrency = 4
	}
	p := c.newProcess(w.Name, []string{"worker"}, map[string]string{
		"AIMG_WORKER_SERVER": c.Replicas[w.Replica].URL, "AIMG_WORKER_KEY": c.WorkerKey,
		"AIMG_WORKER_BACKEND": "builtin", "AIMG_WORKER_MODELS": strings.Join(w.Models, ","),
		"AIMG_WORKER_CONCURRENCY": strconv.Itoa(w.Concurrency), "AIMG_WORKER_NAME": w.Name,
		"AIMG_WORKER_SHUTDOWN_TIMEOUT": "5s", "AIMG_WORKER_BUILTIN_DELAY": w.Delay.String(),
	})
	p.LeaseOwnerPrefix = c.WorkerKeyID + "/" + w.Name + "/"
	p.Start(t)
	return p
}

// DB is the cluster's database, for the checks of a test (read it; the
// replicas own it).
func (c *Cluster) DB() *sql.DB { return c.db }

// BlobKeys lists the keys of every object the replicas stored in S3
// (without the cluster's prefix, as the files table names them).
func (c *Cluster) BlobKeys(ctx context.Context) ([]string, error) { return c.s3.list(ctx) }

// PutBlob stores an object in the cluster's S3 prefix under key (as the
// files table names it), for a test that sets up what a crash left.
func (c *Cluster) PutBlob(ctx context.Context, key string, data []byte) error {
	return c.s3.put(ctx, key, data)
}

// Dir is the cluster's temporary directory (logs, data dirs, config).
func (c *Cluster) Dir() string { return c.dir }

func (c *Cluster) newProcess(name string, args []string, env map[string]string) *Process {
	p := &Process{Name: name, c: c, args: args, logPath: filepath.Join(c.dir, name+".log")}
	for _, kv := range os.Environ() {
		// The child sees only what the harness gives it of AIMG's
		// settings, never the test's own AIMG_TEST_* variables.
		if !strings.HasPrefix(kv, "AIMG_") {
			p.env = append(p.env, kv)
		}
	}
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("---- log of %s (last %d lines) ----\n%s", p.Name, logTailLines, p.LogTail(logTailLines))
		}
	})
	// Cleanups run last-registered first: workers stop before replicas.
	c.t.Cleanup(func() {
		start := time.Now()
		if err := p.Stop(10 * time.Second); err != nil {
			c.t.Logf("cluster: %v", err)
		} else if d := time.Since(start); d > 2*time.Second {
			c.t.Logf("cluster: %s took %s to stop", p.Name, d.Round(time.Millisecond))
		}
	})
	return p
}

const logTailLines = 80

// Process is one child process: a replica or a worker.
type Process struct {
	Name string
	// URL is a replica's base URL (the same on every start).
	URL string
	// LeaseOwnerPrefix starts the lease owner of every Job a worker holds.
	LeaseOwnerPrefix string

	c       *Cluster
	args    []string
	env     []string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when the current run ended
	starts int
}

// Start starts the process (again, after Kill or Stop); a replica is
// waited for until its /readyz answers 200.
func (p *Process) Start(t testing.TB) {
	t.Helper()
	p.startNoWait(t)
	if p.URL != "" {
		p.c.waitReady(t, p)
	}
}

func (p *Process) startNoWait(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			t.Fatalf("cluster: %s is already running (pid %d)", p.Name, p.cmd.Process.Pid)
		}
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.starts++
	fmt.Fprintf(logFile, "==== start %d of %s at %s ====\n", p.starts, p.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.c.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("cluster: start %s: %v", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		// The only goroutine per run; it ends with the process.
		err := cmd.Wait()
		fmt.Fprintf(logFile, "==== %s exited: %v ====\n", p.Name, err)
		logFile.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
}

// PID is the running process's id (0 when it is not running).
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.isExited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running tells whether the process is running.
func (p *Process) Running() bool { return p.PID() != 0 }

func (p *Process) isExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !isDone(exited) {
		return err
	}
	<-exited
	return nil
}

// Stop sends SIGTERM (a graceful stop) and waits up to timeout, then
// kills the process.
func (p *Process) Stop(timeout time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || isDone(exited) {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process would not act on SIGTERM
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !isDone(exited) {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		_ = p.Kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM: killed", p.Name, timeout)
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Pause sends SIGSTOP: the process holds its connections and leases but
// does nothing (a hung host, a long GC pause), until Resume. The harness
// resumes a paused process before it stops it.
func (p *Process) Pause() error { return p.signal(syscall.SIGSTOP) }

// Resume sends SIGCONT to a paused process.
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil || isDone(exited) {
		return fmt.Errorf("%s is not running", p.Name)
	}
	return cmd.Process.Signal(sig)
}

// Log returns everything the process printed, over all its runs.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// LogRecords are the replica's log records (JSON lines) whose msg is msg,
// over all its runs.
func (p *Process) LogRecords(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(p.Log()) {
		if !strings.Contains(line, msg) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// LogTail returns the last n lines of Log.
func (p *Process) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady waits until the replica's /readyz answers 200; it fails the
// test when the process exits first or after a minute.
func (c *Cluster) waitReady(t testing.TB, p *Process) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		if isDone(exited) {
			t.Fatalf("cluster: %s exited while starting:\n%s", p.Name, p.LogTail(logTailLines))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/readyz", nil)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster: %s is not ready after a minute (last: %v):\n%s", p.Name, err, p.LogTail(logTailLines))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// build compiles cmd/aimg into dir (the build cache makes every build
// after the first a link).
func build(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "aimg")
	cmd := exec.Command("go", "build", "-o", bin, "aimg/cmd/aimg")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cluster: go build aimg/cmd/aimg: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a 127.0.0.1 port that the OS just gave out. The
// listener is closed again so that the replica can bind it, and keep it
// across restarts (its workers' --server stays right).
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	return tr
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// proxied starts a testsupport.Proxy to the host:port at that raw names
// and returns raw naming the proxy instead.
func proxied(t testing.TB, raw string, at addrIn) (string, *testsupport.Proxy, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("a service URL does not parse")
	}
	target := at.get(u)
	if target == "" {
		return "", nil, fmt.Errorf("%s: no host:port", u.Redacted())
	}
	p := testsupport.NewProxy(t, target)
	at.set(u, p.Addr)
	return u.String(), p, nil
}

// addrIn is where a service URL names its server's host:port.
type addrIn struct {
	get func(*url.URL) string
	set func(*url.URL, string)
}

var (
	urlHost = addrIn{func(u *url.URL) string { return u.Host }, func(u *url.URL, h string) { u.Host = h }}
	// An AIMG_BLOB_URL names the S3 server in its endpoint parameter.
	s3Endpoint = addrIn{func(u *url.URL) string { return u.Query().Get("endpoint") }, func(u *url.URL, h string) {
		q := u.Query()
		q.Set("endpoint", h)
		u.RawQuery = q.Encode()
	}}
)

// withPrefix gives the S3 URL of the test server a key prefix of its own.
func withPrefix(raw, prefix string) (string, *s3Prefix, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, fmt.Errorf("does not parse")
	}
	q := u.Query()
	if p := q.Get("prefix"); p != "" {
		prefix = strings.TrimSuffix(p, "/") + "/" + prefix
	}
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	s, err := newS3Prefix(u, prefix)
	if err != nil {
		return "", nil, err
	}
	return u.String(), s, nil
}
