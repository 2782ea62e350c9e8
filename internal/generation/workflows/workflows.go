// Package workflows holds ComfyUI workflow templates: an API-format
// workflow plus the parameters a run may set (the spec's
// WorkflowTemplateParameter), and the JSON-aware substitution that writes
// parameter values into the workflow. Values are never spliced into the
// JSON text: the workflow is decoded, each value is encoded as a JSON value
// of its parameter's type and set at its node's input, and the result is
// encoded again, so no value (quotes, braces, backslashes) can break or
// inject into the workflow.
//
// Two templates ship embedded (templates/*.json); an operator adds or
// replaces templates with a directory of their own (Load).
package workflows

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

//go:embed templates/*.json
var embedded embed.FS

// Budgets of templates (operator files) and of the values substituted
// (user input, listed in docs/security.md).
const (
	MaxTemplateBytes  = 8 << 20 // one template file, as comfyui.DefaultMaxWorkflowBytes
	MaxTemplates      = 1000    // templates in a directory
	MaxParameters     = 256     // parameters of a template
	MaxTargets        = 64      // node inputs one parameter sets
	MaxValueBytes     = 100_000 // one substituted value
	MaxDropdownItems  = 10_000
	maxNodeIDAndInput = 200
)

// Data types a parameter may have; the other types of the spec (array,
// object, file, files, filesGroup) are refused at load until a backend
// can substitute them.
const (
	TypeString   = "string"
	TypeNumber   = "number"
	TypeBoolean  = "boolean"
	TypeDropdown = "dropdown"
)

// Parameter is the spec's WorkflowTemplateParameter. ReplaceFromString
// says where the value goes: "<node id>.<input name>", several separated by
// commas ("10.strength_model,10.strength_clip"); the node id is everything
// before the last dot.
type Parameter struct {
	Name                 string   `json:"name"`
	Type                 string   `json:"type,omitempty"`
	DataType             string   `json:"dataType"`
	UIType               string   `json:"uiType,omitempty"`
	Description          string   `json:"description"`
	DefaultValue         string   `json:"defaultValue"`
	ReplaceFromString    string   `json:"replaceFromString"`
	IsOptional           bool     `json:"isOptional"`
	Min                  string   `json:"min,omitempty"`
	Max                  string   `json:"max,omitempty"`
	Increment            string   `json:"increment,omitempty"`
	OptionName           string   `json:"optionName"`
	IsAlwaysVisible      bool     `json:"isAlwaysVisible"`
	IsHidden             bool     `json:"isHidden"`
	FileGroup            string   `json:"fileGroup,omitempty"`
	FileGroupDestination string   `json:"fileGroupDestination,omitempty"`
	DropdownItems        []string `json:"dropdownItems,omitempty"`
	// UserValue and ExtraData are the spec's; a template may carry them,
	// substitution ignores them.
	UserValue string          `json:"userValue,omitempty"`
	ExtraData json.RawMessage `json:"extraData,omitempty"`

	targets       []target
	lo, hi, inc   float64
	hasLo, hasHi  bool
	integral      bool // increment and min are whole: values must be whole
	hasIncrement  bool
	defaultIsNull bool // optional with an empty default: the workflow's own value stays
}

type target struct{ node, input string }

// Template is a workflow template file: a name, the parameters and the
// API-format workflow ({"<node id>": {"class_type", "inputs", "_meta"}}).
type Template struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Deployments []string    `json:"deployments,omitempty"`
	Parameters  []Parameter `json:"parameters"`
	// Files are the spec's workflowTemplateFiles: file groups by name
	// (the checkpoints and LoRAs a template's dropdowns offer, for API2).
	Files    map[string]TemplateFile `json:"workflowTemplateFiles,omitempty"`
	Workflow json.RawMessage         `json:"workflow"`

	nodes   map[string]map[string]json.RawMessage // node id → its fields
	inputs  map[string]map[string]json.RawMessage // node id → its inputs
	byName  map[string]int                        // optionName → index in Parameters
	classes map[string]string                     // node id → class_type
}

// TemplateFile is the spec's WorkflowTemplateFile.
type TemplateFile struct {
	FileNames       []string `json:"fileNames"`
	SupportFileType string   `json:"supportFileType"`
}

// Parse reads and checks one template file.
func Parse(data []byte) (*Template, error) {
	if len(data) > MaxTemplateBytes {
		return nil, fmt.Errorf("the template is %d bytes, more than %d", len(data), MaxTemplateBytes)
	}
	var t Template
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("not a workflow template: %w", err)
	}
	if err := t.init(); err != nil {
		return nil, err
	}
	return &t, nil
}

func (t *Template) init() error {
	if t.Name == "" || strings.ContainsAny(t.Name, " ,/\\\t\n") || len(t.Name) > 100 {
		return fmt.Errorf("name: %q must be 1 to 100 characters without spaces, commas or slashes", t.Name)
	}
	if len(t.Workflow) == 0 {
		return errors.New("workflow: missing")
	}
	if err := json.Unmarshal(t.Workflow, &t.nodes); err != nil || len(t.nodes) == 0 {
		return fmt.Errorf("workflow: must be a ComfyUI API-format workflow (an object of nodes): %v", err)
	}
	t.inputs, t.classes = map[string]map[string]json.RawMessage{}, map[string]string{}
	for id, n := range t.nodes {
		var class string
		if err := json.Unmarshal(n["class_type"], &class); err != nil || class == "" {
			return fmt.Errorf("workflow node %q: needs a class_type", id)
		}
		var in map[string]json.RawMessage
		if err := json.Unmarshal(n["inputs"], &in); err != nil || in == nil {
			return fmt.Errorf("workflow node %q: needs an inputs object", id)
		}
		t.inputs[id], t.classes[id] = in, class
	}
	if len(t.Parameters) > MaxParameters {
		return fmt.Errorf("parameters: at most %d, got %d", MaxParameters, len(t.Parameters))
	}
	t.byName = map[string]int{}
	for i := range t.Parameters {
		p := &t.Parameters[i]
		if err := t.initParameter(p); err != nil {
			return fmt.Errorf("parameters[%d] (%s): %w", i, p.OptionName, err)
		}
		if _, dup := t.byName[p.OptionName]; dup {
			return fmt.Errorf("parameters[%d]: optionName %q given twice", i, p.OptionName)
		}
		t.byName[p.OptionName] = i
	}
	return nil
}

func (t *Template) initParameter(p *Parameter) error {
	if p.OptionName == "" || len(p.OptionName) > 100 {
		return errors.New("optionName: must be 1 to 100 characters")
	}
	if p.Name == "" {
		p.Name = p.OptionName
	}
	switch p.DataType {
	case TypeString, TypeNumber, TypeBoolean, TypeDropdown:
	default:
		return fmt.Errorf("dataType: %q cannot be substituted (string, number, boolean or dropdown)", p.DataType)
	}
	if len(p.DropdownItems) > MaxDropdownItems {
		return fmt.Errorf("dropdownItems: at most %d", MaxDropdownItems)
	}
	var err error
	num := func(field, s string) (float64, bool) {
		if s == "" || err != nil {
			return 0, false
		}
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			err = fmt.Errorf("%s: %q is not a number", field, s)
		}
		return f, true
	}
	p.lo, p.hasLo = num("min", p.Min)
	p.hi, p.hasHi = num("max", p.Max)
	p.inc, p.hasIncrement = num("increment", p.Increment)
	if err != nil {
		return err
	}
	if p.hasIncrement && p.inc <= 0 {
		return fmt.Errorf("increment: must be > 0, got %s", p.Increment)
	}
	if p.hasLo && p.hasHi && p.lo > p.hi {
		return errors.New("min: must be <= max")
	}
	p.integral = p.hasIncrement && p.inc == math.Trunc(p.inc) && p.lo == math.Trunc(p.lo)
	for _, spec := range strings.Split(p.ReplaceFromString, ",") {
		spec = strings.TrimSpace(spec)
		dot := strings.LastIndexByte(spec, '.')
		if dot <= 0 || dot == len(spec)-1 || len(spec) > maxNodeIDAndInput {
			return fmt.Errorf("replaceFromString: %q is not <node id>.<input name>", spec)
		}
		tg := target{node: spec[:dot], input: spec[dot+1:]}
		in, ok := t.inputs[tg.node]
		if !ok {
			return fmt.Errorf("replaceFromString: the workflow has no node %q", tg.node)
		}
		raw, ok := in[tg.input]
		if !ok {
			return fmt.Errorf("replaceFromString: node %q (%s) has no input %q", tg.node, t.classes[tg.node], tg.input)
		}
		if _, _, isLink := asLink(raw); isLink {
			return fmt.Errorf("replaceFromString: input %s.%s links another node; only values can be replaced", tg.node, tg.input)
		}
		p.targets = append(p.targets, tg)
	}
	if len(p.targets) > MaxTargets {
		return fmt.Errorf("replaceFromString: at most %d inputs", MaxTargets)
	}
	p.defaultIsNull = p.IsOptional && p.DefaultValue == "" && p.DataType != TypeString
	if !p.defaultIsNull && (p.DefaultValue != "" || p.DataType == TypeString) {
		if _, err := p.encode(p.DefaultValue); err != nil {
			return fmt.Errorf("defaultValue: %w", err)
		}
	}
	return nil
}

// Parameter returns the parameter of that optionName.
func (t *Template) Parameter(optionName string) (*Parameter, bool) {
	i, ok := t.byName[optionName]
	if !ok {
		return nil, false
	}
	return &t.Parameters[i], true
}

// Check validates a value for the parameter (as Substitute does).
func (p *Parameter) Check(value string) error {
	_, err := p.encode(value)
	return err
}

// encode validates value (always a string, as WorkflowRunParameter.value
// is) and returns it as the JSON value its data type calls for.
func (p *Parameter) encode(value string) (json.RawMessage, error) {
	if len(value) > MaxValueBytes {
		return nil, fmt.Errorf("is %d bytes, at most %d", len(value), MaxValueBytes)
	}
	if !utf8.ValidString(value) {
		return nil, errors.New("is not valid UTF-8")
	}
	switch p.DataType {
	case TypeString:
		return json.Marshal(value)
	case TypeDropdown:
		if value == "" {
			return nil, errors.New("must not be empty")
		}
		if len(p.DropdownItems) > 0 && !slices.Contains(p.DropdownItems, value) {
			return nil, fmt.Errorf("%q is not one of %s", value, strings.Join(p.DropdownItems, ", "))
		}
		return json.Marshal(value)
	case TypeBoolean:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", value)
		}
		return json.Marshal(b)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%q is not a number", value)
	}
	if p.hasLo && f < p.lo {
		return nil, fmt.Errorf("must be >= %s, got %s", p.Min, value)
	}
	if p.hasHi && f > p.hi {
		return nil, fmt.Errorf("must be <= %s, got %s", p.Max, value)
	}
	if p.hasIncrement {
		k := (f - p.lo) / p.inc
		if math.Abs(k-math.Round(k)) > 1e-9*math.Max(1, math.Abs(k)) {
			return nil, fmt.Errorf("must be %s plus a multiple of %s, got %s", orZero(p.Min), p.Increment, value)
		}
	}
	if p.integral {
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("must be a whole number, got %s", value)
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil {
			return json.RawMessage(strconv.FormatInt(n, 10)), nil // exact, even above 2^53
		}
	}
	return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64)), nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// Substitute returns the workflow with values (by optionName) written at
// their parameters' inputs. A parameter not in values takes its default;
// an optional one with an empty default (not a string) leaves the
// workflow's own value. A value no parameter has is an error, as is an
// invalid one (the error names the optionName). LoraLoader nodes whose
// lora_name ends up empty are taken out of the graph (their consumers are
// linked to their inputs), so "no LoRA" needs no second template.
func (t *Template) Substitute(values map[string]string) (json.RawMessage, error) {
	for name := range values {
		if _, ok := t.byName[name]; !ok {
			return nil, &ValueError{Name: name, Err: fmt.Errorf("template %s has no such parameter", t.Name)}
		}
	}
	// Copy-on-write of the inputs of the nodes that change.
	inputs := make(map[string]map[string]json.RawMessage, len(t.inputs))
	for id, in := range t.inputs {
		inputs[id] = in
	}
	written := map[string]bool{}
	set := func(node, input string, v json.RawMessage) {
		if !written[node] {
			c := make(map[string]json.RawMessage, len(inputs[node]))
			for k, x := range inputs[node] {
				c[k] = x
			}
			inputs[node], written[node] = c, true
		}
		inputs[node][input] = v
	}
	for i := range t.Parameters {
		p := &t.Parameters[i]
		v, given := values[p.OptionName]
		if !given {
			if p.defaultIsNull {
				continue
			}
			v = p.DefaultValue
		}
		if !given && v == "" && !p.IsOptional && p.DataType != TypeString {
			return nil, &ValueError{Name: p.OptionName, Err: errors.New("is required")}
		}
		enc, err := p.encode(v)
		if err != nil {
			return nil, &ValueError{Name: p.OptionName, Err: err}
		}
		for _, tg := range p.targets {
			set(tg.node, tg.input, enc)
		}
	}
	pruneEmptyLoras(inputs, t.classes)
	out := make(map[string]map[string]json.RawMessage, len(inputs))
	for id, in := range inputs {
		n := make(map[string]json.RawMessage, len(t.nodes[id]))
		for k, v := range t.nodes[id] {
			n[k] = v
		}
		enc, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		n["inputs"] = enc
		out[id] = n
	}
	return json.Marshal(out)
}

// ValueError is an invalid or unknown parameter value.
type ValueError struct {
	Name string // the optionName
	Err  error
}

func (e *ValueError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *ValueError) Unwrap() error { return e.Err }

// loraOutputs are the LoRA loaders and, per output slot, the input that
// passes through when the node is taken out.
var loraOutputs = map[string][]string{
	"LoraLoader":          {"model", "clip"},
	"LoraLoaderModelOnly": {"model"},
}

// pruneEmptyLoras removes the LoRA loaders whose lora_name is "" and links
// their consumers to what the loader's inputs were linked to.
func pruneEmptyLoras(inputs map[string]map[string]json.RawMessage, classes map[string]string) {
	pruned := map[string]bool{}
	for id, in := range inputs {
		if _, ok := loraOutputs[classes[id]]; ok && string(in["lora_name"]) == `""` {
			pruned[id] = true
		}
	}
	if len(pruned) == 0 {
		return
	}
	// resolve follows a link through pruned loaders (bounded: a cycle of
	// loaders is not a valid workflow, ComfyUI would refuse it anyway).
	resolve := func(raw json.RawMessage) json.RawMessage {
		for range len(inputs) + 1 {
			id, slot, ok := asLink(raw)
			if !ok || !pruned[id] {
				return raw
			}
			outs := loraOutputs[classes[id]]
			if slot < 0 || slot >= len(outs) {
				return raw
			}
			raw = inputs[id][outs[slot]]
		}
		return raw
	}
	ids := make([]string, 0, len(inputs))
	for id := range inputs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if pruned[id] {
			continue
		}
		var c map[string]json.RawMessage
		for k, v := range inputs[id] {
			if r := resolve(v); !bytes.Equal(r, v) {
				if c == nil {
					c = make(map[string]json.RawMessage, len(inputs[id]))
					for k2, v2 := range inputs[id] {
						c[k2] = v2
					}
				}
				c[k] = r
			}
		}
		if c != nil {
			inputs[id] = c
		}
	}
	for id := range pruned {
		delete(inputs, id)
	}
}

// asLink reads a link input: ["<node id>", <output slot>].
func asLink(raw json.RawMessage) (id string, slot int, ok bool) {
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil || len(l) != 2 {
		return "", 0, false
	}
	if json.Unmarshal(l[0], &id) != nil {
		var n json.Number
		if json.Unmarshal(l[0], &n) != nil {
			return "", 0, false
		}
		id = n.String()
	}
	if json.Unmarshal(l[1], &slot) != nil {
		return "", 0, false
	}
	return id, slot, true
}

// Set is the templates a server knows, by name.
type Set struct {
	byName map[string]*Template
}

// Builtin returns the embedded templates.
func Builtin() *Set {
	s, err := load(embedded, "templates", &Set{byName: map[string]*Template{}})
	if err != nil {
		panic(fmt.Sprintf("workflows: embedded templates: %v", err)) // a build with broken templates
	}
	return s
}

// Load returns the embedded templates plus the *.json templates of dir
// (none when dir is ""); a template of dir with the name of an embedded
// one replaces it. Each error names the file.
func Load(dir string) (*Set, error) {
	s := Builtin()
	if dir == "" {
		return s, nil
	}
	return load(os.DirFS(dir), ".", s)
}

func load(fsys fs.FS, dir string, s *Set) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if n++; n > MaxTemplates {
			return nil, fmt.Errorf("more than %d templates", MaxTemplates)
		}
		name := path.Join(dir, e.Name())
		if info, err := e.Info(); err == nil && info.Size() > MaxTemplateBytes {
			return nil, fmt.Errorf("%s: %d bytes, more than %d", e.Name(), info.Size(), MaxTemplateBytes)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		t, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if other, dup := seen[t.Name]; dup {
			return nil, fmt.Errorf("%s: template %q is also in %s", e.Name(), t.Name, other)
		}
		seen[t.Name] = e.Name()
		s.byName[t.Name] = t
	}
	return s, nil
}

// Lookup returns the template of that name.
func (s *Set) Lookup(name string) (*Template, bool) {
	t, ok := s.byName[name]
	return t, ok
}

// Names are the template names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RunValue is the value one parameter takes in a run.
type RunValue struct {
	Parameter *Parameter
	Value     string
}

// Values returns, in parameter order, the value each parameter takes when
// values (by optionName) are substituted: the given one or its default.
// A parameter that keeps the workflow's own value (optional, not a string,
// empty default, not given) is left out. Values does not validate; Check
// and Substitute do.
func (t *Template) Values(values map[string]string) []RunValue {
	out := make([]RunValue, 0, len(t.Parameters))
	for i := range t.Parameters {
		p := &t.Parameters[i]
		v, given := values[p.OptionName]
		if !given {
			if p.defaultIsNull {
				continue
			}
			v = p.DefaultValue
		}
		out = append(out, RunValue{Parameter: p, Value: v})
	}
	return out
}

// ByName returns the parameter whose name, or else whose optionName, is
// name (a WorkflowRunParameter names its parameter either way).
func (t *Template) ByName(name string) (*Parameter, bool) {
	for i := range t.Parameters {
		if t.Parameters[i].Name == name {
			return &t.Parameters[i], true
		}
	}
	return t.Parameter(name)
}

// Groups is every file group of the templates: its name and its files
// (the union over the templates, sorted, without duplicates).
func (s *Set) Groups() map[string][]string {
	out := map[string][]string{}
	for _, t := range s.byName {
		for g, f := range t.Files {
			out[g] = append(out[g], f.FileNames...)
		}
	}
	for g, names := range out {
		sort.Strings(names)
		out[g] = slices.Compact(names)
	}
	return out
}
