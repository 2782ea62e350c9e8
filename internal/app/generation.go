package app

import (
	"context"
	"sync"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/worker"
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
// is on, its worker pool over the built-in renderer.
func (a *App) newGeneration() {
	a.Generation = generation.New(a.Store, a.Files, a.Accounts, a.Config.Service, a.Log, a.now)
	if !a.Config.EmbeddedWorker {
		return
	}
	var models []string
	for _, m := range a.Config.Service.Models {
		if m.Backend == aimg.BackendBuiltin {
			models = append(models, m.ModelID)
		}
	}
	g := a.Config.Service.Generation
	a.Workers = worker.NewPool(a.Generation, worker.Builtin{}, worker.Config{
		Concurrency: a.Config.WorkerConcurrency, ModelIDs: models,
		HeartbeatInterval: g.HeartbeatInterval, PollInterval: g.PollInterval,
	}, a.Log)
	a.Generation.OnEnqueue = a.Workers.Notify
}

// Start runs the reaper, the purger and the embedded worker pool until ctx ends or Stop
// is called. Calling it again does nothing.
func (a *App) Start(ctx context.Context) {
	a.bg.once.Do(func() {
		ctx, a.bg.cancel = context.WithCancel(ctx)
		a.bg.done = make(chan struct{})
		var loops sync.WaitGroup
		loops.Go(func() { a.Generation.RunReaper(ctx) })
		loops.Go(func() { a.Accounts.RunPurger(ctx) })
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
