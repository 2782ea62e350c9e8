// Package openaichatfake is an OpenAI-compatible chat-completions server
// for tests, on httptest (127.0.0.1), written from the OpenAI API reference
// ("Create chat completion": request {model, messages, stream, ...}, answer
// {id, object: "chat.completion", created, model, choices: [{index,
// message: {role, content, refusal}, finish_reason}], usage}, errors
// {"error": {message, type, param, code}}) and Ollama's openai/openai.go
// (message.reasoning for thinking models, fp_ollama fingerprints).
//
//   - POST /v1/chat/completions; Authorization: Bearer <key> when Options.Key
//     is set (401 invalid_api_key otherwise); an unknown model is 404
//     model_not_found; a body that is not JSON, without model or messages,
//     or with a role or content of the wrong kind is 400 naming the param.
//     stream: true is refused (400): AIMG's client never streams, and a
//     test must notice if it starts to.
//   - Answers come from a script (Enqueue) in order, then from Options.Reply,
//     then a default that echoes the user message. Each Answer can be a
//     delay, an HTTP error, a raw body, a refusal or reasoning.
//   - Requests records every request; Hold/Release make a hanging server.
package openaichatfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Key is the API key required as Bearer; empty requires none (Ollama).
	Key string
	// Models are the model names served; empty serves any name.
	Models []string
	// Reply answers requests the script does not; nil echoes the user message.
	Reply func(Request) Answer
}

// Answer is one scripted reply. The zero Answer is a 200 with empty content.
type Answer struct {
	// Content is message.content (a string).
	Content string
	// NullContent sends "content": null (with Refusal, or alone).
	NullContent bool
	// Refusal is message.refusal (OpenAI's refusal to answer).
	Refusal string
	// Reasoning is message.reasoning, as Ollama sends a thinking model's thoughts.
	Reasoning string
	// FinishReason defaults to "stop".
	FinishReason string
	// NoChoices sends "choices": [].
	NoChoices bool
	// Status, when not 200, sends an error: Body if set, else an OpenAI
	// error body with ErrorMessage and ErrorType.
	Status       int
	ErrorMessage string
	ErrorType    string
	// Header is added to the answer (Retry-After).
	Header http.Header
	// Body, when set, is sent as is with Status (200 if zero): non-JSON
	// answers, other servers' error shapes.
	Body string
	// Delay is waited before answering; a client that gives up ends it.
	Delay time.Duration
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// Text is the message's content when it is a string.
func (m Message) Text() string { s, _ := m.Content.(string); return s }

// Request is one request the fake received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	// Decoded from Body when it parses.
	Model    string
	Messages []Message
	Stream   bool
}

// JSON decodes the body into a map, for field-by-field checks.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Server is the fake API.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	cond     *sync.Cond
	closed   bool
	held     bool
	requests []Request
	script   []Answer
	seq      int
}

// New starts a fake; Close stops it. Its API root is URL + "/v1".
func New(opts Options) *Server {
	s := &Server{opts: opts}
	s.cond = sync.NewCond(&s.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, nil)
		writeError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "", "")
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL is the API root a client is configured with.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Close unblocks held requests and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.Server.Close()
}

// Hold makes chat requests wait (a hanging server) until Release or Close.
func (s *Server) Hold() {
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
}

// Release lets held requests go on.
func (s *Server) Release() {
	s.mu.Lock()
	s.held = false
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Enqueue adds answers for the next requests, in order.
func (s *Server) Enqueue(answers ...Answer) {
	s.mu.Lock()
	s.script = append(s.script, answers...)
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// WaitRequests blocks until n requests have arrived (held ones included)
// or the server closes.
func (s *Server) WaitRequests(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.requests) < n {
		s.cond.Wait()
	}
}

func (s *Server) record(r *http.Request, body []byte) Request {
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	var decoded struct {
		Model    string    `json:"model"`
		Messages []Message `json:"messages"`
		Stream   bool      `json:"stream"`
	}
	if json.Unmarshal(body, &decoded) == nil {
		req.Model, req.Messages, req.Stream = decoded.Model, decoded.Messages, decoded.Stream
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.cond.Broadcast()
	s.mu.Unlock()
	return req
}

// ErrorBody is an OpenAI error body.
func ErrorBody(message, typ, param, code string) string {
	b, _ := json.Marshal(errorBody(message, typ, param, code))
	return string(b)
}

func errorBody(message, typ, param, code string) map[string]any {
	e := map[string]any{"message": message, "type": typ, "param": nil, "code": nil}
	if param != "" {
		e["param"] = param
	}
	if code != "" {
		e["code"] = code
	}
	return map[string]any{"error": e}
}

func writeError(w http.ResponseWriter, status int, message, typ, param, code string) {
	writeJSON(w, status, errorBody(message, typ, param, code))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(http.MaxBytesReader(w, r.Body, 16<<20))
	req := s.record(r, buf.Bytes())
	if s.opts.Key != "" {
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		switch {
		case !ok:
			writeError(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", "", "")
			return
		case key != s.opts.Key:
			shown := key
			if len(shown) > 4 {
				shown = "sk-..." + shown[len(shown)-4:]
			}
			writeError(w, http.StatusUnauthorized, "Incorrect API key provided: "+shown+".", "invalid_request_error", "", "invalid_api_key")
			return
		}
	}
	if msg, param := s.check(buf.Bytes()); msg != "" {
		if param == "model" && strings.Contains(msg, "does not exist") {
			writeError(w, http.StatusNotFound, msg, "invalid_request_error", param, "model_not_found")
			return
		}
		writeError(w, http.StatusBadRequest, msg, "invalid_request_error", param, "")
		return
	}

	s.mu.Lock()
	for s.held && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		return
	}
	var a Answer
	scripted := len(s.script) > 0
	if scripted {
		a = s.script[0]
		s.script = s.script[1:]
	}
	s.seq++
	id := s.seq
	s.mu.Unlock()
	if !scripted {
		if s.opts.Reply != nil {
			a = s.opts.Reply(req)
		} else {
			a = echo(req)
		}
	}

	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for k, vs := range a.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch {
	case a.Body != "":
		status := a.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(a.Body))
		return
	case a.Status != 0 && a.Status != http.StatusOK:
		typ := a.ErrorType
		if typ == "" {
			typ = "server_error"
			if a.Status < 500 {
				typ = "invalid_request_error"
			}
		}
		msg := a.ErrorMessage
		if msg == "" {
			msg = http.StatusText(a.Status)
		}
		writeError(w, a.Status, msg, typ, "", "")
		return
	}
	message := map[string]any{"role": "assistant", "content": a.Content, "refusal": nil}
	if a.NullContent {
		message["content"] = nil
	}
	if a.Refusal != "" {
		message["refusal"] = a.Refusal
	}
	if a.Reasoning != "" {
		message["reasoning"] = a.Reasoning
	}
	finish := a.FinishReason
	if finish == "" {
		finish = "stop"
	}
	choices := []any{map[string]any{"index": 0, "message": message, "logprobs": nil, "finish_reason": finish}}
	if a.NoChoices {
		choices = []any{}
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Text()))
	}
	completion := len(strings.Fields(a.Content))
	writeJSON(w, http.StatusOK, map[string]any{
		"id":                 fmt.Sprintf("chatcmpl-%d", id),
		"object":             "chat.completion",
		"created":            time.Now().Unix(),
		"model":              req.Model,
		"system_fingerprint": "fp_fake",
		"choices":            choices,
		"usage":              map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	})
}

// check validates a request as the API does; it returns the message and
// the parameter at fault, or "".
func (s *Server) check(body []byte) (msg, param string) {
	var req struct {
		Model    *string           `json:"model"`
		Messages []json.RawMessage `json:"messages"`
		Stream   *bool             `json:"stream"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", ""
	}
	switch {
	case req.Model == nil || *req.Model == "":
		return "you must provide a model parameter", "model"
	case len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, *req.Model):
		return fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", *req.Model), "model"
	case req.Messages == nil:
		return "Missing required parameter: 'messages'.", "messages"
	case len(req.Messages) == 0:
		return "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages"
	case req.Stream != nil && *req.Stream:
		return "this fake does not stream; AIMG's client sends stream: false", "stream"
	}
	for i, raw := range req.Messages {
		var m struct {
			Role    *string         `json:"role"`
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(raw, &m) != nil {
			return fmt.Sprintf("Invalid type for 'messages[%d]': expected an object.", i), fmt.Sprintf("messages.[%d]", i)
		}
		if m.Role == nil {
			return fmt.Sprintf("Missing required parameter: 'messages[%d].role'.", i), fmt.Sprintf("messages.[%d].role", i)
		}
		switch *m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", *m.Role), fmt.Sprintf("messages.[%d].role", i)
		}
		var text string
		var parts []map[string]any
		if json.Unmarshal(m.Content, &text) != nil && json.Unmarshal(m.Content, &parts) != nil && *m.Role != "assistant" {
			return fmt.Sprintf("Invalid type for 'messages[%d].content': expected one of a string or array of objects.", i), fmt.Sprintf("messages.[%d].content", i)
		}
	}
	return "", ""
}

// echo is the default answer: it names what was asked, so tests can see
// that the user message arrived.
func echo(r Request) Answer {
	user := ""
	for _, m := range r.Messages {
		if m.Role == "user" {
			user = m.Text()
		}
	}
	if len(user) > 200 {
		user = strings.ToValidUTF8(user[:200], "")
	}
	return Answer{Content: "You said: " + user}
}
