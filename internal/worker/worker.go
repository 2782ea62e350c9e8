// Package worker is the loop that renders queued Jobs: claim a Job from a
// JobSource, render it on a Backend while heartbeating its lease, then
// complete it with the outputs or fail it. The embedded pool in `aimg serve`
// uses the generation service as its JobSource; the remote `aimg worker`
// will use the same loop over HTTP.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"aimg/internal/aimg"
)

// JobSource hands out Jobs and takes their results. It is transport-neutral:
// outputs travel as bytes, so an HTTP client can implement it.
type JobSource interface {
	// ClaimJobs leases up to one Job of the Models per worker slot (1 to
	// aimg.MaxClaimBatch distinct ids), the i-th to workerIDs[i], or
	// returns a not-found aimg.Error when there is none.
	ClaimJobs(ctx context.Context, workerIDs []string, modelIDs []string) ([]*aimg.Job, error)
	// Heartbeat reports progress (0..1) and extends the lease;
	// aimg.ErrLeaseLost means the Job is no longer this worker's,
	// aimg.ErrJobCancelled that it was cancelled: either way the render
	// is interrupted and neither completed nor failed.
	Heartbeat(ctx context.Context, l aimg.Lease, progress float64) error
	// Complete uploads the outputs and completes the Job.
	Complete(ctx context.Context, l aimg.Lease, outputs []aimg.ItemOutput) error
	// Fail ends this attempt; retry asks for another attempt if any are left.
	Fail(ctx context.Context, l aimg.Lease, reason string, retry bool) error
	// Release gives the Job back to its queue without spending the attempt.
	Release(ctx context.Context, l aimg.Lease) error
	// ReleaseWorker releases, attempt unspent, every Job leased by exactly
	// workerID: after a claim whose answer was lost (cut off while it
	// committed) the worker may hold a Job it never saw.
	ReleaseWorker(ctx context.Context, workerID string) (int, error)
	// RecoverWorker ends at once the leases that an earlier process of the
	// worker name held (owners name/<slot>), as the reaper does when a lease
	// expires; a pool calls it when it starts.
	RecoverWorker(ctx context.Context, name string) (requeued, failed int, err error)
	// OpenInput opens the Job's input image (image-to-video).
	OpenInput(ctx context.Context, l aimg.Lease) (io.ReadCloser, error)
}

// RenderJob is a claimed Job as a Backend sees it.
type RenderJob struct {
	Job     *aimg.Job
	Payload aimg.JobPayload
	// OpenInput opens the input image named by Payload.InputFileID.
	OpenInput func(ctx context.Context) (io.ReadCloser, error)
	// Preview, when not nil, takes a live preview of the Job's item-th
	// Item (a PNG, JPEG or WebP image, see preview.go); nil: the source
	// takes none. Backends call ShowPreview.
	Preview func(item int, image []byte)
}

// ShowPreview hands a live preview of the item-th Item over, if the
// source takes previews. It does not block and keeps only the latest.
func (j RenderJob) ShowPreview(item int, image []byte) {
	if j.Preview != nil {
		j.Preview(item, image)
	}
}

// Backend renders Jobs. progress takes the fraction done (0..1).
// An *aimg.Error with code invalid means the Job can never succeed (it is
// failed without retries); any other error is retried.
type Backend interface {
	Render(ctx context.Context, job RenderJob, progress func(float64)) ([]aimg.ItemOutput, error)
}

// Pool runs Concurrency worker slots against one source and backend. One
// claimer asks for the Jobs of all idle slots in one call (a batch claim:
// one round trip and one transaction however many slots are idle) and
// hands each Job to the slot it is leased to.
type Pool struct {
	src     JobSource
	backend Backend
	cfg     Config
	log     *slog.Logger
	wake    chan struct{}

	startOnce, stopOnce sync.Once
	claimCtx            context.Context // cancelled when the pool stops claiming
	stopClaiming        context.CancelFunc
	runCtx              context.Context // cancelled when running Jobs must be given up
	abandon             context.CancelFunc
	wg                  sync.WaitGroup
	stopErr             error

	afterStopClaiming func() // test hook: Stop has stopped claiming
}

// NewPool builds a pool; Start runs it. Zero fields of cfg take their
// defaults; an invalid cfg is an error naming the field.
func NewPool(src JobSource, backend Backend, cfg Config, log *slog.Logger) (*Pool, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{src: src, backend: backend, cfg: cfg, log: log.With("worker_pool", cfg.Name),
		wake: make(chan struct{}, 1)}, nil
}

// Name is the pool's worker identity (Config.Name or the generated one).
func (p *Pool) Name() string { return p.cfg.Name }

// Start takes back the Jobs an earlier process of this worker name still
// holds (RecoverWorker), then launches the slots. Cancelling ctx is an
// abrupt stop: claiming ends and running Jobs are released at once; Stop is
// the graceful way.
func (p *Pool) Start(ctx context.Context) {
	p.startOnce.Do(func() {
		p.runCtx, p.abandon = context.WithCancel(context.WithoutCancel(ctx))
		p.claimCtx, p.stopClaiming = context.WithCancel(p.runCtx)
		context.AfterFunc(ctx, func() { p.stopClaiming(); p.abandon() })
		p.recover()
		idle := make(chan int, p.cfg.Concurrency) // each slot is in it at most once
		work := make([]chan *aimg.Job, p.cfg.Concurrency)
		for i := range work {
			work[i] = make(chan *aimg.Job, 1)
			p.wg.Go(func() { p.slot(i, work[i], idle) })
		}
		p.wg.Go(func() { p.claimer(idle, work) })
	})
}

// Notify wakes the claimer if slots are idle: a Job was just queued.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming and waits for the running Jobs to finish until ctx
// ends; Jobs still running then are abandoned and released to their queue.
// It is safe to call more than once and before Start.
func (p *Pool) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.startOnce.Do(func() {}) // a pool stopped before it started never starts
		if p.stopClaiming == nil {
			return
		}
		p.stopClaiming()
		if p.afterStopClaiming != nil {
			p.afterStopClaiming()
		}
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			p.abandon()
			<-done
			p.stopErr = fmt.Errorf("worker pool: running jobs released: %w", ctx.Err())
		}
		p.abandon()
	})
	return p.stopErr
}

// recover ends the leases of this worker name's previous process.
func (p *Pool) recover() {
	var requeued, failed int
	err := p.call(func(ctx context.Context) (err error) {
		requeued, failed, err = p.src.RecoverWorker(ctx, p.cfg.Name)
		return err
	})
	switch {
	case err != nil:
		p.log.Error("take back the jobs of this worker's previous process", "err", err)
	case requeued+failed > 0:
		p.log.Warn("took back the jobs of this worker's previous process", "requeued", requeued, "failed", failed)
	}
}

// slotID is the worker id (lease owner) of slot i.
func (p *Pool) slotID(i int) string { return fmt.Sprintf("%s/%d", p.cfg.Name, i) }

// slot renders the Jobs the claimer hands it, one at a time, telling the
// claimer each time it is idle, until the claimer closes work.
func (p *Pool) slot(i int, work <-chan *aimg.Job, idle chan<- int) {
	idle <- i
	for job := range work {
		p.run(job)
		idle <- i
	}
}

// claimer claims Jobs for the idle slots, all of them (up to
// aimg.MaxClaimBatch) in one call, until the pool stops claiming; then it
// closes the slots' work channels.
func (p *Pool) claimer(idle <-chan int, work []chan *aimg.Job) {
	defer func() {
		for _, w := range work {
			close(w)
		}
	}()
	poll := time.NewTicker(p.cfg.PollInterval)
	defer poll.Stop()
	var free []int // idle slots, in the order they became idle
	for {
		for len(idle) > 0 {
			free = append(free, <-idle)
		}
		if len(free) == 0 {
			select {
			case <-p.claimCtx.Done():
				return
			case i := <-idle:
				free = append(free, i)
				continue
			}
		}
		if p.claimCtx.Err() != nil {
			return
		}
		batch := free[:min(len(free), aimg.MaxClaimBatch)]
		jobs, err := p.claim(batch)
		for k, job := range jobs {
			work[batch[k]] <- job // the slot is idle: its channel is empty
		}
		free = free[len(jobs):]
		if err == nil {
			continue // more may be queued: claim again for the slots still idle
		}
		select {
		case <-p.claimCtx.Done():
			return
		case <-p.wake:
		case <-poll.C:
		case i := <-idle:
			free = append(free, i)
		}
	}
}

// claim asks for a Job for each slot of batch; it returns at most as many,
// the k-th leased to slot batch[k]. The call runs on runCtx, which a
// graceful Stop leaves alone: cancelling a claim mid-commit would lose its
// answer and leave Jobs running under a worker that never saw them. Jobs
// claimed while the pool stopped claiming go straight back, unspent. When
// the claim fails for any other reason than an empty queue, its outcome is
// unknown: whatever the slots may hold is released.
func (p *Pool) claim(batch []int) ([]*aimg.Job, error) {
	ids := make([]string, len(batch))
	for k, i := range batch {
		ids[k] = p.slotID(i)
	}
	ctx, cancel := context.WithTimeout(p.runCtx, p.cfg.CallTimeout)
	jobs, err := p.src.ClaimJobs(ctx, ids, p.cfg.ModelIDs)
	cancel()
	switch {
	case err == nil && len(jobs) > len(ids):
		err = fmt.Errorf("the source answered %d jobs for %d worker slots", len(jobs), len(ids))
	case err == nil && p.claimCtx.Err() != nil:
		for _, job := range jobs {
			log := p.log.With("job", job.ID, "worker", job.LeaseOwner)
			if err := p.call(func(ctx context.Context) error { return p.src.Release(ctx, job.Lease()) }); err != nil {
				log.Error("release a job claimed while stopping", "err", err)
			} else {
				log.Info("job claimed while stopping released for another worker")
			}
		}
		return nil, errStopping
	case err == nil:
		return jobs, nil
	case aimg.IsNotFound(err):
		return nil, err
	}
	log := p.log.With("workers", ids, "err", err)
	n, rerr := 0, error(nil)
	for _, id := range ids {
		rerr = errors.Join(rerr, p.call(func(ctx context.Context) error {
			released, err := p.src.ReleaseWorker(ctx, id)
			n += released
			return err
		}))
	}
	switch {
	case rerr != nil:
		log.Error("claim jobs: failed, and releasing what it may have leased failed too", "release_err", rerr)
	case p.claimCtx.Err() != nil: // the stop cut the claim (a graceful one too)
		log.Info("claim cut off by the stop", "released", n)
	default:
		log.Error("claim jobs", "released", n)
	}
	return nil, err
}

var errStopping = errors.New("the pool is stopping")

// call runs a source call that must reach the source even while the pool
// stops (completing, failing, releasing), bounded by CallTimeout.
func (p *Pool) call(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.runCtx), p.cfg.CallTimeout)
	defer cancel()
	return fn(ctx)
}

var (
	errLeaseLost    = errors.New("lease lost")
	errJobCancelled = errors.New("job cancelled")
)

// run renders one claimed Job, heartbeating until it is done.
func (p *Pool) run(job *aimg.Job) {
	lease := job.Lease()
	log := p.log.With("job", job.ID, "attempt", lease.Attempt, "worker", lease.WorkerID)

	var payload aimg.JobPayload
	if err := json.Unmarshal(job.Payload, &payload); err != nil {
		p.fail(log, lease, fmt.Sprintf("unreadable job payload: %v", err), false)
		return
	}
	ctx, cancel := context.WithCancelCause(p.runCtx)
	defer cancel(nil)
	var progress atomic.Uint64 // math.Float64bits of the fraction done
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		p.heartbeat(ctx, p.heartbeatInterval(job), lease, &progress, cancel, log)
	}()
	rj := RenderJob{Job: job, Payload: payload, OpenInput: func(ctx context.Context) (io.ReadCloser, error) {
		return p.src.OpenInput(ctx, lease)
	}}
	stopPreviews := p.previews(ctx, lease, &rj, log)
	stopHeartbeat := func() {
		cancel(nil)
		<-hbDone
	}
	outputs, err := p.render(ctx, rj, &progress, log)
	stopPreviews()
	cause := context.Cause(ctx)
	if err == nil && cause == nil {
		// The heartbeat goes on while the outputs are handed over: an
		// upload slower than the lease (a video, a loaded server, a file
		// store that answers 503 for a while) must not lose the Job to
		// another worker and cost it an attempt.
		err := p.complete(lease, outputs, log)
		stopHeartbeat()
		p.completed(log, lease, err)
		return
	}
	stopHeartbeat()

	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("job abandoned: its lease was lost")
	case errors.Is(cause, errJobCancelled):
		log.Info("job cancelled: its render was interrupted")
	case p.runCtx.Err() != nil && err != nil:
		// The pool gave up on running Jobs: back to the queue, attempt unspent.
		if err := p.call(func(ctx context.Context) error { return p.src.Release(ctx, lease) }); err != nil {
			log.Error("release job", "err", err)
		} else {
			log.Info("job released for another worker")
		}
	case err != nil:
		p.fail(log, lease, err.Error(), aimg.ErrorCode(err) != aimg.CodeInvalid)
	default:
		p.completed(log, lease, p.complete(lease, outputs, log))
	}
}

// completed logs, and releases or fails, what the completion's answer err
// asks for.
func (p *Pool) completed(log *slog.Logger, lease aimg.Lease, err error) {
	switch {
	case errors.Is(err, aimg.ErrJobCancelled):
		log.Info("job finished after it was cancelled: the result was discarded")
	case errors.Is(err, aimg.ErrLeaseLost):
		log.Warn("job finished too late: its lease was lost, the result was discarded")
	case aimg.ErrorCode(err) == aimg.CodeUnavailable:
		// Still unavailable after CallTimeout: the Job did nothing
		// wrong, so it goes back to its queue with its attempt unspent.
		log.Error("complete job: the server could not store the outputs in time; releasing the job", "err", err)
		if err := p.call(func(ctx context.Context) error { return p.src.Release(ctx, lease) }); err != nil {
			log.Error("release job", "err", err)
		}
	case err != nil:
		log.Error("complete job", "err", err)
		p.fail(log, lease, "storing the outputs failed", true)
	default:
		log.Debug("job completed")
	}
}

// complete hands the outputs over, trying again with backoff within
// CallTimeout while the source answers unavailable (its file store, S3,
// does not answer): a short outage does not cost the render.
func (p *Pool) complete(lease aimg.Lease, outputs []aimg.ItemOutput, log *slog.Logger) error {
	return p.call(func(ctx context.Context) error {
		for n := 0; ; n++ {
			err := p.src.Complete(ctx, lease, outputs)
			if aimg.ErrorCode(err) != aimg.CodeUnavailable || ctx.Err() != nil {
				return err
			}
			wait := min(200*time.Millisecond<<min(n, 5), 5*time.Second)
			log.Warn("complete job: the server cannot store the outputs now; trying again", "wait", wait, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
	})
}

// render runs the backend; a panic in it fails the Job (once: it would
// panic again) instead of taking the whole server down.
func (p *Pool) render(ctx context.Context, rj RenderJob, progress *atomic.Uint64, log *slog.Logger) (outputs []aimg.ItemOutput, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("backend panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			outputs, err = nil, aimg.Errorf(aimg.CodeInvalid, "The renderer failed on this job")
		}
	}()
	return p.backend.Render(ctx, rj, func(f float64) { progress.Store(floatBits(f)) })
}

func (p *Pool) fail(log *slog.Logger, lease aimg.Lease, reason string, retry bool) {
	err := p.call(func(ctx context.Context) error { return p.src.Fail(ctx, lease, reason, retry) })
	if err != nil && !errors.Is(err, aimg.ErrLeaseLost) && !errors.Is(err, aimg.ErrJobCancelled) {
		log.Error("fail job", "reason", reason, "err", err)
	}
}

// heartbeat extends the lease every HeartbeatInterval until ctx ends; when
// the source says the lease is lost or the Job cancelled it cancels the
// render (the backend interrupts its server by its own cancel path).
func (p *Pool) heartbeat(ctx context.Context, every time.Duration, lease aimg.Lease, progress *atomic.Uint64, cancel context.CancelCauseFunc, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := p.call(func(cctx context.Context) error {
			return p.src.Heartbeat(cctx, lease, floatFrom(progress.Load()))
		})
		switch {
		case errors.Is(err, aimg.ErrJobCancelled):
			cancel(errJobCancelled)
			return
		case errors.Is(err, aimg.ErrLeaseLost):
			cancel(errLeaseLost)
			return
		}
		if err != nil {
			// The lease may still be good; the next beat tries again.
			log.Warn("heartbeat", "err", err)
		}
	}
}

// heartbeatsPerLease is how many heartbeats a lease has room for when
// the interval comes from the lease: one lost or slow beat leaves two.
const heartbeatsPerLease = 3

// heartbeatInterval is Config.HeartbeatInterval, or a third of the lease
// the server granted job.
func (p *Pool) heartbeatInterval(job *aimg.Job) time.Duration {
	switch {
	case p.cfg.HeartbeatInterval > 0:
		return p.cfg.HeartbeatInterval
	case job.LeaseDuration > 0:
		return job.LeaseDuration / heartbeatsPerLease
	default:
		return DefaultHeartbeatInterval
	}
}

func floatBits(f float64) uint64 { return math.Float64bits(f) }

func floatFrom(b uint64) float64 { return math.Float64frombits(b) }
