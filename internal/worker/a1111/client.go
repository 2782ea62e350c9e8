// Package a1111 is a client of the AUTOMATIC1111 stable-diffusion-webui API
// (`--api`): txt2img and img2img with progress correlated by force_task_id,
// interrupts that only ever stop the client's own task, and budgets on what
// the server sends back. It is the protocol layer of the `a1111` worker
// backend; a Job carries the complete request body (Txt2ImgRequest or
// Img2ImgRequest), so this package knows nothing of AIMG's Jobs.
//
// Wire protocol, as in AUTOMATIC1111's modules/api/api.py, modules/api/models.py
// and modules/progress.py (v1.6 to v1.10):
//   - POST /sdapi/v1/txt2img, /sdapi/v1/img2img: the body is
//     StableDiffusionTxt2ImgProcessingAPI / ...Img2Img...; the answer
//     {images: [base64], parameters: {...}, info: "<JSON string>"}.
//   - The handler registers force_task_id as pending (add_task_to_queue), waits
//     for the one queue_lock, then start_task (the task becomes current) and
//     finish_task (it joins the last 16 finished) around the render.
//   - POST /internal/progress {id_task, id_live_preview, live_preview} answers
//     {active, queued, completed, progress, eta, textinfo, ...} for that id.
//     It is mounted by the web UI (not under --nowebui) and not behind --api-auth.
//   - GET /sdapi/v1/progress?skip_current_image=true is the state of whatever
//     runs now; it cannot say whose task that is (issue #16409: current_task
//     is imported by value in api.py, so it is always null).
//   - POST /sdapi/v1/interrupt stops whatever runs now, whoever started it.
//   - --api-auth user:pass protects every /sdapi route with HTTP Basic (401).
package a1111

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// Defaults of Config.
const (
	DefaultMaxResponseBytes = 64 << 20 // one txt2img/img2img answer, base64 images included
	DefaultMaxImagePixels   = 4096 * 4096
	DefaultMaxImages        = 64
	DefaultPollInterval     = time.Second
	DefaultCallTimeout      = 10 * time.Second
	DefaultRequestTimeout   = 15 * time.Minute
	maxSmallResponseBytes   = 1 << 20 // progress, interrupt, error bodies
	maxReasonLen            = 300     // server text quoted in an error
)

// Config configures a Client. Zero fields take their defaults.
type Config struct {
	// BaseURL is the web UI's address, e.g. http://gpu1:7860.
	BaseURL string
	// HTTPClient makes the requests; nil is a client without a global
	// timeout (each call has its own, below).
	HTTPClient *http.Client
	// Username and Password, when Username is set, are sent as HTTP Basic
	// (the server's --api-auth user:pass).
	Username, Password string
	// MaxResponseBytes bounds a txt2img/img2img answer (JSON with base64 images).
	MaxResponseBytes int64
	// MaxImagePixels bounds width x height of each returned image, read
	// from its header before anything is decoded.
	MaxImagePixels int64
	// MaxImages bounds the images of one answer.
	MaxImages int
	// PollInterval is how often progress is asked while a request runs.
	PollInterval time.Duration
	// CallTimeout bounds each progress and interrupt call.
	CallTimeout time.Duration
	// RequestTimeout bounds one txt2img/img2img call, queueing included;
	// the caller's context may end it sooner.
	RequestTimeout time.Duration
	// Exclusive says that nothing else uses this server and the client sends
	// one request at a time: without /internal/progress (--nowebui), the
	// global /sdapi/v1/progress is then taken to be ours. Otherwise such a
	// server gives no progress, and a cancel interrupts nothing.
	Exclusive bool
}

func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxImagePixels == 0 {
		c.MaxImagePixels = DefaultMaxImagePixels
	}
	if c.MaxImages == 0 {
		c.MaxImages = DefaultMaxImages
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	return c
}

func (c Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("a1111: baseURL: want http(s)://host[:port], got %q", c.BaseURL)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"maxResponseBytes", c.MaxResponseBytes}, {"maxImagePixels", c.MaxImagePixels}, {"maxImages", int64(c.MaxImages)},
		{"pollInterval", int64(c.PollInterval)}, {"callTimeout", int64(c.CallTimeout)}, {"requestTimeout", int64(c.RequestTimeout)}} {
		if f.v < 0 {
			return fmt.Errorf("a1111: %s: must be positive", f.name)
		}
	}
	return nil
}

// Client talks to one AUTOMATIC1111 server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL

	mu         sync.Mutex
	noInternal bool // /internal/progress answered 404 (--nowebui)

	// Watchers of abandoned queued tasks (see interruptWhenStarted).
	bg      context.Context
	stopBg  context.CancelFunc
	watches sync.WaitGroup
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	c := &Client{cfg: cfg, base: base}
	c.bg, c.stopBg = context.WithCancel(context.Background())
	return c, nil
}

// Close stops the watchers of abandoned queued tasks and waits for them.
// The Client must not be used afterwards.
func (c *Client) Close() {
	c.stopBg()
	c.watches.Wait()
}

// OverrideSettings are the web UI options applied for one request.
type OverrideSettings struct {
	// SDModelCheckpoint is a checkpoint title, name or hash
	// ("v1-5-pruned-emaonly.safetensors [6ce0161689]").
	SDModelCheckpoint string `json:"sd_model_checkpoint,omitempty"`
}

// Txt2ImgRequest is the body of POST /sdapi/v1/txt2img: the fields of
// StableDiffusionTxt2ImgProcessingAPI that AIMG sets. Numbers left zero
// where zero is meaningless (cfg_scale, width, height, steps, batch_size,
// n_iter) are omitted and take the server's defaults; a seed of -1 is random.
type Txt2ImgRequest struct {
	Prompt                            string           `json:"prompt"`
	NegativePrompt                    string           `json:"negative_prompt,omitempty"`
	SamplerName                       string           `json:"sampler_name,omitempty"`
	Scheduler                         string           `json:"scheduler,omitempty"`
	CFGScale                          float64          `json:"cfg_scale,omitempty"`
	Seed                              int64            `json:"seed"`
	Subseed                           int64            `json:"subseed"`
	SubseedStrength                   float64          `json:"subseed_strength"`
	RestoreFaces                      bool             `json:"restore_faces"`
	Width                             int              `json:"width,omitempty"`
	Height                            int              `json:"height,omitempty"`
	Steps                             int              `json:"steps,omitempty"`
	BatchSize                         int              `json:"batch_size,omitempty"`
	NIter                             int              `json:"n_iter,omitempty"`
	OverrideSettings                  OverrideSettings `json:"override_settings"`
	OverrideSettingsRestoreAfterwards *bool            `json:"override_settings_restore_afterwards,omitempty"`
	// ForceTaskID names the task for /internal/progress; empty: the client
	// makes one ("aimg-" and 24 hex digits).
	ForceTaskID string `json:"force_task_id,omitempty"`
}

// Img2ImgRequest is the body of POST /sdapi/v1/img2img.
type Img2ImgRequest struct {
	Txt2ImgRequest
	// InitImages are base64 images (a data: URI prefix is accepted by the server too).
	InitImages []string `json:"init_images"`
	// DenoisingStrength 0 is omitted (the server's default, 0.75).
	DenoisingStrength float64 `json:"denoising_strength,omitempty"`
}

// Image is one decoded output.
type Image struct {
	Data          []byte
	ContentType   string // image/png unless the server's samples_format says otherwise
	Width, Height int
}

// Result is a txt2img/img2img answer.
type Result struct {
	TaskID string
	Images []Image
	// Info is the server's `info` JSON string (seeds, model, infotexts).
	Info string
}

// Info is the part of Result.Info AIMG reads.
type Info struct {
	Seed        int64   `json:"seed"`
	AllSeeds    []int64 `json:"all_seeds"`
	Subseed     int64   `json:"subseed"`
	SDModelName string  `json:"sd_model_name"`
	SDModelHash string  `json:"sd_model_hash"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
}

// ParseInfo decodes Result.Info.
func (r Result) ParseInfo() (Info, error) {
	var in Info
	if err := json.Unmarshal([]byte(r.Info), &in); err != nil {
		return Info{}, fmt.Errorf("a1111: unreadable info: %w", err)
	}
	return in, nil
}

// TaskState is where the server says a task is.
type TaskState string

const (
	StateQueued    TaskState = "queued"
	StateActive    TaskState = "active"
	StateCompleted TaskState = "completed"
)

// Progress is one observation of the client's own task.
type Progress struct {
	State    TaskState
	Fraction float64       // 0..1, never decreasing within a request
	ETA      time.Duration // 0 when unknown
	// Step and Steps, when known, are the sampling step of the current
	// image (from /sdapi/v1/progress, read while our task was the active one).
	Step, Steps int
	// TextInfo is the server's text ("In queue: 2/3").
	TextInfo string
	// Preview, when not nil, is a new live preview of the task (PNG, JPEG
	// or WebP: PreviewType), from /internal/progress (preview.go).
	Preview     []byte
	PreviewType string
}

// Sentinel errors, wrapped with detail.
var (
	// ErrUnauthorized: the server refused the Basic credentials (401).
	ErrUnauthorized = errors.New("a1111: unauthorized")
)

// Txt2Img renders req; progress (may be nil) sees the task's own progress.
// When ctx ends first, the client interrupts the server only if its own
// task is the one running, and returns ctx's error.
func (c *Client) Txt2Img(ctx context.Context, req Txt2ImgRequest, progress func(Progress)) (Result, error) {
	if req.ForceTaskID == "" {
		req.ForceTaskID = newTaskID()
	}
	return c.generate(ctx, "txt2img", req.ForceTaskID, req, req.OverrideSettings.SDModelCheckpoint, progress)
}

// Img2Img renders req from its init images; as Txt2Img.
func (c *Client) Img2Img(ctx context.Context, req Img2ImgRequest, progress func(Progress)) (Result, error) {
	if len(req.InitImages) == 0 {
		return Result{}, aimg.Invalid("init_images", "img2img needs an init image")
	}
	if req.ForceTaskID == "" {
		req.ForceTaskID = newTaskID()
	}
	return c.generate(ctx, "img2img", req.ForceTaskID, req, req.OverrideSettings.SDModelCheckpoint, progress)
}

func newTaskID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "aimg-" + hex.EncodeToString(b[:])
}

// generate posts the request while a poller reports progress.
func (c *Client) generate(ctx context.Context, op, taskID string, body any, checkpoint string, progress func(Progress)) (Result, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return Result{}, fmt.Errorf("a1111 %s: encode request: %w", op, err)
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()

	pollCtx, stopPoll := context.WithCancel(reqCtx)
	var pollDone chan struct{}
	if progress != nil {
		pollDone = make(chan struct{})
		go func() {
			defer close(pollDone)
			c.poll(pollCtx, taskID, progress)
		}()
	}
	res, err := c.post(reqCtx, op, payload)
	stopPoll()
	if pollDone != nil {
		<-pollDone
	}
	if err != nil {
		if reqCtx.Err() != nil {
			// Our request is given up; the server would still render it.
			state, ierr := c.interruptOwn(context.WithoutCancel(ctx), taskID)
			what := "the server was left alone (our task was not the one running)"
			switch {
			case ierr != nil:
				what = "interrupting our task failed: " + ierr.Error()
			case state == StateActive:
				what = "our task was interrupted on the server"
			case state == StateQueued:
				what = "the server was left alone (our task is still queued there: it will be interrupted when it starts)"
				c.interruptWhenStarted(taskID)
			}
			cause := ctx.Err()
			if cause == nil {
				cause = fmt.Errorf("no answer within %s: %w", c.cfg.RequestTimeout, context.DeadlineExceeded)
			}
			return Result{}, fmt.Errorf("a1111 %s (task %s): %w; %s", op, taskID, cause, what)
		}
		return Result{}, err
	}
	res.TaskID = taskID
	if checkpoint != "" {
		if err := checkCheckpoint(res, checkpoint); err != nil {
			return Result{}, fmt.Errorf("a1111 %s: %w", op, err)
		}
	}
	return res, nil
}

// answer is TextToImageResponse / ImageToImageResponse.
type answer struct {
	Images []string `json:"images"`
	Info   *string  `json:"info"`
}

func (c *Client) post(ctx context.Context, op string, payload []byte) (Result, error) {
	resp, err := c.do(ctx, http.MethodPost, "/sdapi/v1/"+op, payload)
	if err != nil {
		return Result{}, fmt.Errorf("a1111 %s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxSmallResponseBytes))
		return Result{}, statusError(op, resp.StatusCode, body)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("a1111 %s: reading the answer: %w", op, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return Result{}, aimg.Errorf(aimg.CodeInvalid,
			"a1111 %s: the answer is larger than the %d-byte budget (maxResponseBytes); ask for fewer or smaller images", op, c.cfg.MaxResponseBytes)
	}
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Result{}, fmt.Errorf("a1111 %s: unreadable answer (%s): %w", op, quote(data), err)
	}
	if a.Info == nil || a.Images == nil {
		return Result{}, fmt.Errorf("a1111 %s: the answer has no images or info: %s", op, quote(data))
	}
	if len(a.Images) == 0 {
		return Result{}, fmt.Errorf("a1111 %s: the server returned no image", op)
	}
	if len(a.Images) > c.cfg.MaxImages {
		return Result{}, aimg.Errorf(aimg.CodeInvalid, "a1111 %s: %d images, more than the budget of %d (maxImages)", op, len(a.Images), c.cfg.MaxImages)
	}
	res := Result{Info: *a.Info}
	for i, s := range a.Images {
		img, err := c.decodeImage(s)
		if err != nil {
			return Result{}, fmt.Errorf("a1111 %s: images[%d]: %w", op, i, err)
		}
		res.Images = append(res.Images, img)
	}
	return res, nil
}

// decodeImage decodes one base64 image and checks its header: a known
// format, at most MaxImagePixels. The pixels themselves are not decoded.
func (c *Client) decodeImage(s string) (Image, error) {
	if strings.HasPrefix(s, "data:") {
		if _, after, ok := strings.Cut(s, ","); ok {
			s = after
		}
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Image{}, fmt.Errorf("not base64: %w", err)
	}
	info, err := media.Inspect(data)
	if err != nil {
		return Image{}, err
	}
	if info.Pixels() > c.cfg.MaxImagePixels {
		return Image{}, aimg.Errorf(aimg.CodeInvalid, "a %dx%d image is more than the %d-pixel budget (maxImagePixels)",
			info.Width, info.Height, c.cfg.MaxImagePixels)
	}
	return Image{Data: data, ContentType: "image/" + info.Format, Width: info.Width, Height: info.Height}, nil
}

// checkCheckpoint fails a render the server did with another checkpoint
// than asked: A1111 drops an override_settings.sd_model_checkpoint it does
// not know and renders with the loaded model instead, silently.
func checkCheckpoint(res Result, want string) error {
	info, err := res.ParseInfo()
	if err != nil {
		return err
	}
	if info.SDModelName == "" && info.SDModelHash == "" {
		return nil // nothing to compare with
	}
	w := strings.TrimSpace(want)
	title, hash, _ := strings.Cut(w, " [")
	hash = strings.TrimSuffix(hash, "]")
	base := path.Base(strings.ReplaceAll(title, `\`, "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	switch {
	case info.SDModelHash != "" && (strings.EqualFold(w, info.SDModelHash) || strings.EqualFold(hash, info.SDModelHash) ||
		(len(w) >= 10 && strings.HasPrefix(strings.ToLower(w), strings.ToLower(info.SDModelHash)))):
		return nil
	case info.SDModelName != "" && (base == info.SDModelName || w == info.SDModelName):
		return nil
	}
	return fmt.Errorf("the server rendered with checkpoint %q [%s], not %q: it does not know that checkpoint (see /sdapi/v1/sd-models)",
		info.SDModelName, info.SDModelHash, want)
}

// internalProgress is progress.py's ProgressResponse.
type internalProgress struct {
	Active    bool     `json:"active"`
	Queued    bool     `json:"queued"`
	Completed bool     `json:"completed"`
	Progress  *float64 `json:"progress"`
	ETA       *float64 `json:"eta"`
	TextInfo  *string  `json:"textinfo"`
	// LivePreview is a data URI when asked for (live_preview) and newer
	// than the id_live_preview asked with; IDLivePreview names it.
	LivePreview   *string `json:"live_preview"`
	IDLivePreview int     `json:"id_live_preview"`
}

// globalProgress is api/models.py's ProgressResponse.
type globalProgress struct {
	Progress    float64 `json:"progress"`
	ETARelative float64 `json:"eta_relative"`
	State       struct {
		JobCount      int  `json:"job_count"`
		JobNo         int  `json:"job_no"`
		SamplingStep  int  `json:"sampling_step"`
		SamplingSteps int  `json:"sampling_steps"`
		Interrupted   bool `json:"interrupted"`
	} `json:"state"`
	TextInfo    *string `json:"textinfo"`
	CurrentTask *string `json:"current_task"`
}

var errNoInternal = errors.New("a1111: the server has no /internal/progress (started with --nowebui)")

// taskProgress asks /internal/progress about id; with lastPreview, also
// for a live preview newer than *lastPreview.
func (c *Client) taskProgress(ctx context.Context, id string, lastPreview *int) (internalProgress, error) {
	c.mu.Lock()
	missing := c.noInternal
	c.mu.Unlock()
	if missing {
		return internalProgress{}, errNoInternal
	}
	previewID := -1
	if lastPreview != nil {
		previewID = *lastPreview
	}
	body, _ := json.Marshal(map[string]any{"id_task": id, "id_live_preview": previewID, "live_preview": lastPreview != nil})
	var p internalProgress
	status, err := c.small(ctx, http.MethodPost, "/internal/progress", body, &p)
	if status == http.StatusNotFound {
		c.mu.Lock()
		c.noInternal = true
		c.mu.Unlock()
		return internalProgress{}, errNoInternal
	}
	return p, err
}

func (c *Client) globalProgress(ctx context.Context) (globalProgress, error) {
	var g globalProgress
	_, err := c.small(ctx, http.MethodGet, "/sdapi/v1/progress?skip_current_image=true", nil, &g)
	return g, err
}

// observe is one look at task id: ok is false when nothing can be said.
// With lastPreview it asks for a newer live preview too, and moves
// *lastPreview to the one it got.
func (c *Client) observe(ctx context.Context, id string, lastPreview *int) (p Progress, ok bool, err error) {
	ip, err := c.taskProgress(ctx, id, lastPreview)
	switch {
	case errors.Is(err, errNoInternal):
		g, err := c.globalProgress(ctx)
		if err != nil {
			return Progress{}, false, err
		}
		ours := g.CurrentTask != nil && *g.CurrentTask == id
		if g.CurrentTask == nil && c.cfg.Exclusive && g.State.JobCount > 0 {
			ours = true
		}
		if !ours {
			return Progress{}, false, nil
		}
		p = Progress{State: StateActive, Fraction: g.Progress, ETA: seconds(g.ETARelative),
			Step: g.State.SamplingStep, Steps: g.State.SamplingSteps}
		if g.TextInfo != nil {
			p.TextInfo = *g.TextInfo
		}
		return p, true, nil
	case err != nil:
		return Progress{}, false, err
	}
	if ip.TextInfo != nil {
		p.TextInfo = *ip.TextInfo
	}
	switch {
	case ip.Active:
		p.State = StateActive
		if ip.LivePreview != nil && lastPreview != nil {
			if img, ct, ok := parseDataURI(*ip.LivePreview); ok {
				p.Preview, p.PreviewType = img, ct
				*lastPreview = ip.IDLivePreview
			}
		}
		if ip.Progress != nil {
			p.Fraction = *ip.Progress
		}
		if ip.ETA != nil {
			p.ETA = seconds(*ip.ETA)
		}
		// The global state is ours only while our task is current: read it,
		// then ask again, and keep its steps only if we were current throughout.
		if g, err := c.globalProgress(ctx); err == nil && g.State.SamplingSteps > 0 {
			if again, err := c.taskProgress(ctx, id, nil); err == nil && again.Active {
				p.Step, p.Steps = g.State.SamplingStep, g.State.SamplingSteps
			}
		}
	case ip.Queued:
		p.State = StateQueued
	case ip.Completed:
		p.State = StateCompleted
		p.Fraction = 1
	default:
		// Not yet registered (the request is on its way) or forgotten.
		return Progress{}, false, nil
	}
	return p, true, nil
}

func seconds(s float64) time.Duration {
	if s <= 0 || s > 1e6 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// poll reports progress every PollInterval until ctx ends. Errors are
// skipped: the generation call itself says whether the server is gone.
func (c *Client) poll(ctx context.Context, id string, progress func(Progress)) {
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	var last float64
	lastPreview := -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		p, ok, err := c.observe(cctx, id, &lastPreview)
		cancel()
		if err != nil || !ok || ctx.Err() != nil {
			continue
		}
		p.Fraction = min(max(p.Fraction, last, 0), 1)
		last = p.Fraction
		progress(p)
	}
}

// interruptOwn interrupts the server only when task id is the one running;
// a queued or finished task is left alone. It returns the state it saw
// ("" when it could not tell).
func (c *Client) interruptOwn(ctx context.Context, id string) (TaskState, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	p, ok, err := c.observe(ctx, id, nil)
	if err != nil || !ok {
		return "", err
	}
	if p.State != StateActive {
		return p.State, nil
	}
	if _, err := c.small(ctx, http.MethodPost, "/sdapi/v1/interrupt", []byte("{}"), nil); err != nil {
		return "", err
	}
	return StateActive, nil
}

// interruptWhenStarted watches an abandoned task that is still queued on
// the server (the web UI cannot dequeue it, and runs it once its turn
// comes, for nobody): when it becomes the running task it is interrupted.
// The watch ends when the task is seen finished or forgotten, after
// RequestTimeout, or on Close.
func (c *Client) interruptWhenStarted(id string) {
	c.watches.Add(1)
	go func() {
		defer c.watches.Done()
		ctx, cancel := context.WithTimeout(c.bg, c.cfg.RequestTimeout)
		defer cancel()
		t := time.NewTicker(c.cfg.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			state, err := c.interruptOwn(ctx, id)
			if err == nil && state != StateQueued {
				return
			}
		}
	}()
}

// do sends one request with the credentials.
func (c *Client) do(ctx context.Context, method, pathQuery string, body []byte) (*http.Response, error) {
	u := c.base.String() + pathQuery
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	return c.cfg.HTTPClient.Do(req)
}

// small makes a call whose answer is small JSON, decoded into out (nil: ignored).
func (c *Client) small(ctx context.Context, method, pathQuery string, body []byte, out any) (int, error) {
	op := strings.TrimPrefix(strings.SplitN(pathQuery, "?", 2)[0], "/")
	resp, err := c.do(ctx, method, pathQuery, body)
	if err != nil {
		return 0, fmt.Errorf("a1111 %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSmallResponseBytes+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("a1111 %s: reading the answer: %w", op, err)
	}
	if len(data) > maxSmallResponseBytes {
		return resp.StatusCode, fmt.Errorf("a1111 %s: the answer is larger than %d bytes", op, maxSmallResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, statusError(op, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("a1111 %s: unreadable answer (%s): %w", op, quote(data), err)
		}
	}
	return resp.StatusCode, nil
}

// validationItem is one entry of FastAPI's 422 detail list.
type validationItem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// errorBody is both FastAPI's {"detail": ...} and the web UI's
// api_middleware {"error", "detail", "body", "errors"}.
type errorBody struct {
	Error  string          `json:"error"`
	Detail json.RawMessage `json:"detail"`
	Errors string          `json:"errors"`
}

// statusError turns a non-200 answer into an error: an *aimg.Error with
// CodeInvalid when the request itself can never succeed (retrying is
// pointless), a plain error otherwise.
func statusError(op string, status int, body []byte) error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb)
	var detail string
	var items []validationItem
	if len(eb.Detail) > 0 {
		if json.Unmarshal(eb.Detail, &detail) != nil {
			detail = ""
			_ = json.Unmarshal(eb.Detail, &items)
		}
	}
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s refused the credentials (HTTP 401 %s): check the worker's Basic user:password against the server's --api-auth",
			ErrUnauthorized, op, quoteText(detail))
	case status == http.StatusUnprocessableEntity && len(items) > 0:
		var msgs []string
		field := ""
		for _, it := range items {
			f := fieldName(it.Loc)
			if field == "" {
				field = f
			}
			msgs = append(msgs, fmt.Sprintf("%s: %s (%s)", f, it.Msg, it.Type))
		}
		return &aimg.Error{Code: aimg.CodeInvalid, Field: field,
			Message: fmt.Sprintf("a1111 %s refused the request: %s", op, truncate(strings.Join(msgs, "; ")))}
	case status == http.StatusNotFound && detail == "Not Found" && eb.Error == "":
		// Starlette's own 404: the route is not there, a server setting.
		return fmt.Errorf("a1111 %s: HTTP 404: the server has no such route; is it started with --api?", op)
	case status == http.StatusInternalServerError && detail == "Invalid encoded image":
		return aimg.Invalid("init_images", "a1111 %s could not read the init image", op)
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return fmt.Errorf("a1111 %s: HTTP %d %s", op, status, quoteText(detail))
	case status >= 400 && status < 500:
		// 400 "Sampler not found", 404 "Init image not found", 422 "Script 'x' not found", ...
		msg := detail
		if msg == "" {
			msg = quote(body)
		}
		return aimg.Errorf(aimg.CodeInvalid, "a1111 %s refused the request (HTTP %d): %s", op, status, truncate(msg))
	default:
		msg := strings.TrimSpace(strings.Join(nonEmpty(eb.Error, detail, eb.Errors), ": "))
		if msg == "" {
			msg = quote(body)
		}
		return fmt.Errorf("a1111 %s: HTTP %d: %s", op, status, truncate(msg))
	}
}

// fieldName joins a FastAPI loc, without its leading "body".
func fieldName(loc []any) string {
	var parts []string
	for i, p := range loc {
		s := fmt.Sprint(p)
		if i == 0 && s == "body" && len(loc) > 1 {
			continue
		}
		if f, ok := p.(float64); ok {
			s = fmt.Sprintf("[%d]", int(f))
			if len(parts) > 0 {
				parts[len(parts)-1] += s
				continue
			}
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "body"
	}
	return truncate(strings.Join(parts, "."))
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && !(len(out) > 0 && strings.Contains(out[len(out)-1], s)) {
			out = append(out, s)
		}
	}
	return out
}

func truncate(s string) string { return aimg.Truncate(s, maxReasonLen) }

func quote(b []byte) string {
	if len(b) == 0 {
		return "empty body"
	}
	return fmt.Sprintf("%q", truncate(string(b)))
}

func quoteText(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", truncate(s))
}
