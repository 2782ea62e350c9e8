package comfyui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/generation/workflows"
	"aimg/internal/worker"
)

// JobRequest is payload.request of a comfyui Job: the workflow with every
// parameter substituted, and where the Job's input image goes (a
// LoadImage node's input), if it has one.
type JobRequest struct {
	Workflow json.RawMessage `json:"workflow"`
	Inputs   []JobInput      `json:"inputs,omitempty"`
}

// JobInput names the node input that takes the Job's input image.
type JobInput struct {
	NodeID    string `json:"nodeId"`
	InputName string `json:"inputName,omitempty"` // default "image"
}

// comfySamplers are the KSampler sampler_name of each classic sampler.
var comfySamplers = map[string]string{
	"Euler a": "euler_ancestral", "Euler": "euler", "LMS": "lms", "Heun": "heun", "DPM2": "dpm_2",
	"DPM2 a": "dpm_2_ancestral", "DPM++ 2S a": "dpmpp_2s_ancestral", "DPM++ 2M": "dpmpp_2m",
	"DPM++ SDE": "dpmpp_sde", "DPM++ 2M SDE": "dpmpp_2m_sde", "DPM fast": "dpm_fast",
	"DPM adaptive": "dpm_adaptive", "DDIM": "ddim", "UniPC": "uni_pc", "LCM": "lcm",
}

// Sampler maps a classic sampler name to KSampler's sampler_name and
// scheduler (DDIM's default schedule is ddim_uniform, the others' normal).
func Sampler(name string) (sampler, scheduler string, ok bool) {
	base, schedule, ok := worker.SplitSampler(name)
	if !ok {
		return "", "", false
	}
	sampler, ok = comfySamplers[base]
	switch {
	case schedule != "":
		scheduler = strings.ToLower(schedule)
	case base == "DDIM":
		scheduler = "ddim_uniform"
	default:
		scheduler = "normal"
	}
	return sampler, scheduler, ok
}

// Registration is ComfyUI as a server-side backend: remote workers only
// (no New), Models checked against their workflow template, and each Job's
// request resolved from the template.
func Registration(templates *workflows.Set) worker.Registration {
	return worker.Registration{
		Name:       aimg.BackendComfyUI,
		CheckModel: func(m aimg.Model) []error { return checkModel(templates, m) },
		Request: func(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
			return request(templates, m, p, items)
		},
	}
}

func checkModel(templates *workflows.Set, m aimg.Model) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if m.Kind != aimg.MTypeImage {
		bad("kind", "the comfyui backend renders images, not %q", m.Kind)
	}
	if m.Workflow == "" {
		bad("workflow", "a comfyui Model needs a workflow template (one of %s)", strings.Join(templates.Names(), ", "))
		return errs
	}
	t, ok := templates.Lookup(m.Workflow)
	if !ok {
		bad("workflow", "no workflow template %q (known: %s)", m.Workflow, strings.Join(templates.Names(), ", "))
		return errs
	}
	if p, ok := t.Parameter("prompt"); !ok || p.DataType != workflows.TypeString {
		bad("workflow", "template %s has no string parameter \"prompt\"", t.Name)
	}
	accepts := func(field, option, value string) {
		if p, ok := t.Parameter(option); ok {
			if err := p.Check(value); err != nil {
				bad(field, "template %s's %s %v", t.Name, option, err)
			}
		}
	}
	for _, s := range m.AllowedSamplers {
		sampler, scheduler, ok := Sampler(s)
		if !ok {
			bad("allowedSamplers", "%q has no ComfyUI sampler", s)
			continue
		}
		accepts("allowedSamplers", "sampler", sampler)
		accepts("allowedSamplers", "scheduler", scheduler)
	}
	for _, w := range m.AllowedWidths {
		accepts("allowedWidths", "width", strconv.Itoa(w))
	}
	for _, h := range m.AllowedHeights {
		accepts("allowedHeights", "height", strconv.Itoa(h))
	}
	accepts("minSteps", "steps", strconv.Itoa(m.MinSteps))
	accepts("maxSteps", "steps", strconv.Itoa(m.MaxSteps))
	// cfgscale is sent within 1..12 and the Model's range (DECISIONS.md).
	lo, hi := math.Max(1, m.MinCfgScale), math.Min(12, m.MaxCfgScale)
	if lo <= hi {
		accepts("minCfgScale", "cfgscale", strconv.FormatFloat(lo, 'f', -1, 64))
		accepts("maxCfgScale", "cfgscale", strconv.FormatFloat(hi, 'f', -1, 64))
	}
	if m.Checkpoint != "" {
		if _, ok := t.Parameter("checkpoint"); !ok {
			bad("checkpoint", "template %s has no checkpoint parameter", t.Name)
		}
		accepts("checkpoint", "checkpoint", m.Checkpoint)
	}
	return errs
}

// request substitutes the Job's parameters into the Model's template.
func request(templates *workflows.Set, m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
	t, ok := templates.Lookup(m.Workflow)
	if !ok {
		return nil, fmt.Errorf("comfyui: Model %s's workflow template %q is gone", m.ModelID, m.Workflow)
	}
	gp := p.Params
	v := map[string]string{}
	put := func(option, value string) {
		if _, ok := t.Parameter(option); ok {
			v[option] = value
		}
	}
	put("prompt", p.Prompt)
	put("negprompt", p.NegPrompt)
	put("seed", strconv.FormatInt(gp.Seed, 10))
	put("steps", strconv.Itoa(gp.Steps))
	put("cfgscale", strconv.FormatFloat(gp.CFGScale, 'f', -1, 64))
	if sampler, scheduler, ok := Sampler(gp.Sampler); ok {
		put("sampler", sampler)
		put("scheduler", scheduler)
	}
	put("width", strconv.Itoa(gp.Width))
	put("height", strconv.Itoa(gp.Height))
	put("batchSize", strconv.Itoa(items))
	if m.Checkpoint != "" {
		put("checkpoint", m.Checkpoint)
	}
	for i, name := range gp.Lora {
		n := strconv.Itoa(i + 1)
		if _, ok := t.Parameter("lora" + n); !ok {
			return nil, aimg.Invalid("lora", "Model %s's workflow takes %d LoRAs, not %d", m.ModelID, i, len(gp.Lora))
		}
		v["lora"+n] = name
		if i < len(gp.LoraStrength) {
			put("lora"+n+"_strength", strconv.FormatFloat(gp.LoraStrength[i], 'f', -1, 64))
		}
	}
	wf, err := t.Substitute(v)
	var ve *workflows.ValueError
	if errors.As(err, &ve) {
		return nil, aimg.Invalid(ve.Name, "%v", ve.Err)
	}
	if err != nil {
		return nil, err
	}
	req := JobRequest{Workflow: wf}
	if p.InputFileID != "" {
		id, ok := loadImageNode(wf)
		if !ok {
			return nil, aimg.Invalid("input", "Model %s's workflow has no LoadImage node for the input image", m.ModelID)
		}
		req.Inputs = []JobInput{{NodeID: id, InputName: "image"}}
	}
	return json.Marshal(req)
}

// loadImageNode is the (first, by id) LoadImage node of a workflow.
func loadImageNode(wf json.RawMessage) (string, bool) {
	var nodes map[string]struct {
		ClassType string `json:"class_type"`
	}
	if json.Unmarshal(wf, &nodes) != nil {
		return "", false
	}
	best := ""
	for id, n := range nodes {
		if n.ClassType == "LoadImage" && (best == "" || id < best) {
			best = id
		}
	}
	return best, best != ""
}

// NewBackend is the worker-side Backend whose Resolve reads the Job's
// payload.request (a JobRequest) and, for its inputs, the Job's input image.
func NewBackend(c *Client) Backend {
	b := Backend{Client: c}
	b.Resolve = func(ctx context.Context, job worker.RenderJob) (Request, error) {
		return b.fromPayload(ctx, job)
	}
	return b
}

func (b Backend) fromPayload(ctx context.Context, job worker.RenderJob) (Request, error) {
	pl := job.Payload
	if pl.Backend != aimg.BackendComfyUI {
		// Retryable: another worker (of the right backend) may take it.
		return Request{}, fmt.Errorf("this worker renders comfyui jobs, not %q (check its --models)", pl.Backend)
	}
	if len(pl.Request) == 0 {
		return Request{}, aimg.Invalid("request", "the job carries no ComfyUI request")
	}
	var jr JobRequest
	if err := json.Unmarshal(pl.Request, &jr); err != nil || len(jr.Workflow) == 0 {
		return Request{}, aimg.Invalid("request", "the job's ComfyUI request is unreadable: %v", err)
	}
	req := Request{Workflow: jr.Workflow}
	for _, in := range jr.Inputs {
		input, err := b.InputFromJob(ctx, job, in.NodeID)
		if err != nil {
			return Request{}, err
		}
		input.InputName = in.InputName
		req.Inputs = append(req.Inputs, input)
	}
	return req, nil
}
