package aimg

import "time"

// ItemStatus is GenerationStatus.status.
type ItemStatus string

const (
	StatusQueued     ItemStatus = "queued"
	StatusProcessing ItemStatus = "processing"
	StatusCompleted  ItemStatus = "completed"
	StatusFailed     ItemStatus = "failed"
)

// Item kinds (mtype).
const (
	MTypeImage = "image"
	MTypeVideo = "video"
)

// Public approval states (Annex: Public Items Approval Workflow).
const (
	ApprovalNone     = "none"
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
)

// GenerationParams are the parameters an Item was generated with, as
// recorded for getItemDetails and handed to the worker.
type GenerationParams struct {
	Steps            int       `json:"steps"`
	Seed             int64     `json:"seed"`
	Subseed          int64     `json:"subseed"`
	SubseedStrength  float64   `json:"subseed_strength"`
	Sampler          string    `json:"sampler"`
	CFGScale         float64   `json:"cfgscale"`
	RestoreFaces     bool      `json:"restoreFaces"`
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	Lora             []string  `json:"lora"`
	LoraStrength     []float64 `json:"lora_strength"`
	Input            string    `json:"input,omitempty"`            // source Item id (image-to-video)
	ControlNetPreset string    `json:"controlNetPreset,omitempty"` // preset name declared by the Model
	Frames           int       `json:"frames,omitempty"`           // video only
}

// Frame is one frame of a video Item.
type Frame struct {
	Number int    `json:"frameNumber"`
	FileID string `json:"fileID"`
}

// WorkflowRunParameter is a name/value pair of an API2 workflow run.
type WorkflowRunParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Item is a generated image or video, from the moment it is queued.
type Item struct {
	ID                    string
	UserID                string
	BatchID               string
	JobID                 string
	MType                 string // image|video
	MediaType             string // StaticImage, AnimatedImage, Video, ...
	Status                ItemStatus
	Error                 string // why it failed
	ModelID               string
	Prompt                string // after the prompt filter
	NegPrompt             string
	RawPrompt             string // as the user sent it
	RawNegPrompt          string
	IgnoredWords          string // comma-separated words the filter removed
	Params                GenerationParams
	GeneratorVersion      string // "1" legacy generator, "2" workflows
	WorkflowTemplateName  string
	WorkflowRunParameters []WorkflowRunParameter
	FileID                string  // the main output File
	Frames                []Frame // video frames, in order
	FolderID              string  // "" = root Folder
	FolderAddedAt         *time.Time
	IsPublic              bool
	PublicApprovalStatus  string
	IsProtected           bool
	ViewCount             int64
	LikeCount             int64
	DislikeCount          int64
	CreatedAt             time.Time
	UpdatedAt             time.Time
	CompletedAt           *time.Time
	DeletedAt             *time.Time
	// RemovedByReport: deleted because a report of it was accepted;
	// restoreItems by userID skips it (restoring it by id clears it).
	RemovedByReport bool
	// Untagged: the store read the Item with no tags (items.tag_count 0,
	// a listing's summary), so its tags need no look-up. False says
	// nothing: the tags are looked up.
	Untagged bool
}

// JobStatus is the state of a queued unit of work.
type JobStatus string

const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobCompleted JobStatus = "completed"
	JobFailed    JobStatus = "failed"
)

// Job is one unit of work for a worker: the Items of one generation request
// (a batch), rendered together.
type Job struct {
	ID             string
	Seq            int64 // enqueue order within the whole system
	QueueID        string
	ModelID        string
	Priority       int // 0 normal, 1 priority
	UserID         string
	BatchID        string
	ItemIDs        []string
	Kind           string // image|video
	Payload        []byte // JSON the backend needs (prompt, params)
	Status         JobStatus
	Attempts       int
	MaxAttempts    int
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	// LeaseDuration is how long the lease lasts after the claim and after
	// each heartbeat, as the server granted it (set by the worker
	// protocol's client; 0 = not known).
	LeaseDuration time.Duration
	Progress      float64 // 0..1
	Error         string
	EnqueuedAt    time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
}

// Reaction kinds: a user has at most one reaction per Item.
const (
	ReactionLike    = "like"
	ReactionDislike = "dislike"
)

// ReactionChange is one reaction call for the store: add or remove Kind on
// every Item of IDs (distinct) for UserID, in one transaction.
type ReactionChange struct {
	UserID string
	IDs    []string
	Kind   string // ReactionLike or ReactionDislike
	Remove bool
	At     time.Time
	// Check is asked, for each Item found, whether UserID may react to it;
	// it sees the Item as locked for the transaction, so what it checks
	// cannot change before the reaction is written. A non-nil error is that
	// Item's outcome.
	Check func(*Item) error
}

// ItemOp is what an ItemChange does to each Item it may change.
type ItemOp string

const (
	ItemDelete        ItemOp = "delete"  // soft: deleted_at set, out of its Folder
	ItemRestore       ItemOp = "restore" // deleted_at cleared, into the root Folder
	ItemToggleProtect ItemOp = "protect" // is_protected flipped
)

// ItemChange is one deleteItems, restoreItems or setProtected call (or a
// deleteUser with deleteItems) for the store, made in one transaction.
type ItemChange struct {
	Op ItemOp
	// IDs are the Items named (distinct); or, when OwnerID is set, every
	// Item of that user the Op concerns: live Items for ItemDelete, deleted
	// ones for ItemRestore (IDs is then ignored).
	IDs     []string
	OwnerID string
	At      time.Time
	// Check is asked, for each Item found, whether it may change; it sees
	// the Item locked for the transaction and whether its owner is deleted.
	// A non-nil error is that Item's outcome.
	Check func(it *Item, ownerDeleted bool) error
	// ByReport (ItemDelete only) marks the Items removed by an accepted
	// report; an Item already deleted keeps its deletedDate.
	ByReport bool
}

// ItemChanged is one Item's outcome of an ItemChange.
type ItemChanged struct {
	ID  string
	Err error // nil: changed
	// Protected is the Item's protected status after the call.
	Protected bool
}

// Why an Item cannot be deleted, whoever asks (DECISIONS.md "Items").
var (
	ErrItemProtected      = Errorf(CodeConflict, "Item is protected")
	ErrItemAlreadyDeleted = Errorf(CodeConflict, "Item is already deleted")
	ErrItemInProgress     = Errorf(CodeConflict, "Item is still queued or generating: cancel it instead")
)

// DeleteBlocker is why the Item cannot be deleted by anyone allowed to
// delete it (nil: it can be): protected, already deleted, queued or
// generating.
func (it *Item) DeleteBlocker() error {
	switch {
	case it.DeletedAt != nil:
		return ErrItemAlreadyDeleted
	case it.IsProtected:
		return ErrItemProtected
	case it.Status == StatusQueued || it.Status == StatusProcessing:
		return ErrItemInProgress
	}
	return nil
}

// ApprovalChange is one setItemProperties or setPublicApprovalStatus call
// for the store, made in one transaction.
type ApprovalChange struct {
	IDs []string // distinct
	// Owner, when set, is the user whose row is locked first and whose live
	// pending Items are counted for Decide (setItemProperties), so that
	// concurrent requests of one user count exactly.
	Owner string
	At    time.Time
	// Decide is asked, for each Item found, locked for the transaction,
	// what its new isPublic and publicApprovalStatus are. pending is the
	// Owner's live pending count (0 without Owner), ownerAbuse the owner's
	// abuse level. A non-nil error is that Item's outcome.
	Decide func(it *Item, pending, ownerAbuse int) (isPublic bool, status string, err error)
}
