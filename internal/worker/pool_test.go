package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/blob"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/store"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
)

// selfGuests is the Guests of tests whose callers always have a user.
type selfGuests struct{}

func (selfGuests) GuestUser(_ context.Context, c aimg.Caller) (*aimg.User, error) { return c.User, nil }

// countingFiles counts the output files stored and removed.
type countingFiles struct {
	*files.Service
	puts, removes atomic.Int64
}

func (c *countingFiles) StoreBlob(ctx context.Context, in files.PutInput) (*aimg.File, error) {
	f, err := c.Service.StoreBlob(ctx, in)
	if err == nil {
		c.puts.Add(1)
	}
	return f, err
}

func (c *countingFiles) RemoveStored(ctx context.Context, id, blobKey string) (bool, error) {
	ok, err := c.Service.RemoveStored(ctx, id, blobKey)
	if ok {
		c.removes.Add(1)
	}
	return ok, err
}

type fixture struct {
	st    *store.Store
	svc   *generation.Service
	files *countingFiles
	clock *testsupport.Clock
	user  *aimg.User
	cfg   config.Service
}

func newFixture(t *testing.T, url string) *fixture {
	t.Helper()
	st := testsupport.OpenStore(t, url)
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := testsupport.NewClock()
	fs := &countingFiles{Service: files.New(st, blobs, "http://aimg.test", clock.Now, nil, files.Resizing{})}
	cfg, err := config.LoadService("")
	if err != nil {
		t.Fatal(err)
	}
	svc := generation.New(st, fs, selfGuests{}, cfg, nil, clock.Now)
	u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Tier: 2, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, svc: svc, files: fs, clock: clock, user: u, cfg: cfg}
}

func (f *fixture) generate(t *testing.T) *generation.Status {
	t.Helper()
	steps, w, h := 2, 128, 128
	st, err := f.svc.GenerateImage(context.Background(), aimg.Caller{User: f.user}, generation.ImageRequest{
		Prompt: "a red sun", ModelName: "sketch", Steps: &steps, Width: &w, Height: &h,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) item(t *testing.T, id string) *aimg.Item {
	t.Helper()
	it, err := f.st.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// waitFor polls cond (bounded, no timing assertion) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// newPool is worker.NewPool for a config that must be valid.
func newPool(t *testing.T, src worker.JobSource, b worker.Backend, cfg worker.Config, log *slog.Logger) *worker.Pool {
	t.Helper()
	p, err := worker.NewPool(src, b, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) poolConfig(name string) worker.Config {
	return worker.Config{Name: name, Concurrency: 1, ModelIDs: []string{"sketch"},
		HeartbeatInterval: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond}
}

// stopSoon stops p, giving up on a hung render after a while so that a
// failed test ends instead of waiting on it forever.
func stopSoon(p *worker.Pool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.Stop(ctx)
}

// blockingBackend renders nothing until released, like a hung GPU.
type blockingBackend struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlocking() *blockingBackend {
	return &blockingBackend{started: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingBackend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	b.once.Do(func() { close(b.started) })
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.release:
	}
	return builtin.Backend{}.Render(context.Background(), job, progress)
}

// silentSource drops heartbeats, as a worker cut off from the server would.
type silentSource struct {
	worker.JobSource
	completeErr chan error
}

func (silentSource) Heartbeat(context.Context, aimg.Lease, float64) error { return nil }

func (s silentSource) Complete(ctx context.Context, l aimg.Lease, out []aimg.ItemOutput) error {
	err := s.JobSource.Complete(ctx, l, out)
	s.completeErr <- err
	return err
}

// A worker that stops heartbeating loses its lease, the Job completes on
// another worker, and the first worker's late result is refused.
func TestLostLeaseCompletesElsewhere(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()
		st := f.generate(t)

		hung := newBlocking()
		stale := silentSource{JobSource: f.svc, completeErr: make(chan error, 1)}
		a := newPool(t, stale, hung, f.poolConfig("a"), nil)
		a.Start(ctx)
		defer stopSoon(a)
		<-hung.started
		if it := f.item(t, st.ImageID); it.Status != aimg.StatusProcessing {
			t.Fatalf("item %s while worker a renders", it.Status)
		}

		// No heartbeat arrives; once the lease is over the reaper requeues the Job.
		f.clock.Advance(f.cfg.Generation.LeaseDuration + time.Second)
		f.svc.ReapOnce(ctx)
		if it := f.item(t, st.ImageID); it.Status != aimg.StatusQueued {
			t.Fatalf("item %s after the reaper, want queued", it.Status)
		}

		b := newPool(t, f.svc, builtin.Backend{}, f.poolConfig("b"), nil)
		b.Start(ctx)
		defer stopSoon(b)
		waitFor(t, "worker b to complete the job", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusCompleted })
		done := f.item(t, st.ImageID)
		job, _ := f.st.JobByID(ctx, done.JobID)
		if job.Attempts != 2 || job.LeaseOwner != "b/0" {
			t.Fatalf("job completed by %s on attempt %d, want b/0 on 2", job.LeaseOwner, job.Attempts)
		}

		// Worker a wakes up and tries to complete: refused, nothing changes.
		close(hung.release)
		if err := <-stale.completeErr; !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("stale completion: %v, want lease lost", err)
		}
		after := f.item(t, st.ImageID)
		if after.FileID != done.FileID || !after.CompletedAt.Equal(*done.CompletedAt) {
			t.Fatalf("stale worker changed the item: %+v", after)
		}
		if puts, removes := f.files.puts.Load(), f.files.removes.Load(); puts-removes != 1 {
			t.Fatalf("%d files stored, %d removed: want exactly one output kept", puts, removes)
		}
	})
}

// A heartbeat that finds the lease gone stops the render at once.
func TestHeartbeatLeaseLostCancelsRender(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	ctx := context.Background()
	st := f.generate(t)
	hung := newBlocking()
	a := newPool(t, f.svc, hung, f.poolConfig("a"), nil)
	a.Start(ctx)
	defer stopSoon(a)
	<-hung.started
	f.clock.Advance(f.cfg.Generation.LeaseDuration + time.Second)
	f.svc.ReapOnce(ctx) // requeued: a's next heartbeat is refused
	// a has one slot: it can claim the Job anew (attempt 2) only after the
	// lost lease stopped its first render. (A moment of idleness between the
	// two would be too brief to observe: the slot claims again at once.)
	waitFor(t, "worker a to give the job up and claim it again", func() bool {
		job, err := f.st.JobByID(ctx, f.item(t, st.ImageID).JobID)
		return err == nil && job.Attempts == 2 && job.Status == aimg.JobRunning
	})
	close(hung.release)
	waitFor(t, "completion", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusCompleted })
	job, _ := f.st.JobByID(ctx, f.item(t, st.ImageID).JobID)
	if job.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", job.Attempts)
	}
}

// Stop lets running Jobs finish; past its deadline it releases them unspent.
func TestStopDrainsOrReleases(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()

		// Finishes within the deadline: completed.
		st := f.generate(t)
		slow := newBlocking()
		p := newPool(t, f.svc, slow, f.poolConfig("p"), nil)
		p.Start(ctx)
		<-slow.started
		stopped := make(chan error, 1)
		go func() { stopped <- p.Stop(ctx) }()
		close(slow.release)
		if err := <-stopped; err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
		if it := f.item(t, st.ImageID); it.Status != aimg.StatusCompleted {
			t.Fatalf("drained job item %s", it.Status)
		}

		// Does not finish: released, its attempt not spent.
		st = f.generate(t)
		hung := newBlocking()
		q := newPool(t, f.svc, hung, f.poolConfig("q"), nil)
		q.Start(ctx)
		<-hung.started
		dctx, cancel := context.WithCancel(ctx)
		cancel() // the deadline has passed already
		if err := q.Stop(dctx); err == nil {
			t.Fatal("stop past the deadline reported no released jobs")
		}
		if err := q.Stop(ctx); err == nil {
			t.Fatal("second Stop forgot the result") // Stop is idempotent
		}
		it := f.item(t, st.ImageID)
		job, _ := f.st.JobByID(ctx, it.JobID)
		if it.Status != aimg.StatusQueued || job.Status != aimg.JobQueued || job.Attempts != 0 {
			t.Fatalf("released: item %s job %s attempts %d", it.Status, job.Status, job.Attempts)
		}
		if pos, _ := f.st.QueuePosition(ctx, job.ID); pos != 1 {
			t.Fatalf("released job at position %d, want 1", pos)
		}
	})
}

// failingBackend fails every render.
type failingBackend struct{ err error }

func (b failingBackend) Render(context.Context, worker.RenderJob, func(float64)) ([]aimg.ItemOutput, error) {
	return nil, b.err
}

// Backend errors are retried up to maxAttempts; invalid jobs fail at once.
func TestBackendFailures(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	ctx := context.Background()
	st := f.generate(t)
	p := newPool(t, f.svc, failingBackend{errors.New("GPU on fire")}, f.poolConfig("p"), nil)
	p.Start(ctx)
	waitFor(t, "the job to fail", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusFailed })
	p.Stop(ctx)
	it := f.item(t, st.ImageID)
	job, _ := f.st.JobByID(ctx, it.JobID)
	if it.Error != "GPU on fire" || job.Attempts != f.cfg.Generation.MaxAttempts {
		t.Fatalf("failed item %q after %d attempts", it.Error, job.Attempts)
	}

	st = f.generate(t)
	q := newPool(t, f.svc, failingBackend{aimg.Invalid("width", "too wide")}, f.poolConfig("q"), nil)
	q.Start(ctx)
	waitFor(t, "the invalid job to fail", func() bool { return f.item(t, st.ImageID).Status == aimg.StatusFailed })
	q.Stop(ctx)
	job, _ = f.st.JobByID(ctx, f.item(t, st.ImageID).JobID)
	if job.Attempts != 1 {
		t.Fatalf("invalid job tried %d times, want 1", job.Attempts)
	}
}

// panickingBackend crashes on every job, like a buggy backend.
type panickingBackend struct{}

func (panickingBackend) Render(context.Context, worker.RenderJob, func(float64)) ([]aimg.ItemOutput, error) {
	var m map[string]int
	m["boom"]++ // a nil map write: a real runtime panic
	return nil, nil
}

// A backend that panics fails its Job once; the pool and the process go on.
func TestBackendPanicFailsTheJobNotTheServer(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	ctx := context.Background()
	first, second := f.generate(t), f.generate(t)
	p := newPool(t, f.svc, panickingBackend{}, f.poolConfig("p"), nil)
	p.Start(ctx)
	waitFor(t, "both jobs to fail", func() bool {
		return f.item(t, first.ImageID).Status == aimg.StatusFailed && f.item(t, second.ImageID).Status == aimg.StatusFailed
	})
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	it := f.item(t, first.ImageID)
	job, _ := f.st.JobByID(ctx, it.JobID)
	if job.Attempts != 1 || !strings.Contains(it.Error, "renderer failed") {
		t.Fatalf("item error %q after %d attempts", it.Error, job.Attempts)
	}
}

// emptySource never has a Job.
type emptySource struct{ worker.JobSource }

func (emptySource) ClaimJobs(context.Context, []string, []string) ([]*aimg.Job, error) {
	return nil, aimg.Errorf(aimg.CodeNotFound, "No queued job")
}

func (emptySource) RecoverWorker(context.Context, string) (int, int, error) { return 0, 0, nil }

// A Config with zero fields gets the documented defaults; a bad one is an
// error naming the field, not a panic (a zero PollInterval used to panic in
// time.NewTicker, a zero Concurrency was patched silently).
func TestConfigDefaultsAndValidation(t *testing.T) {
	p, err := worker.NewPool(emptySource{}, nil, worker.Config{ModelIDs: []string{"m"}}, nil)
	if err != nil {
		t.Fatalf("zero config with a Model: %v", err)
	}
	if err := worker.ValidName(p.Name()); err != nil {
		t.Fatalf("generated name %q: %v", p.Name(), err)
	}
	p.Start(context.Background()) // a zero PollInterval got its default: no panic
	stopSoon(p)
	for name, tc := range map[string]struct {
		cfg  worker.Config
		want string
	}{
		"no models":        {worker.Config{}, "ModelIDs"},
		"empty model":      {worker.Config{ModelIDs: []string{""}}, "ModelIDs[0]"},
		"negative slots":   {worker.Config{ModelIDs: []string{"m"}, Concurrency: -1}, "Concurrency"},
		"negative poll":    {worker.Config{ModelIDs: []string{"m"}, PollInterval: -time.Second}, "PollInterval"},
		"negative beat":    {worker.Config{ModelIDs: []string{"m"}, HeartbeatInterval: -1}, "HeartbeatInterval"},
		"slash in name":    {worker.Config{ModelIDs: []string{"m"}, Name: "a/b"}, "Name"},
		"space in name":    {worker.Config{ModelIDs: []string{"m"}, Name: "a b"}, "Name"},
		"too many slots":   {worker.Config{ModelIDs: []string{"m"}, Concurrency: 5000}, "Concurrency"},
		"negative timeout": {worker.Config{ModelIDs: []string{"m"}, CallTimeout: -1}, "CallTimeout"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := worker.NewPool(nil, nil, tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), "worker config "+tc.want+":") {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// The registry checks Models against their backend, describes them, and
// dispatches embedded Jobs by backend name.
func TestRegistry(t *testing.T) {
	reg, err := worker.NewRegistry(builtin.Registration())
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(builtin.Registration()); err == nil {
		t.Fatal("a backend registered twice")
	}
	cfg, err := config.LoadService("")
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.CheckModels(cfg.Models); err != nil {
		t.Fatalf("default Models: %v", err)
	}
	bad := slices.Clone(cfg.Models)
	bad[1].MaxSteps = builtin.MaxSteps + 1
	bad[2].Backend = "comfyui"
	bad[3].Frames = builtin.MaxFrames + 1
	err = reg.CheckModels(bad)
	for _, want := range []string{"config models[1].maxSteps: must be <= 150", "config models[2].backend: unknown backend \"comfyui\"", "config models[3].frames"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	described := reg.Describe(cfg.Models)
	if !strings.HasSuffix(described[0].Description, builtin.Description) || strings.Contains(cfg.Models[0].Description, builtin.Description) {
		t.Fatalf("description %q (input changed: %v)", described[0].Description, cfg.Models[0].Description)
	}
	if again := reg.Describe(described); again[0].Description != described[0].Description {
		t.Fatalf("described twice: %q", again[0].Description)
	}
	ids, b := reg.Embedded(bad)
	if len(ids) != 3 || slices.Contains(ids, bad[2].ModelID) {
		t.Fatalf("embedded Models %v", ids)
	}
	_, err = b.Render(context.Background(), worker.RenderJob{Payload: aimg.JobPayload{Backend: "comfyui"}}, func(float64) {})
	if aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("render of an unknown backend: %v", err)
	}
}
