// Package workerapi is the worker protocol (docs/worker-protocol.md): the
// server handlers mounted at /api/worker/v1/ and the Client that `aimg
// worker` uses as its worker.JobSource, sharing the wire types below.
package workerapi

import (
	"encoding/json"
	"time"

	"aimg/internal/aimg"
)

// Prefix is where the protocol is mounted.
const Prefix = "/api/worker/v1/"

// MaxWait is the longest a claim waits for a Job (long-poll); it stays
// well under the server's write timeout and the worker's call timeout.
const MaxWait = 20 * time.Second

// ClaimRequest is POST claim: the worker slot asking (Worker), or up to
// aimg.MaxClaimBatch idle slots at once (Workers, a Job each), the Models
// they serve (none: every Model the key allows) and how long to wait.
type ClaimRequest struct {
	Worker  string   `json:"worker,omitempty"`
	Workers []string `json:"workers,omitempty"`
	Models  []string `json:"models,omitempty"`
	WaitMS  int      `json:"waitMs,omitempty"`
}

// ModelsResponse answers POST models: the Models the key may claim.
type ModelsResponse struct {
	Models []string `json:"models"`
	// Backends names each Model's backend ("builtin", "comfyui", ...).
	Backends map[string]string `json:"backends,omitempty"`
}

// Job is a claimed Job as a worker sees it. LeaseOwner and Attempt, with
// the id, are the lease every later call about the Job carries.
type Job struct {
	ID             string          `json:"id"`
	ModelID        string          `json:"modelId"`
	Kind           string          `json:"kind"`
	ItemIDs        []string        `json:"itemIds"`
	Payload        json.RawMessage `json:"payload"`
	Attempt        int             `json:"attempt"`
	MaxAttempts    int             `json:"maxAttempts"`
	LeaseOwner     string          `json:"leaseOwner"`
	LeaseExpiresAt time.Time       `json:"leaseExpiresAt"`
	// LeaseSeconds is the lease's length (generation.leaseDuration): a
	// worker heartbeats a few times per lease, whatever the two clocks say.
	LeaseSeconds float64 `json:"leaseSeconds"`
}

// ClaimResponse is claim's 200 answer (204, no body, when no Job came):
// Job answers a claim by Worker; Jobs (one or more, the i-th leased to
// Workers[i]) a claim by Workers.
type ClaimResponse struct {
	Job  *Job  `json:"job,omitempty"`
	Jobs []Job `json:"jobs,omitempty"`
}

// Lease is the lease a call is about.
type Lease struct {
	JobID   string `json:"jobId"`
	Owner   string `json:"owner"`
	Attempt int    `json:"attempt"`
}

func (l Lease) domain() aimg.Lease {
	return aimg.Lease{JobID: l.JobID, WorkerID: l.Owner, Attempt: l.Attempt}
}

func wireLease(l aimg.Lease) Lease {
	return Lease{JobID: l.JobID, Owner: l.WorkerID, Attempt: l.Attempt}
}

// HeartbeatRequest is POST heartbeat: progress from 0 to 1.
type HeartbeatRequest struct {
	Lease    Lease   `json:"lease"`
	Progress float64 `json:"progress"`
}

// HeartbeatResponse extends the lease to LeaseExpiresAt.
type HeartbeatResponse struct {
	LeaseExpiresAt time.Time `json:"leaseExpiresAt"`
}

// FailRequest is POST fail: retry asks for another attempt.
type FailRequest struct {
	Lease  Lease  `json:"lease"`
	Reason string `json:"reason"`
	Retry  bool   `json:"retry"`
}

// LeaseRequest is POST release and POST input: the lease alone.
type LeaseRequest struct {
	Lease Lease `json:"lease"`
}

// WorkerRequest is POST release-worker and POST recover: a worker slot
// (release-worker) or a worker name (recover, its slots too).
type WorkerRequest struct {
	Worker string `json:"worker"`
}

// Released answers release-worker and recover.
type Released struct {
	Released int `json:"released"`
	Requeued int `json:"requeued"`
	Failed   int `json:"failed"`
}

// Manifest is the first part ("manifest") of POST complete: the lease and,
// per Item, its files; each file's bytes follow as the part named Part,
// with its size and SHA-256 (hex) checked on arrival.
type Manifest struct {
	Lease   Lease            `json:"lease"`
	Outputs []ManifestOutput `json:"outputs"`
}

// ManifestOutput is one Item's files.
type ManifestOutput struct {
	ItemID string         `json:"itemId"`
	Files  []ManifestFile `json:"files"`
}

// ManifestFile describes one uploaded file.
type ManifestFile struct {
	Part        string `json:"part"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"contentType"`
	Role        string `json:"role"`
	FrameNumber int    `json:"frameNumber,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Completed answers complete; Again is true when the Job was completed by
// this very lease already (a retried upload).
type Completed struct {
	Completed bool `json:"completed"`
	Again     bool `json:"again,omitempty"`
}

// ErrorBody is every error answer: {"error": {"code", "message"}}. Code is
// an aimg.Code (invalid, unauthorized, forbidden, not_found, conflict,
// too_large, rate_limited, unavailable, internal), lease_lost or cancelled.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// CodeLeaseLost is the code of aimg.ErrLeaseLost (HTTP 409).
const CodeLeaseLost = "lease_lost"

// CodeCancelled is the code of aimg.ErrJobCancelled (HTTP 409): the Job
// was cancelled (cancelGeneration); stop rendering, interrupt the
// backend, and neither complete nor fail it.
const CodeCancelled = "cancelled"
