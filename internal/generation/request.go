package generation

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Defaults from DECISIONS.md "Generation".
const (
	DefaultImageModel = "f222"
	DefaultVideoModel = "model3"
	DefaultSteps      = 20
	DefaultSampler    = "DPM++ 2M Karras"
	DefaultCFGScale   = 7.0
	MinCFGScale       = 1.0
	MaxCFGScale       = 12.0
	// MaxSeed keeps seeds exact in JSON numbers (2^53 - 1).
	MaxSeed = 1<<53 - 1
	// MaxIdempotencyKey bounds the Idempotency-Key header.
	MaxIdempotencyKey = 255
)

// ImageRequest is generateImage's body; nil means "not given".
type ImageRequest struct {
	Prompt          string
	NegPrompt       string
	ModelName       string
	Steps           *int
	Seed            *int64
	Subseed         *int64
	SubseedStrength *float64
	Width, Height   *int
	Sampler         *string
	CFGScale        *float64
	RestoreFaces    *bool
	FolderID        string
	IdempotencyKey  string
}

// VideoRequest is generateVideo's body.
type VideoRequest struct {
	Prompt           string
	ModelName        string
	Steps            *int
	Seed             *int64
	RestoreFaces     *bool
	Input            string // a source Item id (image-to-video)
	InputImage       []byte // or an uploaded source image (input.go); not both
	ControlNetPreset string
	FolderID         string
	IdempotencyKey   string
}

// Status is the spec's GenerationStatus.
type Status struct {
	ImageID       string          `json:"imageID"`
	FolderID      string          `json:"folderID,omitempty"`
	Status        aimg.ItemStatus `json:"status"`
	IgnoredWords  string          `json:"ignoredWords"`
	MType         string          `json:"mtype"`
	URL           string          `json:"url,omitempty"`
	QueuePosition *int64          `json:"queuePosition,omitempty"`
	// Progress is the fraction done (0..1) of a processing Item, as its
	// worker last reported it (heartbeats, generation.heartbeatInterval).
	Progress *float64 `json:"progress,omitempty"`
	// PreviewVersion, of a processing Item, counts the live previews its
	// worker sent (preview.go); absent: none yet. The latest is at
	// /items/{id}/preview in the web UI.
	PreviewVersion *int64       `json:"previewVersion,omitempty"`
	Frames         []VideoFrame `json:"frames,omitempty"`
}

// VideoFrame is the spec's VideoFrame.
type VideoFrame struct {
	FrameCount  int    `json:"frameCount"`
	FrameNumber int    `json:"frameNumber"`
	FrameURL    string `json:"frameUrl"`
}

// GenerateImage validates r against its Model and the caller, then queues it.
func (s *Service) GenerateImage(ctx context.Context, c aimg.Caller, r ImageRequest) (*Status, error) {
	m, p, err := s.imageRequest(c, r, 1)
	if err != nil {
		return nil, err
	}
	return s.enqueue(ctx, c, m, p)
}

// imageRequest validates r against its Model and the caller: the Job of
// count Items it asks for.
func (s *Service) imageRequest(c aimg.Caller, r ImageRequest, count int) (*aimg.Model, pending, error) {
	m, err := s.model(r.ModelName, DefaultImageModel, aimg.MTypeImage)
	if err != nil {
		return nil, pending{}, err
	}
	if err := s.checkAccess(c, m); err != nil {
		return nil, pending{}, err
	}
	params, err := imageParams(m, r)
	if err != nil {
		return nil, pending{}, err
	}
	if params.Seed, err = s.seedOf(r.Seed, "seed"); err != nil {
		return nil, pending{}, err
	}
	if r.Subseed != nil {
		if params.Subseed, err = s.seedOf(r.Subseed, "subseed"); err != nil {
			return nil, pending{}, err
		}
	}
	return m, pending{prompt: r.Prompt, negPrompt: r.NegPrompt, params: params, folderID: r.FolderID, key: r.IdempotencyKey,
		count: count}, nil
}

// GenerateVideo validates r against its Model and the caller, then queues it.
func (s *Service) GenerateVideo(ctx context.Context, c aimg.Caller, r VideoRequest) (*Status, error) {
	m, err := s.model(r.ModelName, DefaultVideoModel, aimg.MTypeVideo)
	if err != nil {
		return nil, err
	}
	if err := s.checkAccess(c, m); err != nil {
		return nil, err
	}
	p := aimg.GenerationParams{
		Sampler: m.DefaultSampler, CFGScale: clampCFG(m, DefaultCFGScale), RestoreFaces: m.DefaultFaceFix,
		Width: m.DefaultResolution[0], Height: m.DefaultResolution[1], Frames: m.Frames,
		Lora: []string{}, LoraStrength: []float64{},
	}
	if p.Steps, err = steps(m, r.Steps); err != nil {
		return nil, err
	}
	if r.RestoreFaces != nil {
		p.RestoreFaces = *r.RestoreFaces
	}
	if r.ControlNetPreset != "" && !slices.Contains(m.ControlNetPresets, r.ControlNetPreset) {
		return nil, aimg.Invalid("controlNetPreset", "%s is not a preset of Model %s (allowed: %s)",
			aimg.Quote(r.ControlNetPreset), m.ModelID, strings.Join(m.ControlNetPresets, ", "))
	}
	p.ControlNetPreset = r.ControlNetPreset
	if p.Seed, err = s.seedOf(r.Seed, "seed"); err != nil {
		return nil, err
	}
	pend := pending{prompt: r.Prompt, params: p, folderID: r.FolderID, key: r.IdempotencyKey}
	if r.InputImage != nil {
		return s.enqueueWithUpload(ctx, c, m, pend, r)
	}
	if r.Input != "" {
		if c.User == nil {
			return nil, aimg.Invalid("input", "Item %s not found", aimg.Quote(r.Input))
		}
		src, err := s.store.ItemByID(ctx, r.Input)
		if aimg.IsNotFound(err) || err == nil && (src.UserID != c.User.ID || src.DeletedAt != nil) {
			return nil, aimg.Invalid("input", "Item %s not found", aimg.Quote(r.Input))
		}
		if err != nil {
			return nil, err
		}
		if src.Status != aimg.StatusCompleted || src.MType != aimg.MTypeImage || src.FileID == "" {
			return nil, aimg.Invalid("input", "Item %s is not a completed image", aimg.Quote(r.Input))
		}
		pend.params.Input, pend.inputFileID = src.ID, src.FileID
	}
	return s.enqueue(ctx, c, m, pend)
}

// model finds the requested Model of the right kind (400 naming modelName).
func (s *Service) model(name, def, kind string) (*aimg.Model, error) {
	if name == "" {
		name = def
	}
	m, ok := s.byID[name]
	if !ok {
		return nil, aimg.Invalid("modelName", "unknown Model %s", aimg.Quote(name))
	}
	if m.Kind != kind {
		return nil, aimg.Invalid("modelName", "Model %s generates %ss, not %ss", aimg.Quote(name), m.Kind, kind)
	}
	return m, nil
}

// checkAccess applies the abuse level, the registration wall and the tier.
func (s *Service) checkAccess(c aimg.Caller, m *aimg.Model) error {
	if c.User != nil && c.User.Abuse >= aimg.AbuseNoGeneration {
		return aimg.Errorf(aimg.CodeForbidden, "Generation is disabled on this account")
	}
	if m.RegistrationWall && !c.SignedIn() {
		return aimg.Errorf(aimg.CodeUnauthorized, "Sign up to use Model %s", m.ModelID)
	}
	if tier := s.tier(c); m.MinTier > tier {
		return aimg.Errorf(aimg.CodeForbidden, "Model %s needs PRO tier %d (yours is %d)", m.ModelID, m.MinTier, tier)
	}
	return nil
}

// tier is the caller's PRO tier now; guests are tier 0.
func (s *Service) tier(c aimg.Caller) int {
	if c.User == nil || c.User.IsGuest {
		return 0
	}
	return c.User.EffectiveTier(s.now())
}

func imageParams(m *aimg.Model, r ImageRequest) (aimg.GenerationParams, error) {
	p := aimg.GenerationParams{
		Sampler: m.DefaultSampler, RestoreFaces: m.DefaultFaceFix,
		Width: m.DefaultResolution[0], Height: m.DefaultResolution[1],
		Lora: []string{}, LoraStrength: []float64{},
	}
	if p.Sampler == "" {
		p.Sampler = DefaultSampler
	}
	var err error
	if p.Steps, err = steps(m, r.Steps); err != nil {
		return p, err
	}
	if r.Width != nil {
		if !slices.Contains(m.AllowedWidths, *r.Width) {
			return p, aimg.Invalid("width", "%d is not allowed by Model %s (allowed: %s)", *r.Width, m.ModelID, ints(m.AllowedWidths))
		}
		p.Width = *r.Width
	}
	if r.Height != nil {
		if !slices.Contains(m.AllowedHeights, *r.Height) {
			return p, aimg.Invalid("height", "%d is not allowed by Model %s (allowed: %s)", *r.Height, m.ModelID, ints(m.AllowedHeights))
		}
		p.Height = *r.Height
	}
	if p.Width*p.Height > m.MaxResolution {
		field := "width"
		if r.Width == nil && r.Height != nil {
			field = "height"
		}
		return p, aimg.Invalid(field, "%dx%d is %d pixels, above Model %s's maxResolution %d",
			p.Width, p.Height, p.Width*p.Height, m.ModelID, m.MaxResolution)
	}
	if r.Sampler != nil {
		if !slices.Contains(m.AllowedSamplers, *r.Sampler) {
			return p, aimg.Invalid("sampler", "%s is not allowed by Model %s (allowed: %s)", aimg.Quote(*r.Sampler), m.ModelID, strings.Join(m.AllowedSamplers, ", "))
		}
		p.Sampler = *r.Sampler
	}
	p.CFGScale = clampCFG(m, DefaultCFGScale)
	if r.CFGScale != nil {
		v := *r.CFGScale
		lo, hi := math.Max(MinCFGScale, m.MinCfgScale), math.Min(MaxCFGScale, m.MaxCfgScale)
		if math.IsNaN(v) || v < lo || v > hi {
			return p, aimg.Invalid("cfgscale", "must be between %g and %g for Model %s, got %g", lo, hi, m.ModelID, v)
		}
		p.CFGScale = v
	}
	if r.SubseedStrength != nil {
		v := *r.SubseedStrength
		if math.IsNaN(v) || v < 0 || v > 1 {
			return p, aimg.Invalid("subseed_strength", "must be between 0 and 1, got %g", v)
		}
		p.SubseedStrength = v
	}
	if r.RestoreFaces != nil {
		p.RestoreFaces = *r.RestoreFaces
	}
	return p, nil
}

// clampCFG is the default cfgscale moved inside the Model's range.
func clampCFG(m *aimg.Model, v float64) float64 {
	return math.Min(math.Max(v, math.Max(MinCFGScale, m.MinCfgScale)), math.Min(MaxCFGScale, m.MaxCfgScale))
}

func steps(m *aimg.Model, v *int) (int, error) {
	if v == nil {
		return min(max(DefaultSteps, m.MinSteps), m.MaxSteps), nil
	}
	if *v < m.MinSteps || *v > m.MaxSteps {
		return 0, aimg.Invalid("steps", "must be between %d and %d for Model %s, got %d", m.MinSteps, m.MaxSteps, m.ModelID, *v)
	}
	return *v, nil
}

// seedOf is the given seed, or a random one when absent or negative (the
// usual "-1 = random" convention).
func (s *Service) seedOf(v *int64, field string) (int64, error) {
	if v == nil || *v < 0 {
		return s.seed(), nil
	}
	if *v > MaxSeed {
		return 0, aimg.Invalid(field, "must be at most %d", int64(MaxSeed))
	}
	return *v, nil
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// pending is a validated request on its way into the queue.
type pending struct {
	prompt, negPrompt string
	params            aimg.GenerationParams
	folderID          string
	inputFileID       string
	key               string
	count             int // Items in the Job (a batch renders together)
}

// enqueue filters the prompt, picks the queue and limits, and writes the
// Item and its Job.
func (s *Service) enqueue(ctx context.Context, c aimg.Caller, m *aimg.Model, p pending) (*Status, error) {
	_, res, err := s.enqueueJob(ctx, c, m, p)
	if err != nil {
		return nil, err
	}
	return s.status(ctx, res.ItemIDs[0])
}

// enqueueJob is enqueue's work: it writes the Job with p.count Items and
// returns it.
func (s *Service) enqueueJob(ctx context.Context, c aimg.Caller, m *aimg.Model, p pending) (*aimg.Job, aimg.Enqueued, error) {
	var none aimg.Enqueued
	p.count = max(p.count, 1)
	if strings.TrimSpace(p.prompt) == "" {
		return nil, none, aimg.Invalid("prompt", "is required")
	}
	if n := utf8.RuneCountInString(p.prompt); n > s.cfg.MaxPromptLength {
		return nil, none, aimg.Invalid("prompt", "is %d characters; at most %d", n, s.cfg.MaxPromptLength)
	}
	if n := utf8.RuneCountInString(p.negPrompt); n > s.cfg.MaxPromptLength {
		return nil, none, aimg.Invalid("negprompt", "is %d characters; at most %d", n, s.cfg.MaxPromptLength)
	}
	if len(p.key) > MaxIdempotencyKey {
		return nil, none, aimg.Invalid("Idempotency-Key", "must be at most %d characters", MaxIdempotencyKey)
	}
	if p.folderID != "" {
		id := strings.TrimPrefix(p.folderID, "p-")
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			return nil, none, aimg.Invalid("folderID", "%s is not a Folder id", aimg.Quote(p.folderID))
		}
	}
	prompt, removed := s.filter.Filter(p.prompt)
	neg, removedNeg := s.filter.Filter(p.negPrompt)
	for _, w := range removedNeg {
		if !slices.Contains(removed, w) {
			removed = append(removed, w)
		}
	}
	if prompt == "" {
		return nil, none, aimg.Invalid("prompt", "nothing is left after removing banned words (%s)", strings.Join(removed, ", "))
	}

	user, err := s.guests.GuestUser(ctx, c)
	if err != nil {
		return nil, none, err
	}
	// A new Item is not public, and a Public Folder holds public Items
	// only; a Private Folder must be the user's own.
	if strings.HasPrefix(p.folderID, "p-") {
		return nil, none, aimg.Invalid("folderID", "is a Public Folder: it takes approved public Items only; generate into a Private Folder")
	}
	if p.folderID != "" {
		if _, err := s.store.FolderByID(ctx, user.ID, p.folderID); aimg.IsNotFound(err) {
			return nil, none, &aimg.Error{Code: aimg.CodeNotFound, Field: "folderID", Message: "folderID: Folder not found"}
		} else if err != nil {
			return nil, none, err
		}
	}
	tier := s.tier(aimg.Caller{User: user})
	priority := 0
	if tier >= 1 && user.Abuse < aimg.AbuseNoPriority {
		priority = 1
	}
	maxActive := m.ConcurrentFor(tier)
	if user.Abuse >= aimg.AbuseConcurrencyOne {
		maxActive = min(maxActive, 1)
	}
	hourly := 0
	if user.Abuse >= aimg.AbuseHourlyLimit {
		hourly = s.cfg.HourlyLimit
	}

	jp := aimg.JobPayload{
		Backend: m.Backend, Kind: m.Kind, Prompt: prompt, NegPrompt: neg, Params: p.params, FPS: m.FPS,
		FolderID: p.folderID, InputFileID: p.inputFileID,
	}
	if s.ResolveRequest != nil {
		// The server resolves the backend's whole request now, so workers
		// stay dumb (docs/decisions.md "Backend requests in Jobs").
		if jp.Request, err = s.ResolveRequest(*m, jp, p.count); err != nil {
			return nil, none, err
		}
	}
	payload, err := json.Marshal(jp)
	if err != nil {
		return nil, none, err
	}
	now := s.now()
	items := make([]*aimg.Item, p.count)
	for i := range items {
		params := p.params
		params.Seed += int64(i) // a batch's Items have consecutive seeds
		items[i] = &aimg.Item{
			ID: uuid.NewString(), UserID: user.ID, MType: m.Kind, MediaType: m.MediaType, ModelID: m.ModelID,
			Prompt: prompt, NegPrompt: neg, RawPrompt: p.prompt, RawNegPrompt: p.negPrompt,
			IgnoredWords: strings.Join(removed, ","), Params: params, GeneratorVersion: "1",
		}
	}
	job := &aimg.Job{
		ID: uuid.NewString(), QueueID: aimg.QueueID(m.ModelID, priority), ModelID: m.ModelID, Priority: priority,
		UserID: user.ID, BatchID: uuid.NewString(), Kind: m.Kind, Payload: payload, MaxAttempts: s.cfg.MaxAttempts,
	}
	res, err := s.store.Enqueue(ctx, aimg.NewJob{
		Job: job, Items: items, MaxActive: maxActive, HourlyLimit: hourly,
		IdempotencyKey: p.key, IdempotencyTTL: s.cfg.IdempotencyTTL, Now: now,
	})
	if err != nil {
		return nil, none, err
	}
	if !res.Replayed && s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return job, res, nil
}

// ItemStatus is getItemStatus: only the Item's owner sees it; anyone else
// gets not found, as if it did not exist.
func (s *Service) ItemStatus(ctx context.Context, c aimg.Caller, itemID string) (*Status, error) {
	if itemID == "" {
		return nil, aimg.Invalid("imageID", "is required")
	}
	it, err := s.store.ItemByID(ctx, itemID)
	if err != nil {
		return nil, err
	}
	if c.User == nil || it.UserID != c.User.ID || it.DeletedAt != nil {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Item not found")
	}
	return s.statusOf(ctx, it)
}

func (s *Service) status(ctx context.Context, itemID string) (*Status, error) {
	it, err := s.store.ItemByID(ctx, itemID)
	if err != nil {
		return nil, err
	}
	return s.statusOf(ctx, it)
}

func (s *Service) statusOf(ctx context.Context, it *aimg.Item) (*Status, error) {
	st := &Status{ImageID: it.ID, FolderID: it.FolderID, Status: it.Status, IgnoredWords: it.IgnoredWords, MType: it.MType}
	if it.FileID != "" {
		st.URL = s.files.URL(it.FileID)
	}
	if it.MType == aimg.MTypeVideo && len(it.Frames) > 0 {
		for _, f := range it.Frames {
			st.Frames = append(st.Frames, VideoFrame{FrameCount: len(it.Frames), FrameNumber: f.Number, FrameURL: s.files.URL(f.FileID)})
		}
	}
	if it.JobID == "" {
		return st, nil
	}
	wantFolder := st.FolderID == "" && it.Status != aimg.StatusCompleted
	var job *aimg.Job // read once, for the requested Folder and the progress
	if wantFolder || it.Status == aimg.StatusProcessing {
		var err error
		if job, err = s.store.JobByID(ctx, it.JobID); err != nil {
			return nil, err
		}
	}
	if wantFolder {
		// The requested Folder, which the Item enters when it completes.
		var p aimg.JobPayload
		if err := json.Unmarshal(job.Payload, &p); err == nil {
			st.FolderID = p.FolderID
		}
	}
	switch it.Status {
	case aimg.StatusQueued:
		pos, err := s.store.QueuePosition(ctx, it.JobID)
		if err != nil {
			return nil, err
		}
		st.QueuePosition = &pos
	case aimg.StatusProcessing:
		var zero int64 // out of the queue, being generated
		st.QueuePosition = &zero
		if job.Status == aimg.JobRunning {
			p := job.Progress
			st.Progress = &p
			v, err := s.store.ItemPreviewVersion(ctx, it.ID)
			if err != nil {
				return nil, err
			}
			if v > 0 {
				st.PreviewVersion = &v
			}
		}
	}
	return st, nil
}
