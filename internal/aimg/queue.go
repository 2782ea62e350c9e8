package aimg

import "time"

// The command types of the job queue, handed by generation to the store.

// NewJob is one generation request to queue: its Job and Items, the limits
// checked in the same transaction, and its idempotency key.
type NewJob struct {
	Job   *Job
	Items []*Item
	// MaxActive bounds the user's queued and processing Items of the Job's
	// Model, counting the new ones; negative means no bound.
	MaxActive int
	// HourlyLimit bounds the Items the user created in the hour before Now,
	// counting the new ones; 0 means no bound.
	HourlyLimit int
	// IdempotencyKey, when set, makes a repeat of the same key by the same
	// user within IdempotencyTTL return the first request's Items instead.
	IdempotencyKey string
	IdempotencyTTL time.Duration
	Now            time.Time
}

// Enqueued says what Enqueue did.
type Enqueued struct {
	// Replayed is true when the idempotency key was seen: nothing was queued
	// and ItemIDs are the first request's Items.
	Replayed bool
	ItemIDs  []string
}

// Claim is a worker's request for its next Job (store.ClaimJob), or for
// up to len(WorkerIDs) Jobs at once, one per worker slot (store.ClaimJobs).
type Claim struct {
	WorkerID string
	// WorkerIDs are the lease owners of a batch claim, one Job each, in
	// order: the i-th Job claimed is leased to WorkerIDs[i]. At most
	// MaxClaimBatch, all different; WorkerID stays empty.
	WorkerIDs []string
	ModelIDs  []string // the Models the worker can render
	Lease     time.Duration
	// StarvationBound: a normal queue head that has waited this long is taken
	// before any priority work.
	StarvationBound time.Duration
	Now             time.Time
}

// MaxClaimBatch bounds the Jobs one batch claim hands out (the owners of
// one Claim, the slots of one worker-protocol claim).
const MaxClaimBatch = 32

// ItemResult is what a completed Item points at.
type ItemResult struct {
	ItemID string
	FileID string  // the main output File
	Frames []Frame // video frames
	// Files are output files stored but not recorded yet: the completion
	// records them in its own transaction (generation.Complete). Empty
	// when the files are recorded already.
	Files []*File
}

// PendingOutput is an output file between its storing and the completion
// of its Job (the orphan sweeper's record). BlobKey is where its bytes go;
// empty on rows written before migration 00032, whose files were
// recorded as they were stored.
type PendingOutput struct {
	FileID  string
	BlobKey string
}
