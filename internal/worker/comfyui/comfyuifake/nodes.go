package comfyuifake

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// inputSpec is one input of a node class, as its INPUT_TYPES declares it.
type inputSpec struct {
	name     string
	typ      string // MODEL, CLIP, INT, FLOAT, STRING, COMBO...
	min, max float64
	bounded  bool
	combo    func(s *Server) []string
	optional bool
}

// classSpec is a node class: its inputs, RETURN_TYPES and OUTPUT_NODE.
type classSpec struct {
	inputs  []inputSpec
	returns []string
	output  bool
}

func num(name, typ string, lo, hi float64) inputSpec {
	return inputSpec{name: name, typ: typ, min: lo, max: hi, bounded: true}
}

func link(name, typ string) inputSpec { return inputSpec{name: name, typ: typ} }

func combo(name string, list func(s *Server) []string) inputSpec {
	return inputSpec{name: name, typ: "COMBO", combo: list}
}

// classes are the core nodes the fake knows, with the inputs of ComfyUI's
// nodes.py (the subset a text-to-image, LoRA or image-to-image workflow uses).
var classes = map[string]classSpec{
	"CheckpointLoaderSimple": {
		inputs:  []inputSpec{combo("ckpt_name", func(s *Server) []string { return s.Checkpoints })},
		returns: []string{"MODEL", "CLIP", "VAE"},
	},
	"LoraLoader": {
		inputs: []inputSpec{link("model", "MODEL"), link("clip", "CLIP"),
			combo("lora_name", func(s *Server) []string { return s.Loras }),
			num("strength_model", "FLOAT", -100, 100), num("strength_clip", "FLOAT", -100, 100)},
		returns: []string{"MODEL", "CLIP"},
	},
	"CLIPTextEncode": {
		inputs:  []inputSpec{{name: "text", typ: "STRING"}, link("clip", "CLIP")},
		returns: []string{"CONDITIONING"},
	},
	"EmptyLatentImage": {
		inputs: []inputSpec{num("width", "INT", 16, 16384), num("height", "INT", 16, 16384),
			num("batch_size", "INT", 1, 4096)},
		returns: []string{"LATENT"},
	},
	"KSampler": {
		inputs: []inputSpec{link("model", "MODEL"), num("seed", "INT", 0, math.MaxUint64),
			num("steps", "INT", 1, 10000), num("cfg", "FLOAT", 0, 100),
			combo("sampler_name", func(*Server) []string { return samplers }),
			combo("scheduler", func(*Server) []string { return schedulers }),
			link("positive", "CONDITIONING"), link("negative", "CONDITIONING"),
			link("latent_image", "LATENT"), num("denoise", "FLOAT", 0, 1)},
		returns: []string{"LATENT"},
	},
	"VAEDecode": {
		inputs:  []inputSpec{link("samples", "LATENT"), link("vae", "VAE")},
		returns: []string{"IMAGE"},
	},
	"VAEEncode": {
		inputs:  []inputSpec{link("pixels", "IMAGE"), link("vae", "VAE")},
		returns: []string{"LATENT"},
	},
	"LoadImage": {
		inputs:  []inputSpec{combo("image", (*Server).inputFiles)},
		returns: []string{"IMAGE", "MASK"},
	},
	"SaveImage": {
		inputs:  []inputSpec{link("images", "IMAGE"), {name: "filename_prefix", typ: "STRING", optional: true}},
		returns: []string{},
		output:  true,
	},
	"PreviewImage": {
		inputs:  []inputSpec{link("images", "IMAGE")},
		returns: []string{},
		output:  true,
	},
}

var (
	samplers   = []string{"euler", "euler_ancestral", "heun", "dpm_2", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc"}
	schedulers = []string{"normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta"}
)

// node is one node of a queued prompt.
type node struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
	Meta      struct {
		Title string `json:"title"`
	} `json:"_meta"`
}

type prompt map[string]*node

// apiError is the {type, message, details, extra_info} of execution.py.
type apiError struct {
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Details   string         `json:"details"`
	ExtraInfo map[string]any `json:"extra_info"`
}

type nodeError struct {
	Errors           []apiError `json:"errors"`
	DependentOutputs []string   `json:"dependent_outputs"`
	ClassType        string     `json:"class_type"`
}

// asLink reads an input that links another node's output: [node_id, slot].
func asLink(raw json.RawMessage) (id string, slot int, isList bool, ok bool) {
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil {
		return "", 0, false, false
	}
	if len(l) != 2 {
		return "", 0, true, false
	}
	if json.Unmarshal(l[0], &id) != nil {
		var n json.Number
		if json.Unmarshal(l[0], &n) != nil {
			return "", 0, true, false
		}
		id = n.String()
	}
	if json.Unmarshal(l[1], &slot) != nil {
		return "", 0, true, false
	}
	return id, slot, true, true
}

// sortedIDs lists node ids in numeric order.
func sortedIDs[T any](m map[string]T) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, aerr := strconv.Atoi(ids[i])
		b, berr := strconv.Atoi(ids[j])
		if aerr == nil && berr == nil {
			return a < b
		}
		return ids[i] < ids[j]
	})
	return ids
}

// pyRepr quotes a value as Python's repr does in ComfyUI's messages.
func pyRepr(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = pyRepr(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// validation is the outcome of validate_prompt: (ok, error, outputs, node_errors).
type validation struct {
	ok         bool
	err        *apiError
	outputs    []string
	nodeErrors map[string]*nodeError
}

type validated struct {
	ok     bool
	errors []apiError
}

// validate follows execution.py's validate_prompt: whole-prompt errors
// first (a node without class_type, an unknown class, no output node), then
// each output node's inputs, recursively.
func (s *Server) validate(p prompt) validation {
	var outputs []string
	for _, id := range sortedIDs(p) {
		n := p[id]
		if n.ClassType == "" {
			title := n.Meta.Title
			if title == "" {
				title = "ID #" + id
			}
			return validation{err: &apiError{Type: "missing_node_type",
				Message:   fmt.Sprintf("Node '%s' has no class_type. The workflow may be corrupted or a custom node is missing.", title),
				Details:   fmt.Sprintf("Node ID '#%s'", id),
				ExtraInfo: map[string]any{"node_id": id, "class_type": nil, "node_title": n.Meta.Title}}}
		}
		spec, ok := classes[n.ClassType]
		if !ok {
			title := n.Meta.Title
			if title == "" {
				title = n.ClassType
			}
			return validation{err: &apiError{Type: "missing_node_type",
				Message:   fmt.Sprintf("Node '%s' not found. The custom node may not be installed.", title),
				Details:   fmt.Sprintf("Node ID '#%s'", id),
				ExtraInfo: map[string]any{"node_id": id, "class_type": n.ClassType, "node_title": title}}}
		}
		if spec.output {
			outputs = append(outputs, id)
		}
	}
	if len(outputs) == 0 {
		return validation{err: &apiError{Type: "prompt_no_outputs", Message: "Prompt has no outputs", ExtraInfo: map[string]any{}}}
	}
	done := map[string]*validated{}
	nodeErrors := map[string]*nodeError{}
	var good []string
	var lines []string
	for _, o := range outputs {
		v := s.validateInputs(p, o, done, map[string]bool{})
		if v.ok {
			good = append(good, o)
			continue
		}
		for _, e := range v.errors {
			lines = append(lines, e.Message+": "+e.Details)
		}
		for _, id := range sortedIDs(done) {
			d := done[id]
			if d.ok || len(d.errors) == 0 {
				continue
			}
			ne := nodeErrors[id]
			if ne == nil {
				ne = &nodeError{Errors: d.errors, DependentOutputs: []string{}, ClassType: p[id].ClassType}
				nodeErrors[id] = ne
			}
			ne.DependentOutputs = append(ne.DependentOutputs, o)
		}
	}
	if len(good) == 0 {
		return validation{err: &apiError{Type: "prompt_outputs_failed_validation", Message: "Prompt outputs failed validation",
			Details: strings.Join(lines, "\n"), ExtraInfo: map[string]any{}}, outputs: []string{}, nodeErrors: nodeErrors}
	}
	return validation{ok: true, outputs: good, nodeErrors: nodeErrors}
}

func (s *Server) validateInputs(p prompt, id string, done map[string]*validated, visiting map[string]bool) *validated {
	if v, ok := done[id]; ok {
		return v
	}
	n := p[id]
	spec := classes[n.ClassType]
	var errs []apiError
	valid := true
	add := func(typ, msg, details string, extra map[string]any) {
		errs = append(errs, apiError{Type: typ, Message: msg, Details: details, ExtraInfo: extra})
	}
	visiting[id] = true
	for _, in := range spec.inputs {
		raw, present := n.Inputs[in.name]
		if !present {
			if !in.optional {
				add("required_input_missing", "Required input is missing", in.name, map[string]any{"input_name": in.name})
			}
			continue
		}
		if from, slot, isList, ok := asLink(raw); isList {
			if !ok {
				add("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", in.name,
					map[string]any{"input_name": in.name})
				continue
			}
			up, exists := p[from]
			if !exists {
				// execution.py looks prompt[o_id] up outside its try: a KeyError
				// that validate_prompt reports on the output node.
				add("exception_during_validation", "Exception when validating node", fmt.Sprintf("'%s'", from),
					map[string]any{"exception_type": "KeyError", "traceback": []string{}})
				continue
			}
			returns := classes[up.ClassType].returns
			if slot < 0 || slot >= len(returns) {
				add("exception_during_validation", "Exception when validating node", "tuple index out of range",
					map[string]any{"exception_type": "IndexError", "traceback": []string{}})
				continue
			}
			if got := returns[slot]; got != in.typ {
				add("return_type_mismatch", "Return type mismatch between linked nodes",
					fmt.Sprintf("%s, received_type(%s) mismatch input_type(%s)", in.name, got, in.typ),
					map[string]any{"input_name": in.name, "received_type": got, "linked_node": []any{from, slot}})
				continue
			}
			if visiting[from] {
				add("dependency_cycle", "Dependency cycle detected", id+" -> "+from, map[string]any{"node_id": id})
				continue
			}
			if up := s.validateInputs(p, from, done, visiting); !up.ok {
				valid = false
			}
			continue
		}
		switch in.typ {
		case "INT", "FLOAT":
			var f float64
			if err := json.Unmarshal(raw, &f); err != nil {
				add("invalid_input_type", fmt.Sprintf("Failed to convert an input value to a %s value", in.typ),
					fmt.Sprintf("%s, %s, %v", in.name, raw, err), map[string]any{"input_name": in.name})
				continue
			}
			if in.bounded && f < in.min {
				add("value_smaller_than_min", fmt.Sprintf("Value %v smaller than min of %v", f, in.min), in.name,
					map[string]any{"input_name": in.name, "received_value": f})
			} else if in.bounded && f > in.max {
				add("value_bigger_than_max", fmt.Sprintf("Value %v bigger than max of %v", f, in.max), in.name,
					map[string]any{"input_name": in.name, "received_value": f})
			}
		case "COMBO":
			var v string
			_ = json.Unmarshal(raw, &v)
			list := in.combo(s)
			found := false
			for _, o := range list {
				found = found || o == v
			}
			if !found {
				listInfo := pyRepr(list)
				if len(list) > 20 {
					listInfo = fmt.Sprintf("(list of length %d)", len(list))
				}
				add("value_not_in_list", "Value not in list", fmt.Sprintf("%s: %s not in %s", in.name, pyRepr(v), listInfo),
					map[string]any{"input_name": in.name, "received_value": v})
			}
		}
	}
	delete(visiting, id)
	v := &validated{ok: valid && len(errs) == 0, errors: errs}
	done[id] = v
	return v
}

// order lists the nodes to run for the outputs, each after the nodes it
// links (ComfyUI's ExecutionList, in a fixed order).
func order(p prompt, outputs []string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		n := p[id]
		for _, name := range sortedIDs(n.Inputs) {
			if from, _, _, ok := asLink(n.Inputs[name]); ok {
				if _, exists := p[from]; exists {
					visit(from)
				}
			}
		}
		out = append(out, id)
	}
	for _, o := range outputs {
		visit(o)
	}
	return out
}

// signature is a node's cache key: its class and inputs, links replaced by
// the linked node's signature (ComfyUI's CacheKeySetInputSignature).
func signature(p prompt, id string, memo map[string]string) string {
	if s, ok := memo[id]; ok {
		return s
	}
	n := p[id]
	var b strings.Builder
	b.WriteString(n.ClassType)
	for _, name := range sortedIDs(n.Inputs) {
		b.WriteString("|" + name + "=")
		if from, slot, _, ok := asLink(n.Inputs[name]); ok {
			if _, exists := p[from]; exists {
				fmt.Fprintf(&b, "(%s)#%d", signature(p, from, memo), slot)
				continue
			}
		}
		b.Write(n.Inputs[name])
	}
	memo[id] = b.String()
	return memo[id]
}
