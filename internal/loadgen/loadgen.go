// Package loadgen drives AIMG servers as GPU workers and users would, with
// render time zero, to measure the control plane (`aimg bench`, issue 11):
// N simulated workers speak the worker protocol (claim, complete with a
// 1x1 PNG per Item) and M clients each queue one Item with generateImage,
// poll getItemStatus until it is completed, and start the next. Requests
// are spread over every server given (replicas of one deployment).
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/workerapi"
)

// Budgets of what the servers answer (they are the ones measured, but a
// broken one must not make the load generator hang or swell).
const (
	// maxAnswerBytes bounds an AIMG API answer read by a client.
	maxAnswerBytes = 1 << 20
	// requestTimeout bounds one API request of a client.
	requestTimeout = 30 * time.Second
	// maxLatencySamples bounds the samples kept per measure (the
	// percentiles of a longer run come from the first ones).
	maxLatencySamples = 1 << 20
)

// Config is one load run.
type Config struct {
	Servers   []string      // base URLs, e.g. http://127.0.0.1:18080
	WorkerKey string        // a key from createWorkerKey
	Workers   int           // simulated workers
	Clients   int           // simulated users, each with its own guest session
	Duration  time.Duration // how long to drive the servers
	Model     string        // the Model to queue (default "sketch")
	// Poll is the pause between two status reads of a client (default
	// 20ms; 0 polls again at once).
	Poll time.Duration
	// ServerPIDs, when set (same machine, Linux), are the server processes
	// whose CPU time the run measures (from /proc/<pid>/stat).
	ServerPIDs []int
	HTTP       *http.Client     // default: a client with keep-alive for every worker and client
	Now        func() time.Time // default time.Now
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("at least one server URL is required"))
	}
	for _, s := range c.Servers {
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			errs = append(errs, fmt.Errorf("server %q: must be an http:// or https:// URL", s))
		}
	}
	if c.WorkerKey == "" && c.Workers > 0 {
		errs = append(errs, errors.New("a worker key is required for the workers"))
	}
	if c.Workers < 0 || c.Workers > 10_000 {
		errs = append(errs, fmt.Errorf("workers %d: must be 0..10000", c.Workers))
	}
	if c.Clients < 1 || c.Clients > 10_000 {
		errs = append(errs, fmt.Errorf("clients %d: must be 1..10000", c.Clients))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %v: must be positive", c.Duration))
	}
	if c.Poll < 0 {
		errs = append(errs, fmt.Errorf("poll %v: must not be negative", c.Poll))
	}
	return errors.Join(errs...)
}

// Latencies are the percentiles of one measure.
type Latencies struct {
	Count    int
	P50, P99 time.Duration
}

// Result is what a run measured.
type Result struct {
	Duration  time.Duration
	Items     int64 // Items the clients saw completed
	Completed int64 // Jobs the workers completed
	Errors    int64 // failed requests (the first few are in FirstErrors)
	// FirstErrors are the first failures, for the operator to read.
	FirstErrors                      []string
	Enqueue, ClaimToComplete, Status Latencies
	// ServerCPU is the CPU time of ServerPIDs during the run; zero when
	// none were given or /proc could not be read.
	ServerCPU time.Duration
}

// ItemsPerSecond is the completed Items over the run's duration.
func (r *Result) ItemsPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Items) / r.Duration.Seconds()
}

// Write prints the result for people.
func (r *Result) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "duration        %v\n", r.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "items           %d completed (%.1f Items/s), %d Jobs completed by workers\n", r.Items, r.ItemsPerSecond(), r.Completed)
	line := func(name string, l Latencies) {
		fmt.Fprintf(&b, "%-15s n=%d p50=%.2fms p99=%.2fms\n", name, l.Count, ms(l.P50), ms(l.P99))
	}
	line("enqueue", r.Enqueue)
	line("claim→complete", r.ClaimToComplete)
	line("status", r.Status)
	if r.ServerCPU > 0 && r.Items > 0 {
		fmt.Fprintf(&b, "server CPU      %.2fs (%.2f ms per Item)\n", r.ServerCPU.Seconds(), ms(r.ServerCPU)/float64(r.Items))
	}
	fmt.Fprintf(&b, "errors          %d\n", r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recorder collects latencies and errors from every goroutine.
type recorder struct {
	mu          sync.Mutex
	samples     map[string][]time.Duration
	errors      atomic.Int64
	firstErrors []string
}

func (r *recorder) add(measure string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples[measure]) < maxLatencySamples {
		r.samples[measure] = append(r.samples[measure], d)
	}
}

func (r *recorder) fail(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.firstErrors) < 5 {
		r.firstErrors = append(r.firstErrors, err.Error())
	}
}

func (r *recorder) latencies(measure string) Latencies {
	r.mu.Lock()
	s := slices.Clone(r.samples[measure])
	r.mu.Unlock()
	if len(s) == 0 {
		return Latencies{}
	}
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	return Latencies{Count: len(s), P50: at(0.50), P99: at(0.99)}
}

// Run drives the servers for cfg.Duration (or until ctx ends) and returns
// what it measured. Every goroutine it starts has ended when it returns.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Model == "" {
		cfg.Model = "sketch"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.Workers + cfg.Clients,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	rec := &recorder{samples: map[string][]time.Duration{}}
	cpu0 := processesCPU(cfg.ServerPIDs)
	start := cfg.Now()
	runCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()

	var items, completed atomic.Int64
	var wg sync.WaitGroup
	output := zeroRenderPNG()
	for i := range cfg.Workers {
		w := workerapi.NewClient(cfg.Servers[i%len(cfg.Servers)], cfg.WorkerKey, cfg.HTTP)
		w.Wait = time.Second
		name := "bench-" + strconv.Itoa(i) + "-" + uuid.NewString()[:8]
		wg.Go(func() { runWorker(runCtx, w, name, output, cfg.Now, rec, &completed) })
	}
	for range cfg.Clients {
		c := &client{cfg: &cfg, session: uuid.NewString(), rec: rec}
		wg.Go(func() { c.run(runCtx, &items) })
	}
	wg.Wait()
	res := &Result{
		Duration:        cfg.Now().Sub(start),
		Items:           items.Load(),
		Completed:       completed.Load(),
		Errors:          rec.errors.Load(),
		FirstErrors:     rec.firstErrors,
		Enqueue:         rec.latencies("enqueue"),
		ClaimToComplete: rec.latencies("claim-to-complete"),
		Status:          rec.latencies("status"),
	}
	if cpu0 >= 0 {
		if cpu1 := processesCPU(cfg.ServerPIDs); cpu1 >= cpu0 {
			res.ServerCPU = cpu1 - cpu0
		}
	}
	return res, nil
}

func zeroRenderPNG() []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	return buf.Bytes()
}

// runWorker claims and completes Jobs until ctx ends. A Job claimed when
// the run ends is released, so the servers are left with nothing leased.
func runWorker(ctx context.Context, w *workerapi.Client, name string, png []byte, now func() time.Time, rec *recorder, completed *atomic.Int64) {
	defer func() {
		// A claim cut short by the run's end may have leased a Job the
		// worker never saw: give back whatever this name holds.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		defer cancel()
		if _, err := w.ReleaseWorker(ctx, name); err != nil {
			rec.fail(fmt.Errorf("release: %w", err))
		}
	}()
	for ctx.Err() == nil {
		job, err := w.Claim(ctx, name, nil)
		if aimg.IsNotFound(err) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				rec.fail(fmt.Errorf("claim: %w", err))
			}
			continue
		}
		claimed := now()
		outs := make([]aimg.ItemOutput, len(job.ItemIDs))
		for i, id := range job.ItemIDs {
			outs[i] = aimg.ItemOutput{ItemID: id, Files: []aimg.OutputFile{{ContentType: "image/png", Role: aimg.OutputImage, Data: png}}}
		}
		// The run's end does not cut a completion short: the Job would
		// stay leased until its lease expired.
		if err := w.Complete(context.WithoutCancel(ctx), job.Lease(), outs); err != nil {
			rec.fail(fmt.Errorf("complete: %w", err))
			continue
		}
		rec.add("claim-to-complete", now().Sub(claimed))
		completed.Add(1)
	}
}

// client is one user: a guest session queueing one Item at a time.
type client struct {
	cfg     *Config
	session string
	rec     *recorder
}

func (c *client) run(ctx context.Context, items *atomic.Int64) {
	body, _ := json.Marshal(map[string]any{"prompt": "a dot", "modelName": c.cfg.Model, "width": 128, "height": 128, "steps": 1})
	for ctx.Err() == nil {
		var st struct {
			ImageID string `json:"imageID"`
			Status  string `json:"status"`
		}
		t0 := c.cfg.Now()
		if err := c.call(ctx, http.MethodPost, "/api/generateImage", body, &st); err != nil {
			if ctx.Err() == nil {
				c.rec.fail(fmt.Errorf("generateImage: %w", err))
				sleep(ctx, 100*time.Millisecond) // do not spin on a failing server
			}
			continue
		}
		c.rec.add("enqueue", c.cfg.Now().Sub(t0))
		for st.Status != string(aimg.StatusCompleted) && ctx.Err() == nil {
			if st.Status == string(aimg.StatusFailed) {
				c.rec.fail(fmt.Errorf("item %s failed", st.ImageID))
				break
			}
			sleep(ctx, c.cfg.Poll)
			t := c.cfg.Now()
			if err := c.call(ctx, http.MethodGet, "/api/getItemStatus?imageID="+st.ImageID, nil, &st); err != nil {
				if ctx.Err() == nil {
					c.rec.fail(fmt.Errorf("getItemStatus: %w", err))
				}
				break
			}
			c.rec.add("status", c.cfg.Now().Sub(t))
		}
		if st.Status == string(aimg.StatusCompleted) {
			items.Add(1)
		}
	}
}

// call makes one AIMG API request on a random server and decodes the
// envelope's payload into out.
func (c *client) call(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	base := c.cfg.Servers[rand.IntN(len(c.cfg.Servers))]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Session-ID", c.session)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		HasError     bool            `json:"hasError"`
		ErrorMessage string          `json:"errorMessage"`
		Payload      json.RawMessage `json:"payload"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(&env); err != nil {
		return fmt.Errorf("status %d, not an AIMG envelope: %w", resp.StatusCode, err)
	}
	if env.HasError {
		return fmt.Errorf("status %d: %s", resp.StatusCode, env.ErrorMessage)
	}
	return json.Unmarshal(env.Payload, out)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// processesCPU sums the user and system CPU time of the processes, or
// returns -1 when there are none or one cannot be read.
func processesCPU(pids []int) time.Duration {
	if len(pids) == 0 {
		return -1
	}
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return -1
		}
		d, err := statCPU(string(raw))
		if err != nil {
			return -1
		}
		total += d
	}
	return total
}

// statCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat
// line; the command name (field 2) may hold spaces, so fields are counted
// after its closing parenthesis.
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc stat")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
