// Package comfyui drives a ComfyUI server over its HTTP and websocket API:
// it uploads a Job's input images, queues a complete API-format workflow
// under a prompt_id of its own, follows the prompt on /ws (falling back to
// /history when the socket stalls or drops), downloads the outputs from
// /view, and cancels only its own prompt (/queue delete while pending,
// /interrupt with the prompt_id while running). It knows nothing of AIMG's
// Jobs: the server resolves the workflow, this package only runs it.
//
// See docs/decisions.md "ComfyUI backend" for the message handling, the
// fallback, cancellation and the ComfyUI versions each part needs.
package comfyui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Config configures a Client. Zero fields take their defaults.
type Config struct {
	// BaseURL is the ComfyUI server, e.g. http://127.0.0.1:8188 (a path
	// prefix, as behind a reverse proxy, is kept).
	BaseURL string
	// HTTPClient makes every request and the websocket handshake; nil
	// means a client of its own. Its Timeout, if any, must exceed
	// RequestTimeout and is not applied to the websocket.
	HTTPClient *http.Client
	// Header is added to every request (and the websocket handshake), for
	// a reverse proxy's API key for instance.
	Header http.Header
	// Username and Password, when Username is set, are sent as HTTP Basic
	// authentication.
	Username, Password string

	// StallTimeout: when the socket has carried nothing for this long, the
	// prompt's state is read from /history (and /queue) instead.
	StallTimeout time.Duration
	// PollInterval is how often /history is read while the socket is down
	// or stalled, and how often a dropped socket is redialled.
	PollInterval time.Duration
	// MaxPollFailures consecutive failed state checks (5xx, garbage,
	// connection refused) end the run with the last error.
	MaxPollFailures int
	// RequestTimeout bounds each HTTP request (an upload or download
	// included); DialTimeout the websocket handshake.
	RequestTimeout, DialTimeout time.Duration
	// CancelTimeout bounds the clean-up requests sent when the run's
	// context ends (queue delete, interrupt).
	CancelTimeout time.Duration

	// Budgets of what the server sends back.
	MaxMessageBytes     int64 // one websocket message
	MaxHistoryBytes     int64 // a /history/{id} or /queue answer
	MaxResponseBytes    int64 // any other JSON answer (prompt, upload, system_stats) and error bodies
	MaxOutputBytes      int64 // one output file
	MaxTotalOutputBytes int64 // all output files of a run
	MaxOutputs          int   // output files of a run
	// Budgets of what is sent.
	MaxWorkflowBytes int64 // the workflow JSON
	MaxInputBytes    int64 // one input image

	// OutputTypes are the history output types that are results; the
	// default, "output", leaves out PreviewImage's "temp" files.
	OutputTypes []string
	// TargetedInterruptSince is the oldest ComfyUI version (its
	// /system_stats comfyui_version) whose /interrupt honours a prompt_id.
	// An older or unknown server is never sent /interrupt: on it every
	// interrupt is global and could stop another client's prompt.
	TargetedInterruptSince string
}

// Defaults.
const (
	DefaultStallTimeout           = 30 * time.Second
	DefaultPollInterval           = 2 * time.Second
	DefaultMaxPollFailures        = 5
	DefaultRequestTimeout         = 60 * time.Second
	DefaultDialTimeout            = 10 * time.Second
	DefaultCancelTimeout          = 10 * time.Second
	DefaultMaxMessageBytes        = 4 << 20
	DefaultMaxHistoryBytes        = 16 << 20
	DefaultMaxResponseBytes       = 1 << 20
	DefaultMaxOutputBytes         = 64 << 20
	DefaultMaxTotalOutputBytes    = 256 << 20
	DefaultMaxOutputs             = 64
	DefaultMaxWorkflowBytes       = 8 << 20
	DefaultMaxInputBytes          = 64 << 20
	DefaultTargetedInterruptSince = "0.4.0"
)

func (c Config) withDefaults() Config {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setInt := func(n *int64, v int64) {
		if *n <= 0 {
			*n = v
		}
	}
	setDur(&c.StallTimeout, DefaultStallTimeout)
	setDur(&c.PollInterval, DefaultPollInterval)
	setDur(&c.RequestTimeout, DefaultRequestTimeout)
	setDur(&c.DialTimeout, DefaultDialTimeout)
	setDur(&c.CancelTimeout, DefaultCancelTimeout)
	if c.MaxPollFailures <= 0 {
		c.MaxPollFailures = DefaultMaxPollFailures
	}
	setInt(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	setInt(&c.MaxHistoryBytes, DefaultMaxHistoryBytes)
	setInt(&c.MaxResponseBytes, DefaultMaxResponseBytes)
	setInt(&c.MaxOutputBytes, DefaultMaxOutputBytes)
	setInt(&c.MaxTotalOutputBytes, DefaultMaxTotalOutputBytes)
	setInt(&c.MaxWorkflowBytes, DefaultMaxWorkflowBytes)
	setInt(&c.MaxInputBytes, DefaultMaxInputBytes)
	if c.MaxOutputs <= 0 {
		c.MaxOutputs = DefaultMaxOutputs
	}
	if len(c.OutputTypes) == 0 {
		c.OutputTypes = []string{"output"}
	}
	if c.TargetedInterruptSince == "" {
		c.TargetedInterruptSince = DefaultTargetedInterruptSince
	}
	return c
}

// Client talks to one ComfyUI server. It is safe for concurrent Runs; each
// Run has its own websocket and client id.
type Client struct {
	cfg  Config
	base *url.URL
	hc   *http.Client

	mu       sync.Mutex
	targeted *bool // whether /interrupt honours prompt_id, once known
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("comfyui: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if _, err := parseVersion(cfg.TargetedInterruptSince); err != nil {
		return nil, fmt.Errorf("comfyui: TargetedInterruptSince: %w", err)
	}
	u.RawQuery, u.Fragment = "", ""
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, base: u, hc: hc}, nil
}

// Input is an image the workflow reads: it is uploaded to ComfyUI's input
// folder under a name unique to the run, and that name is written into the
// workflow at NodeID's input InputName (a LoadImage node's "image").
type Input struct {
	NodeID    string
	InputName string // default "image"
	FileName  string // only its extension is kept (default .png)
	Data      []byte
}

// Output is one result file.
type Output struct {
	NodeID      string // the node that produced it (a SaveImage)
	Filename    string
	Subfolder   string
	Type        string // "output"
	ContentType string
	Data        []byte
}

// Progress is how far a run is.
type Progress struct {
	// Fraction is 0..1 across the workflow: finished nodes (cached ones
	// count as finished) plus the running node's own steps, over all nodes.
	Fraction float64
	Done     int    // nodes finished or cached
	Cached   int    // of which cached
	Total    int    // nodes in the workflow
	Node     string // the running node, if known
	Value    int    // its step (a KSampler's), when it reports steps
	Max      int
	// Preview, when not nil, is the latest live preview of the run (a
	// PREVIEW_IMAGE frame, of the batch's first image), PreviewType its
	// type (image/jpeg or image/png). Only the report of the frame has it.
	Preview     []byte
	PreviewType string
}

// url builds the address of an API path.
func (c *Client) url(p string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + p
	u.RawPath = ""
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func (c *Client) header() http.Header {
	h := c.cfg.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.cfg.Username != "" {
		r := http.Request{Header: h}
		r.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	return h
}

// httpError is a non-2xx answer.
type httpError struct {
	method, path string
	status       int
	body         []byte
}

func (e *httpError) Error() string {
	return fmt.Sprintf("comfyui: %s %s: HTTP %d%s", e.method, e.path, e.status, snippet(e.body))
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return ": " + strings.ToValidUTF8(s, "?")
}

// call sends one request, bounded by RequestTimeout, and reads at most
// limit bytes of the answer. A non-2xx answer is an *httpError.
func (c *Client) call(ctx context.Context, method, p string, q url.Values, body []byte, contentType string, limit int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(p, q), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("comfyui: %s %s: %w", method, p, err)
	}
	req.Header = c.header()
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("comfyui: %s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok && limit > c.cfg.MaxResponseBytes {
		limit = c.cfg.MaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("comfyui: %s %s: reading the answer: %w", method, p, err)
	}
	if int64(len(data)) > limit {
		if !ok {
			return nil, nil, &httpError{method, p, resp.StatusCode, data[:limit]}
		}
		return nil, nil, fmt.Errorf("comfyui: %s %s: the answer is larger than %d bytes", method, p, limit)
	}
	if !ok {
		return nil, nil, &httpError{method, p, resp.StatusCode, data}
	}
	return data, resp.Header, nil
}

// callJSON sends body as JSON (nil: no body) and decodes the answer into out
// (nil: ignored).
func (c *Client) callJSON(ctx context.Context, method, p string, body any, out any, limit int64) error {
	var raw []byte
	ct := ""
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("comfyui: %s %s: %w", method, p, err)
		}
		ct = "application/json"
	}
	data, _, err := c.call(ctx, method, p, nil, raw, ct, limit)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("comfyui: %s %s: the answer is not the expected JSON%s: %v", method, p, snippet(data), err)
	}
	return nil
}

// Run runs a workflow to its end and returns its output files. Cancelling
// ctx removes the prompt from ComfyUI's queue or interrupts it (see the
// package doc). A *aimg.Error with code invalid means the workflow can
// never succeed; any other error is worth a retry.
func (c *Client) Run(ctx context.Context, workflow json.RawMessage, inputs []Input, progress func(Progress)) ([]Output, error) {
	if int64(len(workflow)) > c.cfg.MaxWorkflowBytes {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow is larger than %d bytes", c.cfg.MaxWorkflowBytes)
	}
	wf, err := parseWorkflow(workflow)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	r := &run{c: c, promptID: uuid.NewString(), clientID: uuid.NewString(), wf: wf,
		progress: progress, done: map[string]bool{}}
	for i, in := range inputs {
		if err := r.upload(ctx, i, in); err != nil {
			return nil, err
		}
	}
	return r.run(ctx)
}

// workflow is an API-format workflow: node id → node, every node's fields
// kept as sent.
type workflow map[string]map[string]json.RawMessage

func parseWorkflow(raw json.RawMessage) (workflow, error) {
	var wf workflow
	if err := json.Unmarshal(raw, &wf); err != nil || wf == nil {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow is not a JSON object of nodes")
	}
	if len(wf) == 0 {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow has no nodes")
	}
	for id, n := range wf {
		var ct string
		if err := json.Unmarshal(n["class_type"], &ct); err != nil || ct == "" {
			return nil, aimg.Errorf(aimg.CodeInvalid, "ComfyUI workflow node %s has no class_type", aimg.Quote(id))
		}
	}
	return wf, nil
}

// setInput writes a string value at a node's input.
func (wf workflow) setInput(nodeID, name, value string) error {
	n, ok := wf[nodeID]
	if !ok {
		return aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow has no node %s for an input image", aimg.Quote(nodeID))
	}
	inputs := map[string]json.RawMessage{}
	if raw, ok := n["inputs"]; ok {
		if err := json.Unmarshal(raw, &inputs); err != nil || inputs == nil {
			return aimg.Errorf(aimg.CodeInvalid, "ComfyUI workflow node %s has inputs that are not an object", aimg.Quote(nodeID))
		}
	}
	v, _ := json.Marshal(value)
	inputs[name] = v
	raw, _ := json.Marshal(inputs)
	n["inputs"] = raw
	return nil
}

// run is one Run.
type run struct {
	c                  *Client
	promptID, clientID string
	wf                 workflow
	progress           func(Progress)

	done          map[string]bool // finished or cached nodes
	cached        int
	current       string
	value, max    int
	lastFraction  float64
	blockedErrors []string
}

// upload sends one input image and points the workflow at it.
func (r *run) upload(ctx context.Context, i int, in Input) error {
	if int64(len(in.Data)) > r.c.cfg.MaxInputBytes {
		return aimg.Errorf(aimg.CodeInvalid, "input image %d is larger than %d bytes", i, r.c.cfg.MaxInputBytes)
	}
	if len(in.Data) == 0 {
		return aimg.Errorf(aimg.CodeInvalid, "input image %d is empty", i)
	}
	name := in.InputName
	if name == "" {
		name = "image"
	}
	if _, ok := r.wf[in.NodeID]; !ok {
		return aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow has no node %s for input image %d", aimg.Quote(in.NodeID), i)
	}
	ext := strings.ToLower(path.Ext(path.Base(strings.ReplaceAll(in.FileName, "\\", "/"))))
	if len(ext) < 2 || len(ext) > 6 || strings.Trim(ext[1:], "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		ext = ".png"
	}
	filename := fmt.Sprintf("aimg-%s-%d%s", r.promptID, i, ext)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image", filename)
	_, _ = fw.Write(in.Data)
	_ = mw.WriteField("overwrite", "true")
	_ = mw.WriteField("type", "input")
	_ = mw.Close()

	data, _, err := r.c.call(ctx, http.MethodPost, "/upload/image", nil, body.Bytes(), mw.FormDataContentType(), r.c.cfg.MaxResponseBytes)
	var he *httpError
	if errors.As(err, &he) && (he.status == http.StatusBadRequest || he.status == http.StatusRequestEntityTooLarge) {
		return aimg.Errorf(aimg.CodeInvalid, "ComfyUI refused input image %d (HTTP %d)", i, he.status)
	}
	if err != nil {
		return err
	}
	var resp struct {
		Name      string `json:"name"`
		Subfolder string `json:"subfolder"`
		Type      string `json:"type"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || resp.Name == "" {
		return fmt.Errorf("comfyui: POST /upload/image: the answer is not the expected JSON%s", snippet(data))
	}
	ref := resp.Name
	if resp.Subfolder != "" {
		ref = resp.Subfolder + "/" + resp.Name
	}
	return r.wf.setInput(in.NodeID, name, ref)
}
