// Package a1111fake is an AUTOMATIC1111 stable-diffusion-webui API server
// for tests, on httptest (127.0.0.1). It speaks the routes and JSON shapes
// of the web UI v1.10 as its modules/api/api.py, modules/api/models.py and
// modules/progress.py define them:
//
//   - POST /sdapi/v1/txt2img, /sdapi/v1/img2img: FastAPI/pydantic v1
//     validation (422 {"detail": [{"loc", "msg", "type"}]}), a known
//     sampler (else 400 "Sampler not found"), for img2img init_images
//     (404 "Init image not found", 500 "Invalid encoded image"); the answer
//     {images, parameters, info} with PNGs of the requested size.
//   - One request renders at a time, the others wait in arrival order
//     (the web UI's queue_lock), registered as pending under force_task_id.
//     Like the web UI, a request keeps running when its client goes away.
//   - GET /sdapi/v1/progress (current_task always null, as upstream),
//     POST /internal/progress (absent with NoWebUI, never behind auth),
//     POST /sdapi/v1/interrupt (stops whatever runs; the answer still has
//     the images made so far).
//   - --api-auth: HTTP Basic on every /sdapi route (401).
//   - override_settings.sd_model_checkpoint: a checkpoint it does not know
//     is dropped silently and the loaded one used, as upstream.
//
// Tests drive it: Manual makes every sampling step wait for Step, FailNext
// answers the next generation with a given status and body, and Requests
// returns what was sent.
package a1111fake

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Checkpoint is a model the fake "has" (an /sdapi/v1/sd-models entry).
type Checkpoint struct {
	Title     string // "v1-5-pruned-emaonly.safetensors [6ce0161689]"
	ModelName string // "v1-5-pruned-emaonly"
	Hash      string // "6ce0161689"
}

// DefaultCheckpoints are loaded when Options.Checkpoints is empty; the first is loaded.
var DefaultCheckpoints = []Checkpoint{
	{Title: "v1-5-pruned-emaonly.safetensors [6ce0161689]", ModelName: "v1-5-pruned-emaonly", Hash: "6ce0161689"},
	{Title: "dreamshaper_8.safetensors [879db523c3]", ModelName: "dreamshaper_8", Hash: "879db523c3"},
}

// Samplers the fake knows (a subset of the web UI's).
var Samplers = []string{"Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DDIM", "UniPC"}

// Options configure a Server.
type Options struct {
	// Username and Password, when Username is set, are required as HTTP
	// Basic on /sdapi routes (--api-auth user:pass).
	Username, Password string
	// NoWebUI serves the API alone (--nowebui): no /internal/progress.
	NoWebUI bool
	// Checkpoints known; nil: DefaultCheckpoints.
	Checkpoints []Checkpoint
	// MaxPixels caps width x height of one render; larger answers 500
	// OutOfMemoryError as a GPU would. Zero: 1024x1024.
	MaxPixels int
	// Manual makes each sampling step wait for Step (or Resume).
	Manual bool
	// StepDelay sleeps at each step (a slow server).
	StepDelay time.Duration
}

// Request is one request the fake received.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// JSON decodes the body into a map, for field-by-field checks.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

type failure struct {
	status int
	body   string
}

type job struct {
	id     string
	nIter  int
	steps  int
	images int // images made so far
}

// Server is the fake web UI.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	cond     *sync.Cond
	closed   bool
	requests []Request
	fails    []failure
	loaded   Checkpoint

	// progress.py
	pending  map[string]time.Time
	queue    []*job   // waiting for the queue lock, in arrival order
	current  *job     // holds the queue lock
	task     string   // progress.current_task: set by start_task, cleared by finish_task only
	finished []string // the last 16
	// shared.state
	jobCount, jobNo, samplingStep, samplingSteps int
	interrupted                                  bool
	timeStart                                    time.Time
	jobTimestamp                                 string
	tickets                                      int
	interruptedTasks                             []string // current_task at each interrupt
}

// New starts a fake on 127.0.0.1; Close stops it.
func New(opts Options) *Server {
	if len(opts.Checkpoints) == 0 {
		opts.Checkpoints = DefaultCheckpoints
	}
	if opts.MaxPixels == 0 {
		opts.MaxPixels = 1024 * 1024
	}
	s := &Server{opts: opts, pending: map[string]time.Time{}, loaded: opts.Checkpoints[0]}
	s.cond = sync.NewCond(&s.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sdapi/v1/txt2img", s.auth(func(w http.ResponseWriter, r *http.Request, body []byte) {
		s.generate(w, body, false)
	}))
	mux.HandleFunc("POST /sdapi/v1/img2img", s.auth(func(w http.ResponseWriter, r *http.Request, body []byte) {
		s.generate(w, body, true)
	}))
	mux.HandleFunc("GET /sdapi/v1/progress", s.auth(s.globalProgress))
	mux.HandleFunc("POST /sdapi/v1/interrupt", s.auth(s.interrupt))
	mux.HandleFunc("GET /sdapi/v1/sd-models", s.auth(s.sdModels))
	if !opts.NoWebUI {
		mux.HandleFunc("POST /internal/progress", s.record(s.taskProgress))
	}
	mux.HandleFunc("/", s.record(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	}))
	s.Server = httptest.NewServer(mux)
	return s
}

// Close unblocks waiting renders and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.Server.Close()
}

// Step lets the running render (and the next ones) take n more sampling steps.
func (s *Server) Step(n int) {
	s.mu.Lock()
	s.tickets += n
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Resume ends Manual: renders run freely.
func (s *Server) Resume() {
	s.mu.Lock()
	s.opts.Manual = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// FailNext answers the next generation request with status and body,
// before it is queued (e.g. a 422 from ValidationError, a 500, garbage).
func (s *Server) FailNext(status int, body string) {
	s.mu.Lock()
	s.fails = append(s.fails, failure{status, body})
	s.mu.Unlock()
}

// ValidationError is a FastAPI 422 body for one field of the request body.
func ValidationError(field, msg, typ string) string {
	b, _ := json.Marshal(map[string]any{"detail": []map[string]any{{"loc": []any{"body", field}, "msg": msg, "type": typ}}})
	return string(b)
}

// Requests returns the requests received on path ("" for all), in order.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Interrupts counts the POST /sdapi/v1/interrupt received.
func (s *Server) Interrupts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.interruptedTasks)
}

// InterruptedTasks is the task that was current at each interrupt ("" when none).
func (s *Server) InterruptedTasks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.interruptedTasks)
}

// Loaded is the checkpoint loaded now.
func (s *Server) Loaded() Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loaded
}

// State of a task id as /internal/progress would say it.
const (
	Queued    = "queued"
	Active    = "active"
	Completed = "completed"
)

// WaitTask blocks until task id is in state (Queued, Active or Completed),
// or the server closes; it reports whether the state was reached.
func (s *Server) WaitTask(id, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && s.taskState(id) != state {
		s.cond.Wait()
	}
	return !s.closed
}

// WaitStep blocks until the running task id has taken at least n steps.
func (s *Server) WaitStep(id string, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && !(s.task == id && s.current != nil && s.samplingStep >= n) {
		s.cond.Wait()
	}
	return !s.closed
}

func (s *Server) taskState(id string) string {
	switch {
	case s.task == id:
		return Active
	case s.isPending(id):
		return Queued
	case slices.Contains(s.finished, id):
		return Completed
	}
	return ""
}

func (s *Server) isPending(id string) bool { _, ok := s.pending[id]; return ok }

type handler func(w http.ResponseWriter, r *http.Request, body []byte)

// record reads (up to 64 MiB) and records the request.
func (s *Server) record(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(http.MaxBytesReader(w, r.Body, 64<<20))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: buf.Bytes()})
		s.mu.Unlock()
		h(w, r, buf.Bytes())
	}
}

// auth is the web UI's Api.auth dependency (HTTPBasic + compare_digest).
func (s *Server) auth(h handler) http.HandlerFunc {
	return s.record(func(w http.ResponseWriter, r *http.Request, body []byte) {
		if s.opts.Username != "" {
			user, pass, ok := r.BasicAuth()
			if !ok {
				w.Header().Set("WWW-Authenticate", "Basic")
				writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Not authenticated"})
				return
			}
			if user != s.opts.Username || subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password)) != 1 {
				w.Header().Set("WWW-Authenticate", "Basic")
				writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Incorrect username or password"})
				return
			}
		}
		h(w, r, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// httpException is the web UI's api_middleware answer to an exception.
func httpException(w http.ResponseWriter, status int, errName, detail, errors string) {
	writeJSON(w, status, map[string]any{"error": errName, "detail": detail, "body": "", "errors": errors})
}

// fieldKind is a pydantic v1 field type of the processing API models.
type fieldKind int

const (
	kStr fieldKind = iota
	kInt
	kFloat
	kBool
	kDict
	kList
)

// fields are the StableDiffusionTxt2ImgProcessingAPI fields the fake checks
// (the model has more; pydantic ignores unknown ones, and so does the fake).
var fields = map[string]fieldKind{
	"prompt": kStr, "negative_prompt": kStr, "styles": kList, "seed": kInt, "subseed": kInt,
	"subseed_strength": kFloat, "seed_resize_from_h": kInt, "seed_resize_from_w": kInt,
	"sampler_name": kStr, "scheduler": kStr, "batch_size": kInt, "n_iter": kInt, "steps": kInt,
	"cfg_scale": kFloat, "width": kInt, "height": kInt, "restore_faces": kBool, "tiling": kBool,
	"do_not_save_samples": kBool, "do_not_save_grid": kBool, "eta": kFloat,
	"denoising_strength": kFloat, "override_settings": kDict, "override_settings_restore_afterwards": kBool,
	"refiner_checkpoint": kStr, "refiner_switch_at": kFloat, "disable_extra_networks": kBool,
	"enable_hr": kBool, "hr_scale": kFloat, "hr_upscaler": kStr, "hr_second_pass_steps": kInt,
	"sampler_index": kStr, "script_name": kStr, "script_args": kList, "send_images": kBool,
	"save_images": kBool, "alwayson_scripts": kDict, "force_task_id": kStr, "infotext": kStr,
}

var img2imgFields = map[string]fieldKind{
	"init_images": kList, "resize_mode": kInt, "image_cfg_scale": kFloat, "mask": kStr,
	"mask_blur": kInt, "inpainting_fill": kInt, "inpaint_full_res": kBool, "include_init_images": kBool,
}

type validationItem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// validate checks the body as pydantic v1 would (types only: the models
// have no ranges); nil when it passes.
func validate(body []byte, img2img bool) []validationItem {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return []validationItem{{Loc: []any{"body", 0}, Msg: "Expecting value: line 1 column 1 (char 0)", Type: "value_error.jsondecode"}}
	}
	var items []validationItem
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		kind, ok := fields[name]
		if !ok && img2img {
			kind, ok = img2imgFields[name]
		}
		if !ok {
			continue
		}
		raw := bytes.TrimSpace(m[name])
		if string(raw) == "null" {
			continue
		}
		var bad *validationItem
		switch kind {
		case kStr:
			var v string
			if json.Unmarshal(raw, &v) != nil {
				bad = &validationItem{Msg: "str type expected", Type: "type_error.str"}
			}
		case kInt:
			var v float64
			if json.Unmarshal(raw, &v) != nil || v != float64(int64(v)) {
				bad = &validationItem{Msg: "value is not a valid integer", Type: "type_error.integer"}
			}
		case kFloat:
			var v float64
			if json.Unmarshal(raw, &v) != nil {
				bad = &validationItem{Msg: "value is not a valid float", Type: "type_error.float"}
			}
		case kBool:
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				bad = &validationItem{Msg: "value could not be parsed to a boolean", Type: "type_error.bool"}
			}
		case kDict:
			var v map[string]any
			if json.Unmarshal(raw, &v) != nil {
				bad = &validationItem{Msg: "value is not a valid dict", Type: "type_error.dict"}
			}
		case kList:
			var v []any
			if json.Unmarshal(raw, &v) != nil {
				bad = &validationItem{Msg: "value is not a valid list", Type: "type_error.list"}
			}
		}
		if bad != nil {
			bad.Loc = []any{"body", name}
			items = append(items, *bad)
		}
	}
	return items
}

// genRequest is what the fake reads of a processing request.
type genRequest struct {
	Prompt                            string         `json:"prompt"`
	NegativePrompt                    string         `json:"negative_prompt"`
	SamplerName                       *string        `json:"sampler_name"`
	SamplerIndex                      *string        `json:"sampler_index"`
	Scheduler                         *string        `json:"scheduler"`
	CFGScale                          *float64       `json:"cfg_scale"`
	Seed                              *float64       `json:"seed"`
	Subseed                           *float64       `json:"subseed"`
	SubseedStrength                   float64        `json:"subseed_strength"`
	RestoreFaces                      *bool          `json:"restore_faces"`
	Width                             *float64       `json:"width"`
	Height                            *float64       `json:"height"`
	Steps                             *float64       `json:"steps"`
	BatchSize                         *float64       `json:"batch_size"`
	NIter                             *float64       `json:"n_iter"`
	OverrideSettings                  map[string]any `json:"override_settings"`
	OverrideSettingsRestoreAfterwards *bool          `json:"override_settings_restore_afterwards"`
	ForceTaskID                       *string        `json:"force_task_id"`
	InitImages                        []any          `json:"init_images"`
	DenoisingStrength                 *float64       `json:"denoising_strength"`
	SendImages                        *bool          `json:"send_images"`
}

func orInt(p *float64, def int) int {
	if p == nil {
		return def
	}
	return int(*p)
}

func (s *Server) generate(w http.ResponseWriter, body []byte, img2img bool) {
	s.mu.Lock()
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	s.mu.Unlock()

	if items := validate(body, img2img); items != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": items})
		return
	}
	var req genRequest
	_ = json.Unmarshal(body, &req)
	op := "txt2img"
	if img2img {
		op = "img2img"
	}
	taskID := fmt.Sprintf("task(%s-%d)", op, time.Now().UnixNano())
	if req.ForceTaskID != nil && *req.ForceTaskID != "" {
		taskID = *req.ForceTaskID
	}
	if img2img {
		if req.InitImages == nil {
			httpException(w, http.StatusNotFound, "HTTPException", "Init image not found", "404: Init image not found")
			return
		}
		for _, v := range req.InitImages {
			str, _ := v.(string)
			if !decodableImage(str) {
				httpException(w, http.StatusInternalServerError, "HTTPException", "Invalid encoded image", "500: Invalid encoded image")
				return
			}
		}
	}
	sampler := "Euler"
	if req.SamplerName != nil && *req.SamplerName != "" {
		sampler = *req.SamplerName
	} else if req.SamplerIndex != nil && *req.SamplerIndex != "" {
		sampler = *req.SamplerIndex
	}
	if !slices.Contains(Samplers, sampler) {
		httpException(w, http.StatusBadRequest, "HTTPException", "Sampler not found", "400: Sampler not found")
		return
	}
	width, height := orInt(req.Width, 512), orInt(req.Height, 512)
	steps, batch, nIter := max(orInt(req.Steps, 50), 1), max(orInt(req.BatchSize, 1), 1), max(orInt(req.NIter, 1), 1)

	// add_task_to_queue, then the queue lock in arrival order.
	j := &job{id: taskID, nIter: nIter, steps: steps}
	s.mu.Lock()
	s.pending[taskID] = time.Now()
	s.queue = append(s.queue, j)
	s.cond.Broadcast()
	for !s.closed && !(s.current == nil && s.queue[0] == j) {
		s.cond.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.queue = s.queue[1:]
	// shared.state.begin, start_task
	s.current = j
	s.task = taskID
	delete(s.pending, taskID)
	s.interrupted = false
	s.jobCount, s.jobNo, s.samplingStep, s.samplingSteps = nIter, 0, 0, steps
	s.timeStart = time.Now()
	s.jobTimestamp = s.timeStart.Format("20060102150405")
	// override_settings: an unknown checkpoint is dropped.
	previous := s.loaded
	if name, ok := req.OverrideSettings["sd_model_checkpoint"].(string); ok {
		if cp, ok := s.lookup(name); ok {
			s.loaded = cp
		}
	}
	model, stamp := s.loaded, s.jobTimestamp
	s.cond.Broadcast()
	oom := width*height > s.opts.MaxPixels

	made := 0
	if !oom {
	iterations:
		for it := range nIter {
			s.jobNo = it
			for st := range steps {
				for !s.closed && !s.interrupted && s.opts.Manual && s.tickets == 0 {
					s.cond.Wait()
				}
				if s.closed || s.interrupted {
					made += batch // the batch under way is decoded as it is
					break iterations
				}
				if s.opts.Manual {
					s.tickets--
				}
				if s.opts.StepDelay > 0 {
					s.mu.Unlock()
					time.Sleep(s.opts.StepDelay)
					s.mu.Lock()
				}
				s.samplingStep = st + 1
				s.cond.Broadcast()
			}
			made += batch
			s.samplingStep = 0
		}
	}
	// finish_task: in the web UI it is skipped when the render raises, and
	// current_task then stays the failed task's until the next start_task.
	// Then shared.state.end and the queue lock released.
	if !oom {
		if s.task == taskID {
			s.task = ""
		}
		s.finished = append(s.finished, taskID)
		if len(s.finished) > 16 {
			s.finished = s.finished[1:]
		}
	}
	s.current = nil
	s.jobCount, s.jobNo, s.samplingStep, s.samplingSteps = 0, 0, 0, 0
	if req.OverrideSettingsRestoreAfterwards == nil || *req.OverrideSettingsRestoreAfterwards {
		s.loaded = previous
	}
	s.cond.Broadcast()
	s.mu.Unlock()

	if oom {
		httpException(w, http.StatusInternalServerError, "OutOfMemoryError", "", fmt.Sprintf(
			"CUDA out of memory. Tried to allocate %d MiB", width*height*4*batch>>20))
		return
	}

	seed := int64(orInt(req.Seed, -1))
	if seed == -1 {
		seed = rand.Int64N(1 << 32)
	}
	subseed := int64(orInt(req.Subseed, -1))
	if subseed == -1 {
		subseed = rand.Int64N(1 << 32)
	}
	images := make([]string, 0, made)
	seeds := make([]int64, 0, made)
	for i := range made {
		seeds = append(seeds, seed+int64(i))
		images = append(images, base64.StdEncoding.EncodeToString(renderPNG(width, height, seed+int64(i))))
	}
	if req.SendImages != nil && !*req.SendImages {
		images = []string{}
	}
	denoise := 0.0
	if req.DenoisingStrength != nil {
		denoise = *req.DenoisingStrength
	} else if img2img {
		denoise = 0.75
	}
	cfg := 7.0
	if req.CFGScale != nil {
		cfg = *req.CFGScale
	}
	restore := req.RestoreFaces != nil && *req.RestoreFaces
	info := map[string]any{
		"prompt": req.Prompt, "all_prompts": repeat(req.Prompt, made), "negative_prompt": req.NegativePrompt,
		"all_negative_prompts": repeat(req.NegativePrompt, made), "seed": seed, "all_seeds": seeds,
		"subseed": subseed, "all_subseeds": seeds, "subseed_strength": req.SubseedStrength,
		"width": width, "height": height, "sampler_name": sampler, "cfg_scale": cfg, "steps": steps,
		"batch_size": batch, "restore_faces": restore, "face_restoration_model": nil,
		"sd_model_name": model.ModelName, "sd_model_hash": model.Hash, "sd_vae_name": nil, "sd_vae_hash": nil,
		"seed_resize_from_w": -1, "seed_resize_from_h": -1, "denoising_strength": denoise,
		"extra_generation_params": map[string]any{}, "index_of_first_image": 0, "infotexts": repeat(req.Prompt, made),
		"styles": []string{}, "job_timestamp": stamp, "clip_skip": 1, "is_using_inpainting_conditioning": false,
		"version": "v1.10.1",
	}
	infoJSON, _ := json.Marshal(info)
	var params map[string]any
	_ = json.Unmarshal(body, &params)
	delete(params, "init_images") // include_init_images defaults to false
	writeJSON(w, http.StatusOK, map[string]any{"images": images, "parameters": params, "info": string(infoJSON)})
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// lookup resolves a checkpoint by title, file name, model name or hash.
func (s *Server) lookup(name string) (Checkpoint, bool) {
	for _, cp := range s.opts.Checkpoints {
		file, _, _ := strings.Cut(cp.Title, " [")
		if name == cp.Title || name == file || name == cp.ModelName || name == cp.Hash {
			return cp, true
		}
	}
	return Checkpoint{}, false
}

func decodableImage(s string) bool {
	if strings.HasPrefix(s, "data:image/") {
		_, s, _ = strings.Cut(s, ",")
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	_, _, err = image.DecodeConfig(bytes.NewReader(data))
	return err == nil
}

// renderPNG draws a w x h gradient coloured by seed.
func renderPNG(w, h int, seed int64) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r, g := uint8(seed), uint8(seed>>8)
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: r ^ uint8(x), G: g ^ uint8(y), B: uint8(x + y), A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func (s *Server) interrupt(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.mu.Lock()
	s.interruptedTasks = append(s.interruptedTasks, s.task)
	s.interrupted = true // reset by the next begin, as shared.state
	s.cond.Broadcast()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) sdModels(w http.ResponseWriter, _ *http.Request, _ []byte) {
	var out []map[string]any
	for _, cp := range s.opts.Checkpoints {
		file, _, _ := strings.Cut(cp.Title, " [")
		out = append(out, map[string]any{"title": cp.Title, "model_name": cp.ModelName, "hash": cp.Hash,
			"sha256": nil, "filename": "/models/Stable-diffusion/" + file, "config": nil})
	}
	writeJSON(w, http.StatusOK, out)
}

// globalProgress is api.py's progressapi.
func (s *Server) globalProgress(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := map[string]any{
		"skipped": false, "interrupted": s.interrupted, "stopping_generation": false,
		"job": "", "job_count": s.jobCount, "job_timestamp": s.jobTimestamp, "job_no": s.jobNo,
		"sampling_step": s.samplingStep, "sampling_steps": s.samplingSteps,
	}
	if s.current != nil {
		state["job"] = "scripts_txt2img"
	}
	if s.jobCount == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"progress": 0, "eta_relative": 0, "state": state,
			"current_image": nil, "textinfo": nil, "current_task": nil})
		return
	}
	progress := 0.01 + float64(s.jobNo)/float64(s.jobCount)
	if s.samplingSteps > 0 {
		progress += float64(s.samplingStep) / float64(s.samplingSteps) / float64(s.jobCount)
	}
	elapsed := time.Since(s.timeStart).Seconds()
	eta := elapsed/progress - elapsed
	writeJSON(w, http.StatusOK, map[string]any{"progress": min(progress, 1), "eta_relative": eta, "state": state,
		"current_image": nil, "textinfo": nil, "current_task": nil})
}

// taskProgress is progress.py's progressapi.
func (s *Server) taskProgress(w http.ResponseWriter, _ *http.Request, body []byte) {
	var req struct {
		IDTask        *string `json:"id_task"`
		IDLivePreview *int    `json:"id_live_preview"`
		LivePreview   *bool   `json:"live_preview"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []validationItem{
			{Loc: []any{"body", 0}, Msg: "Expecting value: line 1 column 1 (char 0)", Type: "value_error.jsondecode"}}})
		return
	}
	id := ""
	if req.IDTask != nil {
		id = *req.IDTask
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	active := id == s.task // upstream compares with None too: no id_task while idle is "active"

	queued := s.isPending(id)
	completed := slices.Contains(s.finished, id)
	if !active {
		text := "Waiting..."
		if queued {
			ids := make([]string, 0, len(s.pending))
			for k := range s.pending {
				ids = append(ids, k)
			}
			slices.SortFunc(ids, func(a, b string) int { return s.pending[a].Compare(s.pending[b]) })
			text = fmt.Sprintf("In queue: %d/%d", slices.Index(ids, id)+1, len(ids))
		}
		writeJSON(w, http.StatusOK, map[string]any{"active": false, "queued": queued, "completed": completed,
			"progress": nil, "eta": nil, "live_preview": nil, "id_live_preview": -1, "textinfo": text})
		return
	}
	progress := 0.0
	if s.jobCount > 0 {
		progress += float64(s.jobNo) / float64(s.jobCount)
		if s.samplingSteps > 0 {
			progress += float64(s.samplingStep) / float64(s.samplingSteps) / float64(s.jobCount)
		}
	}
	progress = min(progress, 1)
	var eta any
	if progress > 0 {
		elapsed := time.Since(s.timeStart).Seconds()
		eta = elapsed/progress - elapsed
	}
	idPreview := -1
	if req.IDLivePreview != nil {
		idPreview = *req.IDLivePreview
	}
	// A live preview per sampling step, as a data URI, when asked for and
	// newer than the one the client has (progress.py).
	var preview any
	if req.LivePreview != nil && *req.LivePreview && s.samplingStep > 0 && idPreview != s.samplingStep {
		idPreview = s.samplingStep
		preview = "data:image/png;base64," + base64.StdEncoding.EncodeToString(renderPNG(16, 16, int64(s.samplingStep)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": true, "queued": queued, "completed": completed,
		"progress": progress, "eta": eta, "live_preview": preview, "id_live_preview": idPreview, "textinfo": nil})
}
