// Package generation turns generateImage and generateVideo requests into
// queued Jobs and serves those Jobs to workers: Models, request validation,
// the prompt filter, queue choice, per-tier concurrency, abuse limits,
// idempotency, and the job-source side of the worker protocol (claim,
// heartbeat, complete, fail) with the reaper that requeues lost Jobs.
// It imports neither net/http nor SQL.
package generation

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation/workflows"
)

// Store is the persistence generation needs; *store.Store has it.
type Store interface {
	Enqueue(ctx context.Context, nj aimg.NewJob) (aimg.Enqueued, error)
	ItemByID(ctx context.Context, id string) (*aimg.Item, error)
	JobByID(ctx context.Context, id string) (*aimg.Job, error)
	ClaimJob(ctx context.Context, c aimg.Claim) (*aimg.Job, error)
	ClaimJobs(ctx context.Context, c aimg.Claim) ([]*aimg.Job, error)
	Heartbeat(ctx context.Context, l aimg.Lease, progress float64, now, expires time.Time) error
	CompleteJob(ctx context.Context, l aimg.Lease, results []aimg.ItemResult, folderID string, now time.Time) error
	FailJob(ctx context.Context, l aimg.Lease, reason string, retry bool, now time.Time) (bool, error)
	ReleaseJob(ctx context.Context, l aimg.Lease, now time.Time) error
	RequeueExpired(ctx context.Context, now time.Time) (requeued, failed int, err error)
	ExpireWorkerLeases(ctx context.Context, name string, now time.Time) (requeued, failed int, err error)
	ReleaseWorkerJobs(ctx context.Context, workerID string, now time.Time) (int, error)
	QueuePosition(ctx context.Context, jobID string) (int64, error)
	QueueLength(ctx context.Context, queueID string) (int64, error)
	JobTimings(ctx context.Context, modelID string) (avg time.Duration, running int, err error)
	CompletedJobsSince(ctx context.Context, modelID string, since time.Time) (int64, error)
	RunningJobs(ctx context.Context, limit int) ([]*aimg.Job, error)
	DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error)
	// FolderByID returns userID's Private Folder (not found: another's or none).
	FolderByID(ctx context.Context, userID, id string) (*aimg.Folder, error)

	AddPendingOutputs(ctx context.Context, jobID string, outputs []aimg.PendingOutput, now time.Time) error
	DropPendingOutputs(ctx context.Context, fileIDs []string) error
	ClaimOrphanedOutputs(ctx context.Context, cutoff time.Time, limit int) ([]aimg.PendingOutput, error)

	CreateWorkerKey(ctx context.Context, k *aimg.WorkerKey) error
	WorkerKey(ctx context.Context, id string) (*aimg.WorkerKey, error)
	WorkerKeys(ctx context.Context) ([]aimg.WorkerKey, error)
	TouchWorkerKey(ctx context.Context, id string, now time.Time) error
	RevokeWorkerKey(ctx context.Context, id string, now time.Time) (int, error)

	// CancelItems cancels the Jobs of the Items (cancelGeneration);
	// JobCancelledUnder tells whether a Job was cancelled under lease l.
	CancelItems(ctx context.Context, r aimg.CancelRequest) ([]aimg.CancelOutcome, error)
	JobCancelledUnder(ctx context.Context, l aimg.Lease) (bool, error)
	BatchItems(ctx context.Context, userID, batchID string) ([]*aimg.Item, error)

	// Live previews (preview.go).
	PutItemPreview(ctx context.Context, l aimg.Lease, p aimg.ItemPreview, now time.Time, minInterval time.Duration) (int64, bool, error)
	ItemPreview(ctx context.Context, itemID string) (*aimg.ItemPreview, error)
	ItemPreviewVersion(ctx context.Context, itemID string) (int64, error)
}

// Files stores outputs and names their URLs; *files.Service has it.
type Files interface {
	StoreBlob(ctx context.Context, in files.PutInput) (*aimg.File, error)
	Open(ctx context.Context, id string, o files.OpenOptions) (*files.Content, error)
	RemoveStored(ctx context.Context, id, blobKey string) (bool, error)
	URL(id string) string
}

// Guests gives an anonymous session the guest record its Items belong to;
// *account.Service has it.
type Guests interface {
	GuestUser(ctx context.Context, c aimg.Caller) (*aimg.User, error)
}

// Service is the generation use cases and the in-process job source.
type Service struct {
	store  Store
	files  Files
	guests Guests
	cfg    config.Generation
	models []aimg.Model
	byID   map[string]*aimg.Model
	prompt []config.SamplePrompt
	filter *PromptFilter
	log    *slog.Logger
	now    func() time.Time
	seed   func() int64

	// OnEnqueue, when set, is called after a Job is queued (the app points
	// it at the embedded worker pool so idle workers wake at once).
	OnEnqueue func()
	// ResolveRequest, when set, resolves the backend request a Job of the
	// Model carries (aimg.JobPayload.Request) from its payload and Item
	// count; the app points it at the worker registry. A nil request (the
	// builtin backend) leaves the payload without one.
	ResolveRequest func(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error)
	// Workflows are the workflow templates API2 runs (nil: the embedded ones).
	Workflows *workflows.Set
	// OnJobsChanged, when set, is called after the Items of jobIDs changed
	// (none: any may have), for the other replicas' item streams (the app
	// sends it as a PostgreSQL NOTIFY). It must not block.
	OnJobsChanged func(jobIDs []string)
	// Uploads, when set, lets generateVideo take an uploaded input image
	// (VideoRequest.InputImage; input.go).
	Uploads *Uploads

	events *Events
}

// New builds the service from the configuration's Models, prompts, banned
// words and generation settings.
func New(st Store, fs Files, guests Guests, svc config.Service, log *slog.Logger, now func() time.Time) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		store: st, files: fs, guests: guests, cfg: svc.Generation,
		models: svc.Models, byID: map[string]*aimg.Model{}, prompt: svc.SamplePrompts,
		filter: NewPromptFilter(svc.BannedWords), log: log, now: now,
		seed: func() int64 { return rand.Int64N(1 << 32) },
	}
	ev := svc.Generation.ItemEvents
	s.events = NewEvents(EventLimits{MaxItems: ev.MaxItems, MaxPerUser: ev.MaxStreamsPerUser, MaxStreams: ev.MaxStreams,
		KeepAlive: ev.KeepAlive, MaxDuration: ev.MaxDuration, RecheckOnIdle: true})
	for i := range s.models {
		s.byID[s.models[i].ModelID] = &s.models[i]
	}
	return s
}

// Models returns the Models in their configured order; with ids, only those
// (unknown ids are ignored), still in configured order.
func (s *Service) Models(ids []string) []aimg.Model {
	out := make([]aimg.Model, 0, len(s.models))
	for _, m := range s.models {
		if len(ids) == 0 || contains(ids, m.ModelID) {
			out = append(out, m)
		}
	}
	return out
}

// ModelBackend names the backend of a Model ("" for an unknown id).
func (s *Service) ModelBackend(modelID string) string {
	if m, ok := s.byID[modelID]; ok {
		return m.Backend
	}
	return ""
}

// QueueLength is one row of getQueuesLength.
type QueueLength struct {
	ModelID     string `json:"modelID"`
	QueueID     string `json:"queueID"`
	QueueLength int64  `json:"queueLength"`
}

// QueueLengths counts the queued Jobs of both queues of each Model (normal
// first), filtered by ids like Models.
func (s *Service) QueueLengths(ctx context.Context, ids []string) ([]QueueLength, error) {
	var out []QueueLength
	for _, m := range s.Models(ids) {
		for _, q := range []string{aimg.NormalQueue(m.ModelID), aimg.PriorityQueue(m.ModelID)} {
			n, err := s.store.QueueLength(ctx, q)
			if err != nil {
				return nil, err
			}
			out = append(out, QueueLength{ModelID: m.ModelID, QueueID: q, QueueLength: n})
		}
	}
	if out == nil {
		out = []QueueLength{}
	}
	return out, nil
}

// SamplePrompts returns the configured sample prompts, or one at random.
func (s *Service) SamplePrompts(randomOne bool) []config.SamplePrompt {
	if randomOne && len(s.prompt) > 0 {
		return []config.SamplePrompt{s.prompt[rand.IntN(len(s.prompt))]}
	}
	out := make([]config.SamplePrompt, len(s.prompt))
	copy(out, s.prompt)
	return out
}

// RunReaper requeues Jobs whose lease expired (their worker died) every
// interval, and forgets idempotency keys past their TTL, until ctx ends.
func (s *Service) RunReaper(ctx context.Context) {
	t := time.NewTicker(s.cfg.ReaperInterval)
	defer t.Stop()
	for {
		s.ReapOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReapOnce is one pass of the reaper.
func (s *Service) ReapOnce(ctx context.Context) {
	now := s.now()
	requeued, failed, err := s.store.RequeueExpired(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "requeue expired jobs", "err", err)
		}
		return
	}
	if requeued+failed > 0 {
		s.log.WarnContext(ctx, "jobs lost their worker", "requeued", requeued, "failed", failed)
		s.changed() // which Jobs is not known here: every stream looks again
	}
	if _, err := s.store.DeleteIdempotencyKeysBefore(ctx, now.Add(-s.cfg.IdempotencyTTL)); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "forget idempotency keys", "err", err)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
