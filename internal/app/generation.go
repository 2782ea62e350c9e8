package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/media"
	"aimg/internal/store"
	"aimg/internal/worker"
	"aimg/internal/workerapi"
)

// background is what runs beside the HTTP server: the reaper that requeues
// Jobs of vanished workers, the purger of expired sessions and OTPs, and the
// embedded worker pool.
type background struct {
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// newGeneration builds the generation service and, when the embedded worker
// is on, its worker pool over the in-process backends (the built-in renderer).
func (a *App) newGeneration() error {
	a.Generation = generation.New(a.Store, a.Files, a.Accounts, a.Config.Service, a.Log, a.now)
	a.Generation.ResolveRequest = a.Backends.Request
	a.Generation.Workflows = a.workflows
	a.Generation.Uploads = &generation.Uploads{Files: a.Files, Decoder: a.Decoder, Limits: media.Limits{
		MaxBytes: a.Config.Service.HTTP.MaxImageBodyBytes, MaxPixels: generation.MaxInputImagePixels}}
	// A queued Job wakes the embedded pool and the remote workers' waiting claims.
	a.wake = workerapi.NewWake()
	a.jobQueued = make(chan struct{}, 1)
	a.Generation.OnEnqueue = func() {
		a.wakeWorkers()
		select { // other replicas hear of it from the notifier loop (Start)
		case a.jobQueued <- struct{}{}:
		default:
		}
	}
	// Item event streams of the other replicas hear of changes made here.
	a.changed.init()
	a.Generation.OnJobsChanged = a.changed.add
	if !a.Config.EmbeddedWorker {
		return nil
	}
	models, backend := a.Backends.Embedded(a.Config.Service.Models)
	if len(models) == 0 {
		a.Log.Info("no Model has an in-process backend: the embedded worker is off")
		return nil
	}
	name, err := loadOrCreateWorkerName(a.Config.DataDir)
	if err != nil {
		return fmt.Errorf("AIMG_DATA_DIR: %w", err)
	}
	g := a.Config.Service.Generation
	pool, err := worker.NewPool(a.Generation, backend, worker.Config{
		Name: name, Concurrency: a.Config.WorkerConcurrency, ModelIDs: models,
		HeartbeatInterval: g.HeartbeatInterval, PollInterval: g.PollInterval,
	}, a.Log)
	if err != nil {
		return fmt.Errorf("embedded worker: %w", err)
	}
	a.Workers = pool
	return nil
}

// wakeWorkers wakes this replica's idle workers: the embedded pool and
// the remote workers' waiting claims.
func (a *App) wakeWorkers() {
	if a.Workers != nil {
		a.Workers.Notify()
	}
	a.wake.Broadcast()
}

// notifyJobsQueued tells the other replicas (PostgreSQL NOTIFY) that Jobs
// were queued, coalescing bursts: one NOTIFY for however many enqueues
// came while the last one was sent.
func (a *App) notifyJobsQueued(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.jobQueued:
			if err := a.Store.NotifyJobQueued(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("telling the other replicas of a queued Job failed", "err", err)
			}
		}
	}
}

// jobChanges collects the Jobs whose Items changed here until the notifier
// loop sends them to the other replicas: a burst of heartbeats becomes one
// NOTIFY. An empty id ("any Item may have changed") stands for all.
type jobChanges struct {
	mu      sync.Mutex
	pending map[string]bool
	any     bool
	signal  chan struct{}
}

func (c *jobChanges) init() {
	c.pending = map[string]bool{}
	c.signal = make(chan struct{}, 1)
}

// maxPendingChanges bounds what waits for the notifier: past it the
// changes are sent as "any Item may have changed".
const maxPendingChanges = 10000

func (c *jobChanges) add(jobIDs []string) {
	c.mu.Lock()
	if len(jobIDs) == 0 || len(c.pending)+len(jobIDs) > maxPendingChanges {
		c.any = true
		clear(c.pending)
	} else if !c.any {
		for _, id := range jobIDs {
			c.pending[id] = true
		}
	}
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// take returns what is pending: ids, or all (any Item may have changed).
func (c *jobChanges) take() (ids []string, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.pending {
		ids = append(ids, id)
	}
	all = c.any
	clear(c.pending)
	c.any = false
	return ids, all
}

// notifyItemEvents tells the other replicas (PostgreSQL NOTIFY) which
// Jobs' Items changed here, coalescing bursts.
func (a *App) notifyItemEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.changed.signal:
		}
		ids, all := a.changed.take()
		if all {
			ids = nil
		} else if len(ids) == 0 {
			continue
		}
		if err := a.Store.NotifyItemEvents(ctx, ids); err != nil && ctx.Err() == nil {
			a.Log.Warn("telling the other replicas of Item changes failed", "err", err)
		}
	}
}

// sweepLeftovers removes what a crash left behind: output files stored for
// Jobs that never completed with them (on turn: one replica per interval,
// though concurrent sweeps are safe, ClaimOrphanedOutputs hands each file
// to one), and the local blob store's temporary files (on every replica:
// each has its own data dir).
func (a *App) sweepLeftovers(ctx context.Context, turn aimg.Turn) {
	if turn == nil || turn(ctx, "generation.orphanedOutputs", a.Config.Service.Generation.OrphanSweepInterval) {
		if n, err := a.Generation.SweepOrphanedOutputs(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("sweeping orphaned outputs failed", "err", err)
		} else if n > 0 {
			a.Log.Info("removed orphaned outputs", "files", n)
		}
	}
	if local, ok := a.Blobs.(interface {
		SweepTemp(ctx context.Context, olderThan time.Duration, now time.Time) (int, error)
	}); ok {
		// File times are the wall clock's, whatever clock the app runs on.
		if n, err := local.SweepTemp(ctx, generation.OrphanAge, time.Now()); err != nil && ctx.Err() == nil {
			a.Log.Warn("sweeping temporary blob files failed", "err", err)
		} else if n > 0 {
			a.Log.Info("removed temporary blob files left by a crash", "files", n)
		}
	}
}

// loadOrCreateWorkerName is the embedded worker's identity, kept in
// <data dir>/worker.id so that a restarted server is the same worker and
// takes back its previous process's Jobs at once (worker.Pool.Start). An
// operator may write the name there (1 to 100 characters, no '/' or white
// space); two servers must not share a data dir, or they would take each
// other's Jobs back.
func loadOrCreateWorkerName(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "worker.id")
	b, err := os.ReadFile(path)
	if err == nil {
		name := strings.TrimSpace(string(b))
		if err := worker.ValidName(name); err != nil {
			return "", fmt.Errorf("worker name in %s: %w", path, err)
		}
		return name, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("worker id: %w", err)
	}
	raw := make([]byte, 6)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	name := "embedded-" + hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("worker id: %w", err)
	}
	return name, nil
}

// turn is the sweeps' turn-taking: on PostgreSQL (several replicas may
// share it) a sweep runs when this replica claims the interval's run
// (store.ClaimRun); on SQLite (one process) it is nil: always.
func (a *App) turn() aimg.Turn {
	if a.Store.Dialect() != store.Postgres {
		return nil
	}
	return a.takeTurn
}

// takeTurn claims this interval's run of the sweep name. A database that
// does not answer means no run: the sweep could not work either, and the
// next interval asks again.
func (a *App) takeTurn(ctx context.Context, name string, every time.Duration) bool {
	ok, err := a.Store.ClaimRun(ctx, name, a.wall(), every)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Warn("taking a background sweep's turn failed", "sweep", name, "err", err)
		}
		return false
	}
	return ok
}

// Start runs the reaper, the purger and the embedded worker pool until ctx ends or Stop
// is called. Calling it again does nothing.
func (a *App) Start(ctx context.Context) {
	a.bg.once.Do(func() {
		ctx, a.bg.cancel = context.WithCancel(ctx)
		a.bg.done = make(chan struct{})
		var loops sync.WaitGroup
		// Which loop runs where (docs/decisions.md, "Background work and
		// failing dependencies"): the reaper, the task runner and webhook
		// delivery run on every replica (their claims are per row); the
		// sweeps take turns (one replica per interval).
		turn := a.turn()
		loops.Go(func() { a.Generation.RunReaper(ctx) })
		loops.Go(func() { a.Accounts.RunPurger(ctx, turn) })
		loops.Go(func() { a.Billing.RunSweeper(ctx, a.Billing.SweepEvery(), turn) })
		loops.Go(func() { a.Library.RunViewPurger(ctx, turn) })
		loops.Go(func() {
			aimg.Every(ctx, a.Config.Service.Generation.OrphanSweepInterval, func(ctx context.Context) { a.sweepLeftovers(ctx, turn) })
		})
		loops.Go(func() { a.notifyJobsQueued(ctx) })
		loops.Go(func() { a.Store.ListenJobQueued(ctx, a.Log, a.wakeWorkers) })
		loops.Go(func() { a.notifyItemEvents(ctx) })
		loops.Go(func() { a.Store.ListenItemEvents(ctx, a.Log, a.Generation.Deliver) })
		loops.Go(func() { a.Tasks.RunTasks(ctx, "tasks-"+uuid.NewString()[:8]) })
		loops.Go(func() { a.Tasks.FollowImages(ctx, turn) })
		loops.Go(func() { a.Tasks.DeliverWebhooks(ctx) })
		loops.Go(func() { a.Tasks.Expire(ctx, turn) })
		go func() {
			loops.Wait()
			close(a.bg.done)
		}()
		if a.Workers != nil {
			a.Workers.Start(ctx)
		}
	})
}

// Stop drains the background work: the pool stops claiming and finishes its
// Jobs until ctx ends, then releases what still runs to the queue; the
// reaper and the purger stop.
func (a *App) Stop(ctx context.Context) error {
	var err error
	if a.Workers != nil {
		err = a.Workers.Stop(ctx)
	}
	if a.bg.cancel != nil {
		a.bg.cancel()
		<-a.bg.done
	}
	return err
}
