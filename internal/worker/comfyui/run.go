package comfyui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"aimg/internal/aimg"
)

// event is one websocket message, or the socket's end (err set).
type event struct {
	typ  string
	data json.RawMessage
	err  error
	// preview and previewType: a preview frame (typ previewEvent).
	preview     []byte
	previewType string
}

// socket is one open /ws connection and the reader feeding its events.
type socket struct {
	conn   *websocket.Conn
	events chan event
	stop   context.CancelFunc
}

func (s *socket) close() {
	if s != nil {
		s.stop()
		s.conn.CloseNow()
	}
}

// dial opens /ws?clientId=<id> and starts reading it. Binary preview
// frames are forwarded as previewEvent, other binary frames dropped;
// every text frame is forwarded.
func (r *run) dial(ctx context.Context) (*socket, error) {
	c := r.c
	u, _ := url.Parse(c.url("/ws", url.Values{"clientId": {r.clientID}}))
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	hc := *c.hc
	hc.Timeout = 0 // the connection lives as long as the run
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: &hc, HTTPHeader: c.header()})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("comfyui: open /ws: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("comfyui: open /ws: %w", err)
	}
	conn.SetReadLimit(c.cfg.MaxMessageBytes)
	rctx, stop := context.WithCancel(ctx)
	s := &socket{conn: conn, events: make(chan event, 64), stop: stop}
	go func() {
		for {
			typ, data, err := conn.Read(rctx)
			var ev event
			switch {
			case err != nil:
				ev.err = err
			case typ == websocket.MessageBinary:
				img, ct, ok := parsePreviewFrame(data) // preview.go
				if !ok {
					continue
				}
				ev.typ, ev.preview, ev.previewType = previewEvent, img, ct
			default:
				var m struct {
					Type string          `json:"type"`
					Data json.RawMessage `json:"data"`
				}
				if jerr := json.Unmarshal(data, &m); jerr != nil || m.Type == "" {
					ev.err = fmt.Errorf("comfyui: /ws sent a message that is not {type, data}%s", snippet(data))
				} else {
					ev.typ, ev.data = m.Type, m.Data
				}
			}
			select {
			case s.events <- ev:
			case <-rctx.Done():
				return
			}
			if ev.err != nil {
				return
			}
		}
	}()
	return s, nil
}

// message is the union of the data fields of the messages a run follows.
type message struct {
	PromptID string   `json:"prompt_id"`
	Node     *string  `json:"node"`  // executing (null: the prompt is done), executed, progress
	Nodes    []string `json:"nodes"` // execution_cached
	Value    float64  `json:"value"` // progress
	Max      float64  `json:"max"`
	// execution_error, execution_interrupted
	NodeID           string `json:"node_id"`
	NodeType         string `json:"node_type"`
	ExceptionMessage string `json:"exception_message"`
	ExceptionType    string `json:"exception_type"`
}

// outcome ends the event loop.
type outcome struct {
	finished bool  // the prompt left the queue: read its history
	err      error // the prompt failed
}

// run queues the prompt and follows it to its end.
func (r *run) run(ctx context.Context) ([]Output, error) {
	c := r.c
	// The socket is open before the prompt is queued, so no message of it
	// is missed.
	sock, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { sock.close() }()
	// ComfyUI greets a socket with a status message once it has registered
	// it: wait for it (briefly) so that the prompt's first messages find
	// the socket.
	hello := time.NewTimer(min(c.cfg.StallTimeout, c.cfg.DialTimeout))
	select {
	case ev := <-sock.events:
		if ev.err != nil {
			// Closed at once (a message over the budget): follow the
			// prompt on /history.
			sock.close()
			sock = nil
		}
	case <-hello.C:
	case <-ctx.Done():
	}
	hello.Stop()
	if err := r.queue(ctx); err != nil {
		return nil, err
	}
	r.report()

	stall := time.NewTimer(c.cfg.StallTimeout)
	defer stall.Stop()
	var poll *time.Ticker
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()
	var pollC <-chan time.Time
	if sock == nil {
		poll = time.NewTicker(c.cfg.PollInterval)
		pollC = poll.C
	}
	failures := 0
	// check reads the prompt's state; a finished prompt ends the loop.
	check := func() (*outcome, error) {
		out, err := r.check(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			failures++
			if failures >= c.cfg.MaxPollFailures {
				return nil, fmt.Errorf("comfyui: prompt %s: its state cannot be read (%d tries): %w", r.promptID, failures, err)
			}
			return nil, nil
		}
		failures = 0
		return out, nil
	}
	for {
		var events <-chan event
		if sock != nil {
			events = sock.events
		}
		var out *outcome
		select {
		case <-ctx.Done():
			return nil, r.cancel(ctx)
		case ev := <-events:
			if ev.err != nil {
				// The socket dropped: poll, and redial at each tick.
				sock.close()
				sock = nil
				if poll == nil {
					poll = time.NewTicker(c.cfg.PollInterval)
					pollC = poll.C
				}
				if out, err = check(); err != nil {
					return nil, err
				}
				break
			}
			if !stall.Stop() {
				select {
				case <-stall.C:
				default:
				}
			}
			stall.Reset(c.cfg.StallTimeout)
			out = r.handle(ev)
		case <-stall.C:
			// Nothing for StallTimeout: the socket may be stuck, or a node
			// is silent for long. Look at the history, and again every
			// PollInterval while the silence lasts.
			if out, err = check(); err != nil {
				return nil, err
			}
			stall.Reset(c.cfg.PollInterval)
		case <-pollC:
			if out, err = check(); err != nil {
				return nil, err
			}
			if out == nil && sock == nil {
				if s, derr := r.dial(ctx); derr == nil {
					sock = s
					poll.Stop()
					poll, pollC = nil, nil
					// Messages sent while the socket was down are lost: the
					// history tells whether the prompt ended meanwhile.
					if out, err = check(); err != nil {
						return nil, err
					}
				}
			}
		}
		if out == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, r.cancel(ctx)
		}
		if out.err != nil {
			return nil, out.err
		}
		outputs, err := r.finish(ctx)
		var se *stateError
		if errors.As(err, &se) && ctx.Err() == nil {
			// The history could not be read (or, which ComfyUI never does,
			// executing(null) came before it was written): poll it.
			if !errors.Is(err, errNotInHistory) {
				failures++
				if failures >= c.cfg.MaxPollFailures {
					return nil, fmt.Errorf("comfyui: prompt %s: its state cannot be read (%d tries): %w", r.promptID, failures, se.err)
				}
			}
			if poll == nil {
				poll = time.NewTicker(c.cfg.PollInterval)
				pollC = poll.C
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, r.cancel(ctx)
			}
			return nil, err
		}
		r.progress(Progress{Fraction: 1, Done: len(r.wf), Cached: r.cached, Total: len(r.wf)})
		return outputs, nil
	}
}

// queue posts the prompt under its own prompt_id.
func (r *run) queue(ctx context.Context) error {
	c := r.c
	body := map[string]any{"prompt": r.wf, "client_id": r.clientID, "prompt_id": r.promptID}
	var resp struct {
		PromptID string `json:"prompt_id"`
	}
	err := c.callJSON(ctx, http.MethodPost, "/prompt", body, &resp, c.cfg.MaxResponseBytes)
	var he *httpError
	if errors.As(err, &he) && (he.status == http.StatusBadRequest || he.status == http.StatusRequestEntityTooLarge) {
		return validationError(he)
	}
	if err != nil && ctx.Err() != nil {
		// Cancelled while queueing: the prompt may be queued, even running.
		return r.cancel(ctx)
	}
	if err != nil {
		// The prompt may have been queued before the answer was lost: it
		// has our prompt_id, so it can be taken out again.
		r.cleanup(ctx, false)
		return err
	}
	switch {
	case resp.PromptID == "":
		r.cleanup(ctx, false)
		return fmt.Errorf("comfyui: POST /prompt: the answer has no prompt_id")
	case resp.PromptID != r.promptID:
		// A ComfyUI older than the caller-chosen prompt_id (mid 2025)
		// names the prompt itself; follow that name.
		r.promptID = resp.PromptID
	}
	return nil
}

// validationError turns a 400 from POST /prompt into an invalid error
// naming the nodes and what is wrong with them.
func validationError(he *httpError) error {
	var body struct {
		Error      json.RawMessage `json:"error"`
		NodeErrors json.RawMessage `json:"node_errors"`
	}
	if he.status == http.StatusRequestEntityTooLarge {
		return aimg.Errorf(aimg.CodeInvalid, "ComfyUI refused the workflow: it is larger than the server accepts (HTTP 413)")
	}
	if err := json.Unmarshal(he.body, &body); err != nil {
		return aimg.Errorf(aimg.CodeInvalid, "ComfyUI refused the workflow (HTTP 400)%s", snippet(he.body))
	}
	type apiError struct {
		Type      string         `json:"type"`
		Message   string         `json:"message"`
		Details   string         `json:"details"`
		ExtraInfo map[string]any `json:"extra_info"`
	}
	var top apiError
	if json.Unmarshal(body.Error, &top) != nil {
		var s string
		_ = json.Unmarshal(body.Error, &s) // old servers: a bare string
		top.Message = s
	}
	var parts []string
	var nodeErrors map[string]struct {
		Errors    []apiError `json:"errors"`
		ClassType string     `json:"class_type"`
	}
	_ = json.Unmarshal(body.NodeErrors, &nodeErrors) // [] on old servers
	ids := make([]string, 0, len(nodeErrors))
	for id := range nodeErrors {
		ids = append(ids, id)
	}
	sortNodeIDs(ids)
	for _, id := range ids {
		ne := nodeErrors[id]
		var reasons []string
		for _, e := range ne.Errors {
			s := e.Message
			if e.Details != "" {
				s += ": " + e.Details
			}
			reasons = append(reasons, s)
		}
		parts = append(parts, fmt.Sprintf("node %s (%s): %s", id, ne.ClassType, strings.Join(reasons, "; ")))
	}
	msg := top.Message
	if msg == "" {
		msg = "invalid prompt"
	}
	if len(parts) == 0 {
		// Errors about the prompt as a whole (missing_node_type) name their
		// node in extra_info.
		if id, ok := top.ExtraInfo["node_id"].(string); ok {
			ct, _ := top.ExtraInfo["class_type"].(string)
			msg = fmt.Sprintf("node %s (%s): %s", id, ct, msg)
		} else if top.Details != "" {
			msg += ": " + top.Details
		}
	} else {
		msg += ": " + strings.Join(parts, "; ")
	}
	return aimg.Errorf(aimg.CodeInvalid, "ComfyUI refused the workflow: %s", clip(msg, 900))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "…"
}

// sortNodeIDs orders node ids numerically when they are numbers.
func sortNodeIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, aerr := strconv.Atoi(ids[i])
		b, berr := strconv.Atoi(ids[j])
		switch {
		case aerr == nil && berr == nil:
			return a < b
		case aerr == nil:
			return true
		case berr == nil:
			return false
		}
		return ids[i] < ids[j]
	})
}

// ours tells whether a message is about this run's prompt. The socket is
// the run's own (its client id is fresh), but status messages are
// broadcast, and on reconnect ComfyUI sends executing without a prompt_id.
func (r *run) ours(m message) bool {
	return m.PromptID == r.promptID || (m.PromptID == "" && m.Node != nil)
}

// handle follows one message.
func (r *run) handle(ev event) *outcome {
	var m message
	if len(ev.data) > 0 && ev.data[0] == '{' {
		if err := json.Unmarshal(ev.data, &m); err != nil {
			return nil // a field of an unexpected type in a message we may not need
		}
	}
	switch ev.typ {
	case previewEvent:
		r.preview(ev)
	case "execution_start":
		if m.PromptID == r.promptID {
			r.report()
		}
	case "execution_cached":
		if m.PromptID == r.promptID {
			for _, id := range m.Nodes {
				if _, ok := r.wf[id]; ok && !r.done[id] {
					r.done[id] = true
					r.cached++
				}
			}
			r.report()
		}
	case "executing":
		if !r.ours(m) {
			return nil
		}
		if m.Node == nil {
			if m.PromptID == r.promptID {
				return &outcome{finished: true} // ComfyUI writes the history before it sends this
			}
			return nil
		}
		if r.current != "" && r.current != *m.Node {
			r.markDone(r.current)
		}
		r.current, r.value, r.max = *m.Node, 0, 0
		r.report()
	case "progress":
		if !r.ours(m) || m.Max <= 0 {
			return nil
		}
		if m.Node != nil && *m.Node != r.current {
			if r.current != "" {
				r.markDone(r.current)
			}
			r.current = *m.Node
		}
		r.value, r.max = int(m.Value), int(m.Max)
		r.report()
	case "executed":
		if m.PromptID == r.promptID && m.Node != nil {
			r.markDone(*m.Node)
			r.report()
		}
	case "execution_success":
		if m.PromptID == r.promptID && r.current != "" {
			r.markDone(r.current)
			r.report()
		}
	case "execution_error":
		if m.PromptID != r.promptID {
			return nil
		}
		if m.ExceptionType == "ExecutionBlocked" {
			// A node blocked its output; the prompt goes on without it.
			r.blockedErrors = append(r.blockedErrors, m.ExceptionMessage)
			return nil
		}
		return &outcome{err: executionError(r.promptID, m)}
	case "execution_interrupted":
		if m.PromptID != r.promptID {
			return nil
		}
		return &outcome{err: interruptedError(r.promptID, m)}
	}
	return nil
}

func (r *run) markDone(id string) {
	if _, ok := r.wf[id]; ok {
		r.done[id] = true
	}
	if r.current == id {
		r.current, r.value, r.max = "", 0, 0
	}
}

// report sends the progress when it grew.
func (r *run) report() {
	total := len(r.wf)
	done := len(r.done)
	f := float64(done)
	if r.current != "" && !r.done[r.current] && r.max > 0 {
		f += float64(min(r.value, r.max)) / float64(r.max)
	}
	f /= float64(total)
	if f > 0.999 {
		f = 0.999 // 1 only once the outputs are in
	}
	if f < r.lastFraction {
		f = r.lastFraction
	}
	r.lastFraction = f
	r.progress(Progress{Fraction: f, Done: done, Cached: r.cached, Total: total, Node: r.current, Value: r.value, Max: r.max})
}

// transientExceptions are exception types worth another attempt.
var transientExceptions = []string{"OutOfMemory", "torch.cuda", "ConnectionError", "TimeoutError", "Timeout"}

// executionError describes a node that raised. Exceptions are taken to be
// the workflow's fault (a bad input, a missing model file) except the
// transient kinds (out of memory, a network call that failed).
func executionError(promptID string, m message) error {
	msg := fmt.Sprintf("ComfyUI node %s (%s) failed: %s", m.NodeID, m.NodeType, clip(strings.TrimSpace(m.ExceptionMessage), 600))
	if m.ExceptionType != "" {
		msg += " [" + m.ExceptionType + "]"
	}
	for _, t := range transientExceptions {
		if strings.Contains(m.ExceptionType, t) {
			return fmt.Errorf("comfyui: prompt %s: %s", promptID, msg)
		}
	}
	return aimg.Errorf(aimg.CodeInvalid, "%s", msg)
}

// interruptedError: an interrupt AIMG did not send (another client's bare
// /interrupt, someone at the ComfyUI UI): worth another attempt.
func interruptedError(promptID string, m message) error {
	return fmt.Errorf("comfyui: prompt %s was interrupted on the ComfyUI server at node %s (%s), not by this worker", promptID, m.NodeID, m.NodeType)
}

var errNotInHistory = errors.New("comfyui: the prompt is not in the history yet")

// stateError: the prompt's history could not be read when it finished.
type stateError struct{ err error }

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

// historyEntry is one prompt of GET /history/{prompt_id}.
type historyEntry struct {
	Outputs map[string]map[string]json.RawMessage `json:"outputs"`
	Status  *struct {
		StatusStr string              `json:"status_str"`
		Completed bool                `json:"completed"`
		Messages  [][]json.RawMessage `json:"messages"`
	} `json:"status"`
}

func (r *run) history(ctx context.Context) (*historyEntry, error) {
	var h map[string]historyEntry
	err := r.c.callJSON(ctx, http.MethodGet, "/history/"+url.PathEscape(r.promptID), nil, &h, r.c.cfg.MaxHistoryBytes)
	if err != nil {
		return nil, err
	}
	e, ok := h[r.promptID]
	if !ok {
		return nil, errNotInHistory
	}
	return &e, nil
}

// queueState is GET /queue: its items are [number, prompt_id, prompt, extra_data, outputs].
type queueState struct {
	Running []json.RawMessage `json:"queue_running"`
	Pending []json.RawMessage `json:"queue_pending"`
}

func (r *run) queueState(ctx context.Context) (running, pending bool, err error) {
	var q queueState
	if err := r.c.callJSON(ctx, http.MethodGet, "/queue", nil, &q, r.c.cfg.MaxHistoryBytes); err != nil {
		return false, false, err
	}
	has := func(items []json.RawMessage) bool {
		for _, it := range items {
			var fields []json.RawMessage
			if json.Unmarshal(it, &fields) != nil || len(fields) < 2 {
				continue
			}
			var id string
			if json.Unmarshal(fields[1], &id) == nil && id == r.promptID {
				return true
			}
		}
		return false
	}
	return has(q.Running), has(q.Pending), nil
}

// check reads the prompt's state from /history and /queue: finished (in
// the history), failed, still queued or running (nil), or lost (in
// neither: ComfyUI restarted and forgot its queue).
func (r *run) check(ctx context.Context) (*outcome, error) {
	e, err := r.history(ctx)
	if err == nil {
		return r.historyOutcome(e), nil
	}
	if !errors.Is(err, errNotInHistory) {
		return nil, err
	}
	running, pending, err := r.queueState(ctx)
	if err != nil {
		return nil, err
	}
	if running || pending {
		return nil, nil
	}
	// It may have finished between the two reads.
	if e, err = r.history(ctx); err == nil {
		return r.historyOutcome(e), nil
	} else if !errors.Is(err, errNotInHistory) {
		return nil, err
	}
	return &outcome{err: fmt.Errorf("comfyui: prompt %s is neither queued nor in the history: the ComfyUI server lost it (restarted?)", r.promptID)}, nil
}

// historyOutcome reads how a finished prompt ended.
func (r *run) historyOutcome(e *historyEntry) *outcome {
	if e.Status == nil || e.Status.StatusStr != "error" {
		return &outcome{finished: true}
	}
	for _, pair := range e.Status.Messages {
		if len(pair) != 2 {
			continue
		}
		var typ string
		var m message
		if json.Unmarshal(pair[0], &typ) != nil || json.Unmarshal(pair[1], &m) != nil {
			continue
		}
		switch typ {
		case "execution_error":
			if m.ExceptionType != "ExecutionBlocked" {
				return &outcome{err: executionError(r.promptID, m)}
			}
		case "execution_interrupted":
			return &outcome{err: interruptedError(r.promptID, m)}
		}
	}
	return &outcome{err: fmt.Errorf("comfyui: prompt %s ended with status %q", r.promptID, e.Status.StatusStr)}
}

// fileRef is one file of a node's history outputs.
type fileRef struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

// finish reads the outputs of a finished prompt from its history and
// downloads them.
func (r *run) finish(ctx context.Context) ([]Output, error) {
	e, err := r.history(ctx)
	if err != nil {
		return nil, &stateError{err}
	}
	if out := r.historyOutcome(e); out.err != nil {
		return nil, out.err
	}
	c := r.c
	ids := make([]string, 0, len(e.Outputs))
	for id := range e.Outputs {
		ids = append(ids, id)
	}
	sortNodeIDs(ids)
	var refs []Output
	for _, id := range ids {
		keys := make([]string, 0, len(e.Outputs[id]))
		for k := range e.Outputs[id] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var files []fileRef
			if json.Unmarshal(e.Outputs[id][k], &files) != nil {
				continue // not a list of files (text, flags like "animated")
			}
			for _, f := range files {
				if f.Filename == "" || !contains(c.cfg.OutputTypes, f.Type) {
					continue
				}
				refs = append(refs, Output{NodeID: id, Filename: f.Filename, Subfolder: f.Subfolder, Type: f.Type})
			}
		}
	}
	if len(refs) == 0 {
		msg := "the ComfyUI workflow finished without an output image (does it have a SaveImage node?)"
		if len(r.blockedErrors) > 0 {
			msg += ": " + clip(r.blockedErrors[0], 300)
		}
		return nil, aimg.Errorf(aimg.CodeInvalid, "%s", msg)
	}
	if len(refs) > c.cfg.MaxOutputs {
		return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI workflow produced %d output files, more than %d", len(refs), c.cfg.MaxOutputs)
	}
	var total int64
	for i := range refs {
		o := &refs[i]
		q := url.Values{"filename": {o.Filename}, "subfolder": {o.Subfolder}, "type": {o.Type}}
		data, h, err := c.call(ctx, http.MethodGet, "/view", q, nil, "", c.cfg.MaxOutputBytes)
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("comfyui: GET /view %s: empty file", o.Filename)
		}
		total += int64(len(data))
		if total > c.cfg.MaxTotalOutputBytes {
			return nil, aimg.Errorf(aimg.CodeInvalid, "the ComfyUI outputs are larger than %d bytes in all", c.cfg.MaxTotalOutputBytes)
		}
		o.Data = data
		o.ContentType = h.Get("Content-Type")
		if o.ContentType == "" || strings.HasPrefix(o.ContentType, "application/octet-stream") {
			o.ContentType = http.DetectContentType(data)
		}
	}
	return refs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// cancel takes the run's prompt off the server when ctx ended: out of the
// pending queue, or interrupted by prompt_id if it runs. It returns the
// error the run ends with.
func (r *run) cancel(ctx context.Context) error {
	note := r.cleanup(ctx, true)
	err := fmt.Errorf("comfyui: prompt %s cancelled: %w", r.promptID, context.Cause(ctx))
	if note != "" {
		err = fmt.Errorf("%w (%s)", err, note)
	}
	return err
}

// cleanup deletes the prompt from the pending queue and, when interrupt is
// set and it runs, interrupts it by prompt_id (never a bare interrupt, and
// only on a ComfyUI that honours the prompt_id). Its requests outlive ctx,
// bounded by CancelTimeout. It returns a note on what could not be done.
func (r *run) cleanup(ctx context.Context, interrupt bool) string {
	c := r.c
	ctx, done := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CancelTimeout)
	defer done()
	// Removes exactly the queue item whose prompt_id is ours, if pending.
	if err := c.callJSON(ctx, http.MethodPost, "/queue", map[string]any{"delete": []string{r.promptID}}, nil, c.cfg.MaxResponseBytes); err != nil {
		return "removing it from the ComfyUI queue failed: " + err.Error()
	}
	if !interrupt {
		return ""
	}
	running, _, err := r.queueState(ctx)
	if err != nil {
		return "reading the ComfyUI queue failed: " + err.Error()
	}
	if !running {
		return ""
	}
	ok, version := c.targetedInterrupt(ctx)
	if !ok {
		return fmt.Sprintf("left running: ComfyUI %s does not support /interrupt by prompt_id (needs >= %s), and a global interrupt could stop another client's prompt", version, c.cfg.TargetedInterruptSince)
	}
	if err := c.callJSON(ctx, http.MethodPost, "/interrupt", map[string]any{"prompt_id": r.promptID}, nil, c.cfg.MaxResponseBytes); err != nil {
		return "interrupting it failed: " + err.Error()
	}
	return ""
}

// targetedInterrupt tells whether the server's /interrupt honours a
// prompt_id, from the comfyui_version of /system_stats (read once).
func (c *Client) targetedInterrupt(ctx context.Context) (bool, string) {
	c.mu.Lock()
	known := c.targeted
	c.mu.Unlock()
	if known != nil {
		return *known, "(known)"
	}
	var stats struct {
		System struct {
			Version string `json:"comfyui_version"`
		} `json:"system"`
	}
	if err := c.callJSON(ctx, http.MethodGet, "/system_stats", nil, &stats, c.cfg.MaxResponseBytes); err != nil {
		return false, "(version unknown: " + err.Error() + ")"
	}
	v, err := parseVersion(stats.System.Version)
	ok := err == nil && !v.less(mustVersion(c.cfg.TargetedInterruptSince))
	c.mu.Lock()
	c.targeted = &ok
	c.mu.Unlock()
	return ok, aimg.Quote(stats.System.Version)
}

type version [3]int

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// parseVersion reads "0.3.56", "v0.3.56" or a git describe
// ("v0.3.56-12-gabcdef").
func parseVersion(s string) (version, error) {
	var v version
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(t, "-+ "); i >= 0 {
		t = t[:i]
	}
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("version %q is not major.minor[.patch]", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("version %q is not major.minor[.patch]", s)
		}
		v[i] = n
	}
	return v, nil
}

func mustVersion(s string) version {
	v, err := parseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}
