package generation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/generation/workflows"
)

// Budgets of API2 requests (docs/security.md).
const (
	// MaxWorkflowItems bounds batchSize whatever a template allows.
	MaxWorkflowItems = 16
	// MaxRunParameters bounds enqueueWorkflow's parameters array.
	MaxRunParameters = workflows.MaxParameters
	// MaxWorkflowIDs bounds getWorkflowStatus's workflowIds.
	MaxWorkflowIDs = 100
)

// API2Access is the rule of every API2 endpoint: a signed-in User whose
// PRO tier is above 0 (401 for no session or a guest, 403 for tier 0).
func (s *Service) API2Access(c aimg.Caller) error {
	if c.User == nil || c.User.IsGuest || !c.SignedIn() {
		return aimg.Errorf(aimg.CodeUnauthorized, "API2 needs a signed-in User with PRO tier 1 or higher")
	}
	if tier := s.tier(c); tier < 1 {
		return aimg.Errorf(aimg.CodeForbidden, "API2 needs PRO tier 1 or higher (yours is %d)", tier)
	}
	return nil
}

// Templates returns the workflow templates, by name; with names, only
// those (unknown names are ignored).
func (s *Service) Templates(names []string) []*workflows.Template {
	set := s.workflowSet()
	out := []*workflows.Template{}
	for _, n := range set.Names() {
		if len(names) == 0 || contains(names, n) {
			t, _ := set.Lookup(n)
			out = append(out, t)
		}
	}
	return out
}

// FileGroupItems are the files of a file group of the templates (404 for a
// group no template has).
func (s *Service) FileGroupItems(group string) ([]string, error) {
	if group == "" {
		return nil, aimg.Invalid("fileGroup", "is required")
	}
	names, ok := s.workflowSet().Groups()[group]
	if !ok {
		return nil, &aimg.Error{Code: aimg.CodeNotFound, Field: "fileGroup", Message: fmt.Sprintf("fileGroup: no template has a file group %s", aimg.Quote(group))}
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

func (s *Service) workflowSet() *workflows.Set {
	if s.Workflows == nil {
		return workflows.Builtin()
	}
	return s.Workflows
}

// WorkflowRequest is enqueueWorkflow's body; nil means "not given". The
// explicit fields are shorthands for the template's parameters of the
// standard optionNames (docs/decisions.md "API2 (issue 9)").
type WorkflowRequest struct {
	TemplateName    string
	Parameters      []aimg.WorkflowRunParameter
	Prompt          *string
	NegPrompt       *string
	Seed            *float64
	Subseed         *float64
	SubseedStrength *float64
	Steps           *float64
	CFGScale        *float64
	ModelName       string
	Lora            []string
	LoraStrength    []float64
	Width, Height   *float64
	BatchSize       *float64
	FolderID        string
}

// Enqueued is enqueueWorkflow's answer.
type Enqueued struct {
	ItemIDs    []string `json:"itemIds"`
	WorkflowID string   `json:"workflowId"`
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// EnqueueWorkflow validates r against its template and queues one Job of
// batchSize Items on the Model that runs the template.
func (s *Service) EnqueueWorkflow(ctx context.Context, c aimg.Caller, r WorkflowRequest) (*Enqueued, error) {
	if err := s.API2Access(c); err != nil {
		return nil, err
	}
	if r.TemplateName == "" {
		return nil, aimg.Invalid("workflowTemplateName", "is required")
	}
	t, ok := s.workflowSet().Lookup(r.TemplateName)
	if !ok {
		return nil, aimg.Invalid("workflowTemplateName", "unknown Workflow Template %s (known: %s)",
			aimg.Quote(r.TemplateName), strings.Join(s.workflowSet().Names(), ", "))
	}
	if len(r.Parameters) > MaxRunParameters {
		return nil, aimg.Invalid("parameters", "at most %d, got %d", MaxRunParameters, len(r.Parameters))
	}
	values := map[string]string{} // optionName → value
	field := map[string]string{}  // optionName → how the request named it, for errors
	for i, rp := range r.Parameters {
		p, ok := t.ByName(rp.Name)
		if !ok {
			return nil, aimg.Invalid(fmt.Sprintf("parameters[%d]", i), "Workflow Template %s has no parameter %s", t.Name, aimg.Quote(rp.Name))
		}
		if _, dup := values[p.OptionName]; dup {
			return nil, aimg.Invalid(rp.Name, "is given twice")
		}
		values[p.OptionName], field[p.OptionName] = rp.Value, rp.Name
	}
	set := func(name, option, value string) error {
		if _, ok := t.Parameter(option); !ok {
			return aimg.Invalid(name, "Workflow Template %s has no %s parameter", t.Name, aimg.Quote(option))
		}
		if old, given := values[option]; given && old != value {
			return aimg.Invalid(name, "conflicts with parameter %s (%s)", aimg.Quote(field[option]), aimg.Quote(old))
		}
		values[option], field[option] = value, name
		return nil
	}
	m, checkpoint, err := s.workflowModel(t, r.ModelName)
	if err != nil {
		return nil, err
	}
	if err := s.checkAccess(c, m); err != nil {
		return nil, err
	}
	explicit := []struct {
		name, option string
		v            *float64
	}{
		{"steps", "steps", r.Steps}, {"cfgscale", "cfgscale", r.CFGScale}, {"width", "width", r.Width},
		{"height", "height", r.Height}, {"batchSize", "batchSize", r.BatchSize},
		{"subseed", "subseed", r.Subseed}, {"subseed_strength", "subseed_strength", r.SubseedStrength},
	}
	if r.Prompt != nil {
		if err := set("prompt", "prompt", *r.Prompt); err != nil {
			return nil, err
		}
	}
	if r.NegPrompt != nil {
		if err := set("negprompt", "negprompt", *r.NegPrompt); err != nil {
			return nil, err
		}
	}
	if r.Seed != nil {
		seed := *r.Seed
		if seed < 0 { // -1 = random, as generateImage
			seed = float64(s.seed())
		}
		if err := set("seed", "seed", num(seed)); err != nil {
			return nil, err
		}
	}
	for _, e := range explicit {
		if e.v != nil {
			if err := set(e.name, e.option, num(*e.v)); err != nil {
				return nil, err
			}
		}
	}
	if checkpoint != "" {
		if err := set("modelName", "checkpoint", checkpoint); err != nil {
			return nil, err
		}
	}
	if len(r.LoraStrength) > len(r.Lora) {
		return nil, aimg.Invalid("lora_strength", "has %d strengths for %d LoRAs", len(r.LoraStrength), len(r.Lora))
	}
	for i, l := range r.Lora {
		n := strconv.Itoa(i + 1)
		if _, ok := t.Parameter("lora" + n); !ok {
			return nil, aimg.Invalid("lora", "Workflow Template %s takes at most %d LoRAs, got %d", t.Name, i, len(r.Lora))
		}
		if err := set("lora", "lora"+n, l); err != nil {
			return nil, err
		}
		if i < len(r.LoraStrength) {
			if err := set("lora_strength", "lora"+n+"_strength", num(r.LoraStrength[i])); err != nil {
				return nil, err
			}
		}
	}
	if _, given := values["checkpoint"]; !given && m.Checkpoint != "" {
		if _, ok := t.Parameter("checkpoint"); ok {
			values["checkpoint"], field["checkpoint"] = m.Checkpoint, "modelName"
		}
	}

	// The prompt goes through the banned-word filter like generateImage's.
	rawPrompt, rawNeg := values["prompt"], values["negprompt"]
	var removed []string
	for _, opt := range []string{"prompt", "negprompt"} {
		v, given := values[opt]
		if !given {
			continue
		}
		if n := utf8.RuneCountInString(v); n > s.cfg.MaxPromptLength {
			return nil, aimg.Invalid(field[opt], "is %d characters; at most %d", n, s.cfg.MaxPromptLength)
		}
		filtered, words := s.filter.Filter(v)
		for _, w := range words {
			if !contains(removed, w) {
				removed = append(removed, w)
			}
		}
		if opt == "prompt" && strings.TrimSpace(v) != "" && filtered == "" {
			return nil, aimg.Invalid(field[opt], "nothing is left after removing banned words (%s)", strings.Join(removed, ", "))
		}
		values[opt] = filtered
	}

	// Each value against its parameter, then the substitution itself.
	run := t.Values(values)
	for _, rv := range run {
		p := rv.Parameter
		name := field[p.OptionName]
		if name == "" {
			name = p.Name
		}
		if !p.IsOptional && strings.TrimSpace(rv.Value) == "" {
			return nil, aimg.Invalid(name, "is required by Workflow Template %s", t.Name)
		}
		if err := p.Check(rv.Value); err != nil {
			return nil, aimg.Invalid(name, "%v", err)
		}
	}
	wf, err := t.Substitute(values)
	var ve *workflows.ValueError
	if errors.As(err, &ve) {
		name := field[ve.Name]
		if name == "" {
			name = ve.Name
		}
		return nil, aimg.Invalid(name, "%v", ve.Err)
	}
	if err != nil {
		return nil, err
	}

	eff := map[string]string{}
	for _, rv := range run {
		eff[rv.Parameter.OptionName] = rv.Value
	}
	runParams := make([]aimg.WorkflowRunParameter, 0, len(run))
	for _, rv := range run {
		// A LoRA strength without its LoRA (the loader is taken out of the
		// graph) did not run: it is not listed.
		if lora, ok := strings.CutSuffix(rv.Parameter.OptionName, "_strength"); ok && strings.HasPrefix(lora, "lora") && eff[lora] == "" {
			continue
		}
		runParams = append(runParams, aimg.WorkflowRunParameter{Name: rv.Parameter.Name, Value: rv.Value})
	}
	items := 1
	if v, ok := eff["batchSize"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxWorkflowItems {
			return nil, aimg.Invalid(nameOf(field, "batchSize", "Batch Size"), "must be a whole number between 1 and %d, got %s", MaxWorkflowItems, aimg.Quote(v))
		}
		items = n
	}
	params := workflowParams(m, eff)
	if err := s.checkFolderID(ctx, r.FolderID); err != nil {
		return nil, err
	}

	user, err := s.guests.GuestUser(ctx, c)
	if err != nil {
		return nil, err
	}
	if r.FolderID != "" {
		if _, err := s.store.FolderByID(ctx, user.ID, r.FolderID); aimg.IsNotFound(err) {
			return nil, &aimg.Error{Code: aimg.CodeNotFound, Field: "folderID", Message: "folderID: Folder not found"}
		} else if err != nil {
			return nil, err
		}
	}
	priority, maxActive, hourly := s.limits(user, m)

	jp := aimg.JobPayload{
		Backend: m.Backend, Kind: m.Kind, Prompt: eff["prompt"], NegPrompt: eff["negprompt"], Params: params,
		FolderID: r.FolderID,
		Workflow: &aimg.WorkflowRun{TemplateName: t.Name, Parameters: runParams, JSON: wf},
	}
	if m.Backend == aimg.BackendComfyUI {
		// The comfyui request shape (docs/decisions.md "Backend requests in
		// Jobs"): the substituted workflow; API2 has no input images.
		if jp.Request, err = json.Marshal(struct {
			Workflow json.RawMessage `json:"workflow"`
		}{wf}); err != nil {
			return nil, err
		}
	}
	payload, err := json.Marshal(jp)
	if err != nil {
		return nil, err
	}
	job := &aimg.Job{
		ID: uuid.NewString(), QueueID: aimg.QueueID(m.ModelID, priority), ModelID: m.ModelID, Priority: priority,
		UserID: user.ID, BatchID: uuid.NewString(), Kind: m.Kind, Payload: payload, MaxAttempts: s.cfg.MaxAttempts,
	}
	its := make([]*aimg.Item, items)
	for i := range its {
		p := params
		p.Seed = params.Seed + int64(i) // a batch's Items have consecutive seeds
		its[i] = &aimg.Item{
			ID: uuid.NewString(), UserID: user.ID, MType: m.Kind, MediaType: m.MediaType, ModelID: m.ModelID,
			Prompt: eff["prompt"], NegPrompt: eff["negprompt"], RawPrompt: rawPrompt, RawNegPrompt: rawNeg,
			IgnoredWords: strings.Join(removed, ","), Params: p, GeneratorVersion: "2",
			WorkflowTemplateName: t.Name, WorkflowRunParameters: runParams,
		}
	}
	res, err := s.store.Enqueue(ctx, aimg.NewJob{
		Job: job, Items: its, MaxActive: maxActive, HourlyLimit: hourly, Now: s.now(),
	})
	if err != nil {
		return nil, err
	}
	if s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return &Enqueued{ItemIDs: res.ItemIDs, WorkflowID: job.ID}, nil
}

func nameOf(field map[string]string, option, def string) string {
	if n := field[option]; n != "" {
		return n
	}
	return def
}

// workflowModel is the Model that runs template t and the checkpoint
// modelName asks for: modelName when it is a Model id (then no checkpoint
// is asked for); else the first image Model whose workflow is t, or the
// default image Model, with modelName (if any) as the checkpoint.
func (s *Service) workflowModel(t *workflows.Template, modelName string) (*aimg.Model, string, error) {
	var m *aimg.Model
	checkpoint := ""
	if mm, ok := s.byID[modelName]; ok && modelName != "" {
		m = mm
		if m.Kind != aimg.MTypeImage {
			return nil, "", aimg.Invalid("modelName", "Model %s generates %ss; workflows render images", m.ModelID, m.Kind)
		}
	} else {
		checkpoint = modelName
		for i := range s.models {
			if s.models[i].Kind == aimg.MTypeImage && s.models[i].Workflow == t.Name {
				m = &s.models[i]
				break
			}
		}
		if m == nil {
			m = s.byID[DefaultImageModel]
		}
		for i := range s.models {
			if m == nil && s.models[i].Kind == aimg.MTypeImage {
				m = &s.models[i]
			}
		}
		if m == nil {
			return nil, "", aimg.Errorf(aimg.CodeUnavailable, "no image Model is configured to run workflows")
		}
	}
	if m.Backend != aimg.BackendBuiltin && m.Backend != aimg.BackendComfyUI {
		return nil, "", aimg.Invalid("modelName", "Model %s runs on %s, which does not run workflows (builtin and comfyui do)", m.ModelID, m.Backend)
	}
	return m, checkpoint, nil
}

// workflowParams are the Item's generation parameters read back from the
// values the workflow runs with; what the template does not set comes from
// the Model's defaults (the builtin backend renders from these).
func workflowParams(m *aimg.Model, v map[string]string) aimg.GenerationParams {
	p := aimg.GenerationParams{
		Sampler: m.DefaultSampler, Width: m.DefaultResolution[0], Height: m.DefaultResolution[1],
		Steps: min(max(DefaultSteps, m.MinSteps), m.MaxSteps), CFGScale: clampCFG(m, DefaultCFGScale),
		Lora: []string{}, LoraStrength: []float64{},
	}
	atoi := func(option string, dst *int) {
		if n, err := strconv.ParseFloat(strings.TrimSpace(v[option]), 64); err == nil {
			*dst = int(n)
		}
	}
	atoi("steps", &p.Steps)
	atoi("width", &p.Width)
	atoi("height", &p.Height)
	if f, err := strconv.ParseFloat(strings.TrimSpace(v["cfgscale"]), 64); err == nil {
		p.CFGScale = f
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(v["seed"]), 10, 64); err == nil {
		p.Seed = n
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(v["subseed"]), 10, 64); err == nil {
		p.Subseed = n
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(v["subseed_strength"]), 64); err == nil {
		p.SubseedStrength = f
	}
	if smp := v["sampler"]; smp != "" {
		p.Sampler = strings.TrimSpace(smp + " " + v["scheduler"])
	}
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		name, ok := v["lora"+n]
		if !ok {
			break
		}
		if name == "" {
			continue
		}
		strength := 1.0
		if f, err := strconv.ParseFloat(strings.TrimSpace(v["lora"+n+"_strength"]), 64); err == nil {
			strength = f
		}
		p.Lora, p.LoraStrength = append(p.Lora, name), append(p.LoraStrength, strength)
	}
	return p
}

func (s *Service) checkFolderID(_ context.Context, folderID string) error {
	if folderID == "" {
		return nil
	}
	if strings.HasPrefix(folderID, "p-") {
		return aimg.Invalid("folderID", "is a Public Folder: it takes approved public Items only; generate into a Private Folder")
	}
	if _, err := uuid.Parse(folderID); err != nil || len(folderID) != 36 {
		return aimg.Invalid("folderID", "%s is not a Folder id", aimg.Quote(folderID))
	}
	return nil
}

// limits are the queue priority, the concurrency limit and the hourly
// limit of user on m, as generateImage applies them.
func (s *Service) limits(user *aimg.User, m *aimg.Model) (priority, maxActive, hourly int) {
	tier := s.tier(aimg.Caller{User: user})
	if tier >= 1 && user.Abuse < aimg.AbuseNoPriority {
		priority = 1
	}
	maxActive = m.ConcurrentFor(tier)
	if user.Abuse >= aimg.AbuseConcurrencyOne {
		maxActive = min(maxActive, 1)
	}
	if user.Abuse >= aimg.AbuseHourlyLimit {
		hourly = s.cfg.HourlyLimit
	}
	return priority, maxActive, hourly
}

// WorkflowState is the spec's WorkflowStateObject.
type WorkflowState struct {
	ID                 string            `json:"_id"`
	PublicID           string            `json:"publicId"`
	RunParameters      WorkflowRunParams `json:"runParamaters"`
	IsStarted          bool              `json:"isStarted"`
	IsComplete         bool              `json:"isComplete"`
	IsError            bool              `json:"isError"`
	ErrorMessage       string            `json:"errorMessage,omitempty"`
	OutputFiles        []WorkflowOutput  `json:"outputFiles"`
	Log                []string          `json:"log"`
	WorkflowJSONString string            `json:"workflowJsonString,omitempty"`
	State              string            `json:"state"`
	StartTime          string            `json:"startTime"`
	EndTime            string            `json:"endTime"`
	API2UserEmail      string            `json:"api2userEmail,omitempty"`
	ItemIDs            []string          `json:"itemIds"`
	Progress           float64           `json:"progress"`
	QueuePosition      *int64            `json:"queuePosition,omitempty"`
}

// WorkflowRunParams is WorkflowStateObject.runParamaters (the spec's spelling).
type WorkflowRunParams struct {
	PublicID             *string                     `json:"publicId"`
	WorkflowTemplateName string                      `json:"workflowTemplateName"`
	Parameters           []aimg.WorkflowRunParameter `json:"parameters"`
}

// WorkflowOutput is the spec's WorkflowOutputFileEntry.
type WorkflowOutput struct {
	Note         string `json:"note,omitempty"`
	FileName     string `json:"fileName,omitempty"`
	DownloadURL  string `json:"downloadURL,omitempty"`
	IsMainOutput bool   `json:"isMainOutput"`
	Height       int    `json:"height"`
	Width        int    `json:"width"`
	Type         string `json:"type,omitempty"`
}

// WorkflowStatus is getWorkflowStatus for the caller's own workflows: a
// workflow of someone else, or none, is not found.
func (s *Service) WorkflowStatus(ctx context.Context, c aimg.Caller, id string) (*WorkflowState, error) {
	if err := s.API2Access(c); err != nil {
		return nil, err
	}
	return s.workflowState(ctx, c, id)
}

// WorkflowStatuses is getWorkflowStatus with several ids: the caller's
// workflows among them, in the order asked (others are left out).
func (s *Service) WorkflowStatuses(ctx context.Context, c aimg.Caller, ids []string) ([]*WorkflowState, error) {
	if err := s.API2Access(c); err != nil {
		return nil, err
	}
	if len(ids) > MaxWorkflowIDs {
		return nil, aimg.Invalid("workflowIds", "at most %d ids, got %d", MaxWorkflowIDs, len(ids))
	}
	out := []*WorkflowState{}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		st, err := s.workflowState(ctx, c, id)
		if aimg.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Service) workflowState(ctx context.Context, c aimg.Caller, id string) (*WorkflowState, error) {
	notFound := aimg.Errorf(aimg.CodeNotFound, "Workflow %s not found", aimg.Quote(id))
	if _, err := uuid.Parse(id); err != nil {
		return nil, notFound
	}
	job, err := s.store.JobByID(ctx, id)
	if aimg.IsNotFound(err) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	var p aimg.JobPayload
	if job.UserID != c.User.ID || json.Unmarshal(job.Payload, &p) != nil || p.Workflow == nil {
		return nil, notFound
	}
	st := &WorkflowState{
		ID: job.ID, PublicID: job.ID,
		RunParameters: WorkflowRunParams{WorkflowTemplateName: p.Workflow.TemplateName, Parameters: p.Workflow.Parameters},
		IsStarted:     job.Status != aimg.JobQueued, IsComplete: job.Status == aimg.JobCompleted,
		IsError: job.Status == aimg.JobFailed, ErrorMessage: job.Error, OutputFiles: []WorkflowOutput{}, Log: []string{},
		WorkflowJSONString: string(p.Workflow.JSON), API2UserEmail: c.User.Email, ItemIDs: job.ItemIDs,
		Progress: job.Progress,
	}
	if st.ItemIDs == nil {
		st.ItemIDs = []string{}
	}
	switch job.Status {
	case aimg.JobCompleted:
		st.State, st.Progress = "completed", 1
	case aimg.JobFailed:
		st.State = "error"
	default:
		st.State = "running"
	}
	st.StartTime = iso(job.StartedAt)
	if job.StartedAt == nil {
		st.StartTime = iso(&job.EnqueuedAt)
	}
	st.EndTime = iso(job.FinishedAt)
	for i, itemID := range job.ItemIDs {
		it, err := s.store.ItemByID(ctx, itemID)
		if aimg.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if i == 0 && job.Status == aimg.JobQueued {
			// The queue position getItemStatus shows (one Job, one position).
			ist, err := s.statusOf(ctx, it)
			if err != nil {
				return nil, err
			}
			st.QueuePosition = ist.QueuePosition
		}
		if it.Status != aimg.StatusCompleted || it.FileID == "" || it.DeletedAt != nil {
			continue
		}
		st.OutputFiles = append(st.OutputFiles, WorkflowOutput{
			Note: fmt.Sprintf("Item %d of %d (%s)", i+1, len(job.ItemIDs), it.ID), DownloadURL: s.files.URL(it.FileID),
			IsMainOutput: true, Width: it.Params.Width, Height: it.Params.Height,
		})
	}
	return st, nil
}

func iso(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
