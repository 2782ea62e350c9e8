package aimg

import "time"

// CancelledReason is the error of a Job and its Items cancelled by their
// owner or an Admin (cancelGeneration): the Items are failed with it.
const CancelledReason = "cancelled"

// ErrJobCancelled is returned to the worker holding a Job that was
// cancelled (by heartbeat, complete and fail): it must stop rendering,
// interrupt its backend and drop the result. It is not ErrLeaseLost, so
// that a worker can tell "someone else has it" from "nobody wants it".
var ErrJobCancelled = Errorf(CodeConflict, "The job was cancelled: stop rendering it and drop the result")

// CancelRequest is one cancelGeneration call for the store: every Item of
// IDs (distinct) whose Job is still queued or running has that Job
// cancelled, in one transaction.
type CancelRequest struct {
	IDs []string
	At  time.Time
	// Check is asked, for each Item found, whether the caller may cancel
	// it; a non-nil error is that Item's outcome.
	Check func(*Item) error
}

// CancelOutcome is one Item's outcome of a CancelRequest.
type CancelOutcome struct {
	ID  string
	Err error // nil: its Job was cancelled (by this call or another Item of it in this call)
	// JobID is the Item's Job (also on failure, when the Item was found).
	JobID string
	// WasRunning tells that a worker held the Job when it was cancelled.
	WasRunning bool
}

// Why an Item cannot be cancelled.
var (
	ErrItemFinished = Errorf(CodeConflict, "Item is no longer queued or generating: nothing to cancel")
)
