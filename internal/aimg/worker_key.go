package aimg

import "time"

// WorkerKey lets a remote `aimg worker` claim and render Jobs
// (docs/worker-protocol.md). The secret is shown once, when the key is
// made; only its SHA-256 is stored.
type WorkerKey struct {
	ID         string
	Name       string
	ModelIDs   []string // the Models the key may claim; empty = every Model
	SecretHash string
	CreatedAt  time.Time
	LastSeenAt *time.Time
	RevokedAt  *time.Time
	// RunningJobs is how many Jobs the key's workers hold now (listings only).
	RunningJobs int
}

// LeaseOwnerPrefix is what the lease owner of every Job claimed with the
// key starts with: "<key id>/" then the worker's own name and slot.
func (k *WorkerKey) LeaseOwnerPrefix() string { return k.ID + "/" }
