// Package comfyuifake is a ComfyUI server for tests: an httptest server on
// 127.0.0.1 that speaks ComfyUI's HTTP and websocket protocol as its
// server.py, execution.py and main.py do (routes /prompt, /queue,
// /interrupt, /history, /view, /upload/image, /system_stats, /ws; the
// messages status, execution_start, execution_cached, executing, progress,
// progress_state, executed, execution_success, execution_error,
// execution_interrupted and binary preview frames, in ComfyUI's order).
//
// It "executes" a prompt node by node in one worker, as ComfyUI does: a
// KSampler reports one progress step per step, a SaveImage writes small
// PNGs to the output folder, nodes whose inputs did not change since an
// earlier prompt are cached. Tests steer it: Hold parks samplers, FailNode
// makes a node raise, Mute and DropSockets stall or cut the websockets,
// FailNext answers the next requests of a route with a status or garbage.
package comfyuifake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Server is a fake ComfyUI. Set its exported fields before the first
// request.
type Server struct {
	URL string

	// Version is /system_stats' comfyui_version.
	Version string
	// LegacyInterrupt makes /interrupt ignore its body, as ComfyUI did
	// before PR #9607 (every interrupt is global).
	LegacyInterrupt bool
	// LegacyPromptID makes /prompt ignore a caller's prompt_id and mint
	// one, as ComfyUI did before mid 2025.
	LegacyPromptID bool
	// Auth, when set, must accept every request (the websocket handshake
	// included), else 401: a reverse proxy's authentication in front of
	// ComfyUI, which has none of its own.
	Auth func(r *http.Request) bool
	// Checkpoints and Loras are the model files the loaders accept.
	Checkpoints, Loras []string

	hs     *httptest.Server
	ctx    context.Context
	stopFn context.CancelFunc
	wg     sync.WaitGroup
	pub    chan outMsg

	mu        sync.Mutex
	changed   chan struct{}
	number    int
	pending   []*item
	running   *item
	lastNode  string
	clientID  string // the client of the running prompt
	history   map[string]map[string]any
	histOrder []string
	sockets   map[string]*websocket.Conn
	files     map[string][]byte // "<type>/<subfolder>/<name>"
	counter   int
	cache     map[string]any // node signature → its ui output (nil: none)
	interrupt bool
	hold      chan struct{} // non-nil while holding; closed by Release
	held      string        // prompt id parked at the hold
	muted     bool
	refuse    bool
	faults    map[string][]fault
	killed    map[string]bool // prompts a Restart forgot while they ran
	nodeFail  map[string]nodeFailure
	stats     Stats
}

// Stats counts what clients did.
type Stats struct {
	BareInterrupts     int      // /interrupt without a prompt_id (or any, in LegacyInterrupt)
	TargetedInterrupts int      // /interrupt with a prompt_id
	Deleted            []string // prompt ids /queue delete removed from the pending queue
	Uploads            []string // names /upload/image stored
	Prompts            []string // prompt ids queued
	WSConnections      int      // /ws handshakes accepted
}

// State is a snapshot for Wait.
type State struct {
	Running string            // prompt id, "" when idle
	Pending []string          // prompt ids
	Held    string            // the prompt parked at Hold
	Sockets int               // open websockets
	History map[string]string // prompt id → "success", "error" or "interrupted"
	Stats
}

type item struct {
	number   int
	id       string
	prompt   prompt
	raw      json.RawMessage
	extra    map[string]any
	outputs  []string
	clientID string
}

type outMsg struct {
	json   map[string]any // {"type", "data"}
	binary []byte
	raw    []byte // a text frame as is
	sid    string // "" broadcasts
}

type fault struct {
	status int
	body   string
	hang   bool
}

type nodeFailure struct{ excType, message string }

// New starts a fake ComfyUI; Close stops it.
func New() *Server {
	s := &Server{
		Version:     "0.38.1",
		Checkpoints: []string{"v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"},
		Loras:       []string{"detail.safetensors", "style.safetensors"},
		changed:     make(chan struct{}),
		history:     map[string]map[string]any{},
		sockets:     map[string]*websocket.Conn{},
		files:       map[string][]byte{},
		cache:       map[string]any{},
		faults:      map[string][]fault{},
		nodeFail:    map[string]nodeFailure{},
		killed:      map[string]bool{},
		pub:         make(chan outMsg, 1024),
	}
	s.ctx, s.stopFn = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/api"} {
		mux.HandleFunc("GET "+prefix+"/ws", s.handleWS)
		mux.HandleFunc("POST "+prefix+"/prompt", s.route(s.postPrompt))
		mux.HandleFunc("GET "+prefix+"/prompt", s.route(s.getPrompt))
		mux.HandleFunc("GET "+prefix+"/queue", s.route(s.getQueue))
		mux.HandleFunc("POST "+prefix+"/queue", s.route(s.postQueue))
		mux.HandleFunc("POST "+prefix+"/interrupt", s.route(s.postInterrupt))
		mux.HandleFunc("GET "+prefix+"/history", s.route(s.getHistory))
		mux.HandleFunc("GET "+prefix+"/history/{prompt_id}", s.route(s.getHistory))
		mux.HandleFunc("GET "+prefix+"/view", s.route(s.getView))
		mux.HandleFunc("POST "+prefix+"/upload/image", s.route(s.postUpload))
		mux.HandleFunc("GET "+prefix+"/system_stats", s.route(s.getSystemStats))
	}
	s.hs = httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s.hs.Listener.Close()
	s.hs.Listener = l
	s.hs.Start()
	s.URL = s.hs.URL
	s.wg.Add(2)
	go s.publishLoop()
	go s.worker()
	return s
}

// Close stops the worker and the server.
func (s *Server) Close() {
	s.stopFn()
	s.mu.Lock()
	for sid, c := range s.sockets {
		c.CloseNow()
		delete(s.sockets, sid)
	}
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
	s.hs.CloseClientConnections()
	s.hs.Close()
	s.wg.Wait()
}

// changedLocked wakes Wait and the worker; s.mu is held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond holds for the server's state, or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func(State) bool) error {
	for {
		s.mu.Lock()
		st := s.stateLocked()
		ch := s.changed
		s.mu.Unlock()
		if cond(st) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("comfyuifake: waiting: %w (state %+v)", ctx.Err(), st)
		}
	}
}

// Snapshot returns the current state.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked()
}

func (s *Server) stateLocked() State {
	st := State{Held: s.held, Sockets: len(s.sockets), History: map[string]string{}, Stats: s.stats}
	st.Deleted = append([]string(nil), s.stats.Deleted...)
	st.Uploads = append([]string(nil), s.stats.Uploads...)
	st.Prompts = append([]string(nil), s.stats.Prompts...)
	if s.running != nil {
		st.Running = s.running.id
	}
	for _, it := range s.pending {
		st.Pending = append(st.Pending, it.id)
	}
	for id, h := range s.history {
		status := h["status"].(map[string]any)
		st.History[id] = status["status_str"].(string)
		for _, m := range status["messages"].([]any) {
			if m.([]any)[0] == "execution_interrupted" {
				st.History[id] = "interrupted"
			}
		}
	}
	return st
}

// Hold parks every KSampler at its first step until Release (or an
// interrupt of its prompt).
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release lets held samplers go on.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// FailNode makes the node with this id raise in every later execution.
func (s *Server) FailNode(nodeID, excType, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeFail[nodeID] = nodeFailure{excType, message}
}

// Restart forgets everything a ComfyUI restart loses: the pending queue,
// the running prompt (it stops and leaves no history), the history and
// the sockets. Files and the model lists stay.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
	if s.running != nil {
		s.killed[s.running.id] = true
		s.interrupt = true
	}
	s.history = map[string]map[string]any{}
	s.histOrder = nil
	s.cache = map[string]any{}
	for sid, c := range s.sockets {
		c.CloseNow()
		delete(s.sockets, sid)
	}
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.changedLocked()
}

// Mute drops (true) or sends again (false) every websocket message; the
// sockets stay open, as a stuck proxy would leave them.
func (s *Server) Mute(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.muted = on
}

// SendRaw sends a text frame as is to every websocket (garbage, for one).
func (s *Server) SendRaw(text string) {
	s.enqueue(outMsg{raw: []byte(text)})
}

// DropSockets closes every websocket now.
func (s *Server) DropSockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sid, c := range s.sockets {
		c.CloseNow()
		delete(s.sockets, sid)
	}
	s.changedLocked()
}

// RefuseSockets answers 503 to websocket handshakes while on.
func (s *Server) RefuseSockets(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = on
}

// FailNext answers the next n requests of a route (its path, such as
// "/prompt" or "/history") with status and body; status 200 with a body
// that is not JSON is garbage.
func (s *Server) FailNext(route string, n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], fault{status: status, body: body})
	}
}

// HangNext makes the next n requests of a route hang until the client
// gives up.
func (s *Server) HangNext(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[route] = append(s.faults[route], fault{hang: true})
	}
}

// File returns a stored file ("output", "", "ComfyUI_00001_.png").
func (s *Server) File(typ, subfolder, name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[path.Join(typ, subfolder, name)]
	return b, ok
}

// route applies injected faults before the handler.
func (s *Server) route(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Auth != nil && !s.Auth(r) {
			http.Error(w, "401: Unauthorized", http.StatusUnauthorized)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/api")
		if strings.HasPrefix(p, "/history/") {
			p = "/history"
		}
		s.mu.Lock()
		var f *fault
		if list := s.faults[p]; len(list) > 0 {
			f = &list[0]
			s.faults[p] = list[1:]
		}
		s.mu.Unlock()
		if f != nil {
			if f.hang {
				select {
				case <-r.Context().Done():
				case <-s.ctx.Done():
				}
				return
			}
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.body)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// queueInfoLocked is get_queue_info: {"exec_info": {"queue_remaining": n}}.
func (s *Server) queueInfoLocked() map[string]any {
	n := len(s.pending)
	if s.running != nil {
		n++
	}
	return map[string]any{"exec_info": map[string]any{"queue_remaining": n}}
}

// sendLocked queues a message for the publish loop, as send_sync does.
func (s *Server) sendLocked(event string, data any, sid string) {
	s.enqueue(outMsg{json: map[string]any{"type": event, "data": data}, sid: sid})
}

func (s *Server) enqueue(m outMsg) {
	select {
	case s.pub <- m:
	case <-s.ctx.Done():
	}
}

// publishLoop sends queued messages in order, as PromptServer.publish_loop.
func (s *Server) publishLoop() {
	defer s.wg.Done()
	for {
		var m outMsg
		select {
		case m = <-s.pub:
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		if s.muted {
			s.mu.Unlock()
			continue
		}
		var targets []*websocket.Conn
		if m.sid == "" {
			for _, c := range s.sockets {
				targets = append(targets, c)
			}
		} else if c, ok := s.sockets[m.sid]; ok {
			targets = append(targets, c)
		}
		s.mu.Unlock()
		for _, c := range targets {
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			switch {
			case m.binary != nil:
				_ = c.Write(ctx, websocket.MessageBinary, m.binary)
			case m.raw != nil:
				_ = c.Write(ctx, websocket.MessageText, m.raw)
			default:
				b, _ := json.Marshal(m.json)
				_ = c.Write(ctx, websocket.MessageText, b)
			}
			cancel()
		}
	}
}

// handleWS is websocket_handler: the clientId names the socket (a new one
// replaces an old one of the same id), the first message is status with
// the sid, and a reconnecting executing client is told its current node.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if s.Auth != nil && !s.Auth(r) {
		http.Error(w, "401: Unauthorized", http.StatusUnauthorized)
		return
	}
	if refuse {
		http.Error(w, "refused", http.StatusServiceUnavailable)
		return
	}
	sid := r.URL.Query().Get("clientId")
	if sid == "" {
		sid = strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	// Registered before anything else runs, as in ComfyUI (no await
	// between ws.prepare and self.sockets[sid] = ws).
	s.mu.Lock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.mu.Unlock()
		return
	}
	s.sockets[sid] = c
	s.stats.WSConnections++
	s.sendLocked("status", map[string]any{"status": s.queueInfoLocked(), "sid": sid}, sid)
	if s.clientID == sid && s.lastNode != "" {
		s.sendLocked("executing", map[string]any{"node": s.lastNode}, sid)
	}
	s.changedLocked()
	s.mu.Unlock()
	for {
		if _, _, err := c.Read(s.ctx); err != nil {
			break
		}
	}
	s.mu.Lock()
	if s.sockets[sid] == c {
		delete(s.sockets, sid)
		s.changedLocked()
	}
	s.mu.Unlock()
	c.CloseNow()
}

var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// postPrompt is post_prompt: validate, then queue (number, prompt_id,
// prompt, extra_data, outputs_to_execute).
func (s *Server) postPrompt(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError) // aiohttp: request.json() raised
		return
	}
	rawPrompt, ok := body["prompt"]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": apiError{Type: "no_prompt", Message: "No prompt provided",
			Details: "No prompt provided", ExtraInfo: map[string]any{}}, "node_errors": map[string]any{}})
		return
	}
	promptID := uuid.NewString()
	if raw, ok := body["prompt_id"]; ok && !s.LegacyPromptID && string(raw) != "null" {
		var id string
		if json.Unmarshal(raw, &id) != nil || !canonicalUUID.MatchString(id) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": apiError{Type: "invalid_prompt_id",
				Message:   "prompt_id must be a valid UUID",
				Details:   "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one",
				ExtraInfo: map[string]any{}}, "node_errors": map[string]any{}})
			return
		}
		promptID = id
	}
	var p prompt
	if err := json.Unmarshal(rawPrompt, &p); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError) // validate_prompt raised
		return
	}
	for id, n := range p {
		if n == nil {
			p[id] = &node{}
		}
	}
	s.mu.Lock()
	v := s.validate(p) // under the lock: LoadImage's combo lists the input folder
	s.mu.Unlock()
	if !v.ok {
		ne := v.nodeErrors
		if ne == nil {
			ne = map[string]*nodeError{}
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": v.err, "node_errors": ne})
		return
	}
	extra := map[string]any{}
	if raw, ok := body["extra_data"]; ok {
		_ = json.Unmarshal(raw, &extra)
	}
	var clientID string
	if raw, ok := body["client_id"]; ok {
		_ = json.Unmarshal(raw, &clientID)
		extra["client_id"] = clientID
	}
	extra["create_time"] = time.Now().UnixMilli()
	s.mu.Lock()
	number := s.number
	s.number++
	s.pending = append(s.pending, &item{number: number, id: promptID, prompt: p, raw: rawPrompt, extra: extra,
		outputs: v.outputs, clientID: clientID})
	s.stats.Prompts = append(s.stats.Prompts, promptID)
	s.sendLocked("status", map[string]any{"status": s.queueInfoLocked()}, "")
	s.changedLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"prompt_id": promptID, "number": number, "node_errors": v.nodeErrors})
}

func (s *Server) getPrompt(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.queueInfoLocked())
}

func (it *item) tuple() []any {
	return []any{it.number, it.id, it.raw, it.extra, it.outputs}
}

func (s *Server) getQueue(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	running, pending := []any{}, []any{}
	if s.running != nil {
		running = append(running, s.running.tuple())
	}
	for _, it := range s.pending {
		pending = append(pending, it.tuple())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"queue_running": running, "queue_pending": pending})
}

// postQueue is post_queue: "clear" wipes the pending queue, "delete"
// removes the pending items with those prompt ids (never the running one).
func (s *Server) postQueue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Clear  bool     `json:"clear"`
		Delete []string `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	if body.Clear {
		s.pending = nil
	}
	for _, id := range body.Delete {
		for i, it := range s.pending {
			if it.id == id {
				s.pending = append(s.pending[:i], s.pending[i+1:]...)
				s.stats.Deleted = append(s.stats.Deleted, id)
				s.sendLocked("status", map[string]any{"status": s.queueInfoLocked()}, "")
				break
			}
		}
	}
	s.changedLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// postInterrupt is post_interrupt: with a prompt_id only that prompt, if
// it runs, is interrupted; without one (or on a legacy server) whatever
// runs is.
func (s *Server) postInterrupt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PromptID string `json:"prompt_id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body) // no body: {}
	s.mu.Lock()
	switch {
	case s.LegacyInterrupt || body.PromptID == "":
		s.stats.BareInterrupts++
		s.interrupt = true
	default:
		s.stats.TargetedInterrupts++
		if s.running != nil && s.running.id == body.PromptID {
			s.interrupt = true
		}
	}
	s.changedLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("prompt_id")
	s.mu.Lock()
	out := map[string]any{}
	if id != "" {
		if h, ok := s.history[id]; ok {
			out[id] = h
		}
	} else {
		for _, k := range s.histOrder {
			out[k] = s.history[k]
		}
	}
	b, _ := json.Marshal(out) // a copy: the entry may not change under the encoder
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// getView is view_image: filename, subfolder, type (default output).
func (s *Server) getView(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("filename")
	if !q.Has("filename") {
		http.NotFound(w, r)
		return
	}
	if name == "" || name[0] == '/' || strings.Contains(name, "..") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	typ := q.Get("type")
	if typ == "" {
		typ = "output"
	}
	if typ != "output" && typ != "input" && typ != "temp" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	sub := q.Get("subfolder")
	if strings.Contains(sub, "..") || strings.HasPrefix(sub, "/") {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	data, ok := s.File(typ, sub, path.Base(name))
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", fmt.Sprintf("filename=%q", path.Base(name)))
	_, _ = w.Write(data)
}

// postUpload is image_upload: field image (a file), overwrite, type
// (default input), subfolder; without overwrite an existing different file
// is kept and the upload renamed "name (1).ext".
func (s *Server) postUpload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f, hdr, err := r.FormFile("image")
	if err != nil || hdr.Filename == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(f)
	typ := r.FormValue("type")
	if typ == "" {
		typ = "input"
	}
	sub := r.FormValue("subfolder")
	name := path.Base(hdr.Filename)
	if strings.Contains(sub, "..") || strings.HasPrefix(sub, "/") || name == "." || name == "/" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	overwrite := r.FormValue("overwrite") == "true" || r.FormValue("overwrite") == "1"
	s.mu.Lock()
	if !overwrite {
		ext := path.Ext(name)
		base := strings.TrimSuffix(name, ext)
		for i := 1; ; i++ {
			old, exists := s.files[path.Join(typ, sub, name)]
			if !exists || bytes.Equal(old, data) {
				break
			}
			name = fmt.Sprintf("%s (%d)%s", base, i, ext)
		}
	}
	s.files[path.Join(typ, sub, name)] = data
	s.stats.Uploads = append(s.stats.Uploads, path.Join(sub, name))
	s.changedLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "subfolder": sub, "type": typ})
}

func (s *Server) getSystemStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"system": map[string]any{"os": "linux", "ram_total": 0, "ram_free": 0, "comfyui_version": s.Version,
			"python_version": "3.12.3", "pytorch_version": "2.8.0", "embedded_python": false, "argv": []string{"main.py"}},
		"devices": []any{map[string]any{"name": "cpu", "type": "cpu", "index": nil, "vram_total": 0, "vram_free": 0,
			"torch_vram_total": 0, "torch_vram_free": 0}},
	})
}

// inputFiles lists the input folder, what LoadImage's image combo offers;
// s.mu is held.
func (s *Server) inputFiles() []string {
	var out []string
	for k := range s.files {
		if rest, ok := strings.CutPrefix(k, "input/"); ok {
			out = append(out, rest)
		}
	}
	return out
}

// tinyPNG makes a small image whose colour follows the seed.
func tinyPNG(seed uint64, i int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	c := color.RGBA{uint8(seed), uint8(seed >> 8), uint8(i * 40), 255}
	for y := range 8 {
		for x := range 8 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// previewFrame is a binary preview message: event PREVIEW_IMAGE (1), image
// type (2 = PNG), the image.
func previewFrame(img []byte) []byte {
	b := make([]byte, 8, 8+len(img))
	binary.BigEndian.PutUint32(b, 1)
	binary.BigEndian.PutUint32(b[4:], 2)
	return append(b, img...)
}
