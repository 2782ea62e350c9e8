package aimg

import (
	"encoding/json"
	"time"
)

// Tasks are the Nextcloud-compatible surface's unit of work: one store for
// the legacy text2image and textprocessing APIs and TaskProcessing
// (docs/decisions.md "Nextcloud tasks").

// TaskStatus is Nextcloud's TaskProcessing status number; the legacy APIs
// use the same numbers 0..4 (DECISIONS.md "Nextcloud-compatible surface").
type TaskStatus int

const (
	TaskUnknown    TaskStatus = 0
	TaskScheduled  TaskStatus = 1
	TaskRunning    TaskStatus = 2
	TaskSuccessful TaskStatus = 3
	TaskFailed     TaskStatus = 4
	TaskCancelled  TaskStatus = 5
)

// Ended tells whether the status is final.
func (s TaskStatus) Ended() bool { return s >= TaskSuccessful }

// String is TaskProcessing's name of the status (Task::statusToString).
func (s TaskStatus) String() string {
	switch s {
	case TaskScheduled:
		return "STATUS_SCHEDULED"
	case TaskRunning:
		return "STATUS_RUNNING"
	case TaskSuccessful:
		return "STATUS_SUCCESSFUL"
	case TaskFailed:
		return "STATUS_FAILED"
	case TaskCancelled:
		return "STATUS_CANCELLED"
	}
	return "STATUS_UNKNOWN"
}

// Task types AIMG runs, as TaskProcessing ids.
const (
	TaskTypeText2Image = "core:text2image"
	TaskTypeText2Text  = "core:text2text"
	TaskTypeSummary    = "core:text2text:summary"
	TaskTypeHeadline   = "core:text2text:headline"
	TaskTypeTopics     = "core:text2text:topics"
	TaskTypeTranslate  = "core:text2text:translate"
)

// Task is one Nextcloud task. Text tasks are leased and run by the task
// runner; a text-to-image task is a batch of Items (one Job) on the default
// image Model, and its status follows theirs.
type Task struct {
	ID       int64 // Nextcloud task ids are integers
	Type     string
	UserID   string // the AIMG user (a guest's record for guests)
	AppID    string
	CustomID string // TaskProcessing customId = the legacy APIs' identifier
	// Input and Output are JSON objects in TaskProcessing's shape
	// ({"input": "...", "numberOfImages": 2}, {"output": "..."},
	// {"images": [fileId, ...]}); Output is nil until the task succeeds.
	Input  json.RawMessage
	Output json.RawMessage
	Status TaskStatus
	// Progress is 0..1 while running, nil before.
	Progress *float64
	Error    string
	// JobID is the text-to-image task's generation Job (its Items are the
	// Job's ItemIDs, in order).
	JobID string

	WebhookURI    string
	WebhookMethod string // HTTP:GET, HTTP:POST, HTTP:PUT or HTTP:DELETE
	// WebhookAttempts counts deliveries tried (set by the webhook claim).
	WebhookAttempts int

	Attempts       int
	MaxAttempts    int
	LeaseOwner     string
	LeaseExpiresAt *time.Time

	ScheduledAt          time.Time
	StartedAt            *time.Time
	EndedAt              *time.Time
	LastUpdated          time.Time
	CompletionExpectedAt *time.Time
}

// TaskFile is a file a task refers to, under TaskProcessing's integer file
// id (GET taskprocessing/tasks/{id}/file/{fileId}).
type TaskFile struct {
	ID     int64
	TaskID int64
	FileID string // the AIMG File
}

// TaskFilter selects a user's tasks for the listings; empty fields match
// anything.
type TaskFilter struct {
	UserID   string
	AppID    string
	Types    []string // any of these types; empty = every type
	CustomID *string  // nil = any customId
	// UpdatedSince hides tasks whose last update is older (expired).
	UpdatedSince time.Time
	Limit        int
}

// TaskClaim is the task runner's request for its next text task.
type TaskClaim struct {
	Owner string
	Types []string // the types the runner can run
	Lease time.Duration
	Now   time.Time
}

// TaskLease names a claimed task and who holds it.
type TaskLease struct {
	TaskID int64
	Owner  string
}

// TaskUpdate is a text-to-image task's new state, read off its Items.
type TaskUpdate struct {
	Status   TaskStatus
	Progress *float64
	Error    string
	// Files are the output Files, in order, when the task succeeded: they
	// get task file ids and become the output {"images": [...]}.
	Files                []string
	CompletionExpectedAt *time.Time
	Now                  time.Time
}
