package aimg

import (
	"encoding/json"
	"fmt"
)

// Media types of Models (the spec's Model.mediaType).
const (
	MediaStaticImage   = "StaticImage"
	MediaAnimatedImage = "AnimatedImage"
	MediaVideo         = "Video"
)

// Backends a Model can be served by: the built-in renderer (in-process or
// remote) and the GPU servers remote workers drive.
const (
	BackendBuiltin = "builtin"
	BackendComfyUI = "comfyui"
	BackendA1111   = "a1111"
	BackendOpenAI  = "openai"
)

// ImageThumbnail is the spec's ImageThumbnail.
type ImageThumbnail struct {
	ImageID string `yaml:"imageID" json:"imageID"`
	URL     string `yaml:"url" json:"url"`
}

// Model is an AI generation Model as configured: every field of the spec's
// Model object plus how AIMG serves it (Kind, Backend, video frames).
type Model struct {
	ModelID            string           `yaml:"modelID"`
	Name               string           `yaml:"name"`
	Description        string           `yaml:"description"`
	MediaType          string           `yaml:"mediaType"`
	MinTier            int              `yaml:"minTier"`
	Tier0Concurrent    int              `yaml:"tier0Concurrent"`
	Tier1Concurrent    int              `yaml:"tier1Concurrent"`
	Tier2Concurrent    int              `yaml:"tier2Concurrent"`
	PositiveTokens     []string         `yaml:"positiveTokens"`
	NegativeTokens     []string         `yaml:"negativeTokens"`
	SampleImages       []ImageThumbnail `yaml:"sampleImages"`
	MinSteps           int              `yaml:"minSteps"`
	MaxSteps           int              `yaml:"maxSteps"`
	AllowedWidths      []int            `yaml:"allowedWidths"`
	AllowedHeights     []int            `yaml:"allowedHeights"`
	MaxResolution      int              `yaml:"maxResolution"`
	DefaultResolution  []int            `yaml:"defaultResolution"` // [width, height]
	AllowedSamplers    []string         `yaml:"allowedSamplers"`
	DefaultSampler     string           `yaml:"defaultSampler"`
	MinCfgScale        float64          `yaml:"minCfgScale"`
	MaxCfgScale        float64          `yaml:"maxCfgScale"`
	SupportsVariations bool             `yaml:"supportsVariations"`
	RegistrationWall   bool             `yaml:"registrationWall"`
	DefaultFaceFix     bool             `yaml:"defaultFaceFix"`
	WikiURL            string           `yaml:"wikiURL"`

	// Kind is image or video (MTypeImage, MTypeVideo): what a job renders.
	Kind string `yaml:"kind"`
	// Backend names the renderer that serves the Model's queues.
	Backend string `yaml:"backend"`
	// Frames and FPS of a video Model's animation.
	Frames int `yaml:"frames"`
	FPS    int `yaml:"fps"`
	// ControlNetPresets are the preset names generateVideo accepts.
	ControlNetPresets []string `yaml:"controlNetPresets"`

	// What the backend serves the Model with (docs/decisions.md "Backend
	// requests in Jobs"); the backend's Registration checks them.
	// Workflow names the ComfyUI workflow template (comfyui).
	Workflow string `yaml:"workflow"`
	// Checkpoint is the checkpoint file (a1111: sd_model_checkpoint; comfyui:
	// the template's checkpoint parameter, else the template's default).
	Checkpoint string `yaml:"checkpoint"`
	// BackendModel is the server's model name (openai: "dall-e-3", a LocalAI model).
	BackendModel string `yaml:"model"`
}

// Queue ids (DECISIONS.md "Generation"): one normal and one priority queue per Model.
func NormalQueue(modelID string) string   { return modelID + "-p0-gen" }
func PriorityQueue(modelID string) string { return modelID + "-p1-gen" }

// QueueID is the queue of the given priority (0 normal, 1 priority).
func QueueID(modelID string, priority int) string {
	if priority > 0 {
		return PriorityQueue(modelID)
	}
	return NormalQueue(modelID)
}

// ConcurrentFor is how many Items a user of the tier may have queued or
// generating at once on the Model; tiers above 2 use tier 2's number.
func (m *Model) ConcurrentFor(tier int) int {
	switch {
	case tier <= 0:
		return m.Tier0Concurrent
	case tier == 1:
		return m.Tier1Concurrent
	default:
		return m.Tier2Concurrent
	}
}

// JobPayload is what a worker needs to render a Job; it travels as the
// Job's Payload (JSON), so in-process and remote workers read the same thing.
type JobPayload struct {
	Backend   string           `json:"backend"`
	Kind      string           `json:"kind"` // image|video
	Prompt    string           `json:"prompt"`
	NegPrompt string           `json:"negprompt"`
	Params    GenerationParams `json:"params"`
	FPS       int              `json:"fps,omitempty"`
	FolderID  string           `json:"folderID,omitempty"` // where completed Items go
	// InputFileID is the File of Params.Input (image-to-video), read
	// through the job source.
	InputFileID string `json:"inputFileID,omitempty"`
	// Request is the complete backend request the server resolved at
	// enqueue for the Model's backend (comfyui: the substituted workflow;
	// a1111: the txt2img/img2img body; openai: the images request); empty
	// for builtin, which renders from the fields above, and in Jobs queued
	// before requests existed.
	Request json.RawMessage `json:"request,omitempty"`
	// Workflow is set on the Jobs of API2's enqueueWorkflow: the template,
	// the parameters it ran with and the substituted workflow. Prompt and
	// Params above hold the same values, so every backend (builtin
	// included) renders from them.
	Workflow *WorkflowRun `json:"workflow,omitempty"`
}

// WorkflowRun is what an API2 workflow Job ran: its template, every
// parameter's value, and the template's ComfyUI workflow with them
// substituted.
type WorkflowRun struct {
	TemplateName string                 `json:"templateName"`
	Parameters   []WorkflowRunParameter `json:"parameters"`
	JSON         json.RawMessage        `json:"json,omitempty"`
}

// OutputRole says what an output file of a render is.
const (
	OutputImage     = "image"     // the single output of an image Item
	OutputFrame     = "frame"     // one frame of a video Item
	OutputAnimation = "animation" // the animated file of a video Item (its main file)
)

// OutputFile is one file a worker produced for an Item.
type OutputFile struct {
	Name        string
	ContentType string
	Role        string // OutputImage, OutputFrame, OutputAnimation
	FrameNumber int    // frames only, 0-based
	Data        []byte
}

// ItemOutput is everything a worker produced for one Item of a Job.
type ItemOutput struct {
	ItemID string
	Files  []OutputFile
}

// Validate checks that an ItemOutput has a main file (image or animation).
func (o ItemOutput) Validate() error {
	for _, f := range o.Files {
		if f.Role == OutputImage || f.Role == OutputAnimation {
			return nil
		}
	}
	return fmt.Errorf("output of item %s has no image or animation file", o.ItemID)
}

// Lease names one claim of a Job: the worker that holds it and the attempt it
// is. Every call a worker makes about the Job carries it, so a worker that
// lost the Job (its lease expired and the Job went to someone else, even a
// later attempt of itself) is refused.
type Lease struct {
	JobID    string `json:"jobID"`
	WorkerID string `json:"workerID"`
	Attempt  int    `json:"attempt"`
}

// ErrLeaseLost is returned to a worker whose claim on a Job is no longer valid.
var ErrLeaseLost = Errorf(CodeConflict, "The job's lease was lost: it was given back to its queue or finished elsewhere")

// Lease is the claim a running Job is under.
func (j *Job) Lease() Lease {
	return Lease{JobID: j.ID, WorkerID: j.LeaseOwner, Attempt: j.Attempts}
}
