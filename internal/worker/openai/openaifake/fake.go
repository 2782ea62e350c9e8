// Package openaifake is an OpenAI images API server for tests, on httptest
// (127.0.0.1), written from the OpenAI API reference (openai-openapi
// CreateImageRequest / ImagesResponse / Error) and, with LocalAI set, from
// LocalAI's core/http/endpoints/openai/image.go:
//
//   - POST /v1/images/generations with Authorization: Bearer <key> (401
//     "invalid_api_key" otherwise); the body {model, prompt, n, size,
//     response_format, quality, style, user} checked per model (dall-e-2,
//     dall-e-3, gpt-image-1: sizes, n, quality, style, response_format),
//     400 {"error": {message, type, param, code}} naming the parameter.
//   - The answer {created, data: [{b64_json | url, revised_prompt}]}: small
//     PNGs of the asked size. url answers point at a second server, Files
//     (another origin, like OpenAI's blob storage: no key needed, a signed
//     query); with LocalAI at /generated-images/ on the API server itself,
//     url is the default format, any WxH size is accepted and error codes
//     are numbers.
//
// Tests drive it: FailNext, Hold/Release (a hanging server), Requests.
package openaifake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Key is the API key required as Bearer; empty requires none.
	Key string
	// LocalAI behaves as LocalAI: url by default, served by the API server,
	// any size, numeric error codes, no per-model checks.
	LocalAI bool
	// MaxPixels caps width x height; zero: 1024x1024 (larger are refused, param size).
	MaxPixels int
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

// Server is the fake API; Files serves url answers (OpenAI mode).
type Server struct {
	*httptest.Server
	Files *httptest.Server
	opts  Options

	mu       sync.Mutex
	cond     *sync.Cond
	closed   bool
	held     bool
	requests []Request
	fails    []failure
	files    map[string][]byte
	seq      int
}

type failure struct {
	status int
	body   string
}

// New starts a fake; Close stops it.
func New(opts Options) *Server {
	if opts.MaxPixels == 0 {
		opts.MaxPixels = 1024 * 1024
	}
	s := &Server{opts: opts, files: map[string][]byte{}}
	s.cond = sync.NewCond(&s.mu)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/images/generations", s.record(s.generate))
	if opts.LocalAI {
		mux.HandleFunc("GET /generated-images/{name}", s.record(s.file))
	}
	mux.HandleFunc("/", s.record(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		s.fail(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "", "")
	}))
	s.Server = httptest.NewServer(mux)
	files := http.NewServeMux()
	files.HandleFunc("GET /images/{name}", s.record(s.file))
	s.Files = httptest.NewServer(files)
	return s
}

// Close unblocks held requests and stops both servers.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.Server.Close()
	s.Files.Close()
}

// Hold makes generation requests wait (a hanging server) until Release.
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

// FailNext answers the next generation with status and body.
func (s *Server) FailNext(status int, body string) {
	s.mu.Lock()
	s.fails = append(s.fails, failure{status, body})
	s.mu.Unlock()
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

// Requests returns the requests received on path ("" for all), on both servers.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if path == "" || r.Path == path || strings.HasPrefix(r.Path, path) && strings.HasSuffix(path, "/") {
			out = append(out, r)
		}
	}
	return out
}

// WaitGenerations blocks until n generation requests have arrived (held
// ones included) or the server closes.
func (s *Server) WaitGenerations(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed {
		got := 0
		for _, r := range s.requests {
			if r.Path == "/v1/images/generations" {
				got++
			}
		}
		if got >= n {
			return
		}
		s.cond.Wait()
	}
}

type handler func(w http.ResponseWriter, r *http.Request, body []byte)

func (s *Server) record(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(http.MaxBytesReader(w, r.Body, 16<<20))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: buf.Bytes()})
		s.cond.Broadcast()
		s.mu.Unlock()
		h(w, r, buf.Bytes())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail writes an error in the server's style (LocalAI: numeric code).
func (s *Server) fail(w http.ResponseWriter, status int, message, typ, param, code string) {
	if s.opts.LocalAI {
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": message, "type": ""}})
		return
	}
	writeJSON(w, status, errorBody(message, typ, param, code))
}

type model struct {
	sizes     []string
	maxN      int
	qualities []string
	styles    bool
	b64Only   bool // gpt-image-*: no response_format, always b64_json
	revises   bool
}

var models = map[string]model{
	"dall-e-2":    {sizes: []string{"256x256", "512x512", "1024x1024"}, maxN: 10, qualities: []string{"standard"}},
	"dall-e-3":    {sizes: []string{"1024x1024", "1792x1024", "1024x1792"}, maxN: 1, qualities: []string{"standard", "hd"}, styles: true, revises: true},
	"gpt-image-1": {sizes: []string{"1024x1024", "1536x1024", "1024x1536", "auto"}, maxN: 10, qualities: []string{"low", "medium", "high", "auto"}, b64Only: true},
}

type genRequest struct {
	Model          *string `json:"model"`
	Prompt         *string `json:"prompt"`
	N              *int    `json:"n"`
	Size           *string `json:"size"`
	ResponseFormat *string `json:"response_format"`
	Quality        *string `json:"quality"`
	Style          *string `json:"style"`
	User           *string `json:"user"`
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.opts.Key != "" {
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		switch {
		case auth == "" || !ok:
			s.fail(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", "", "")
			return
		case key != s.opts.Key:
			shown := key
			if len(shown) > 4 {
				shown = "sk-..." + shown[len(shown)-4:]
			}
			s.fail(w, http.StatusUnauthorized, "Incorrect API key provided: "+shown+".", "invalid_request_error", "", "invalid_api_key")
			return
		}
	}
	s.mu.Lock()
	for s.held && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		return
	}
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

	var req genRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, http.StatusBadRequest, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)", "invalid_request_error", "", "")
		return
	}
	bad := func(param, format string, args ...any) {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf(format, args...), "invalid_request_error", param, "")
	}
	if req.Prompt == nil || *req.Prompt == "" {
		bad("prompt", "Missing required parameter: 'prompt'.")
		return
	}
	name := "dall-e-2"
	if req.Model != nil {
		name = *req.Model
	}
	m, known := models[name]
	if !known && !s.opts.LocalAI {
		bad("model", "Invalid value for 'model' = %s.", name)
		return
	}
	n := 1
	if req.N != nil {
		n = *req.N
	}
	format := "url"
	if req.ResponseFormat != nil {
		format = *req.ResponseFormat
	}
	size := "1024x1024"
	if req.Size != nil {
		size = *req.Size
	}
	if !s.opts.LocalAI {
		switch {
		case n < 1 || n > 10:
			bad("n", "Invalid 'n': integer must be between 1 and 10, got %d.", n)
			return
		case n > m.maxN:
			bad("n", "Invalid 'n': %s supports at most n=%d.", name, m.maxN)
			return
		case !slices.Contains(m.sizes, size):
			bad("size", "Invalid value: '%s'. Supported values are: %s.", size, strings.Join(m.sizes, ", "))
			return
		case req.Quality != nil && !slices.Contains(m.qualities, *req.Quality):
			bad("quality", "Invalid value: '%s'. Supported values are: %s.", *req.Quality, strings.Join(m.qualities, ", "))
			return
		case req.Style != nil && (!m.styles || (*req.Style != "vivid" && *req.Style != "natural")):
			bad("style", "Invalid value for 'style': %s.", *req.Style)
			return
		case m.b64Only && req.ResponseFormat != nil:
			s.fail(w, http.StatusBadRequest, "Unknown parameter: 'response_format'.", "invalid_request_error", "response_format", "unknown_parameter")
			return
		case format != "url" && format != "b64_json":
			bad("response_format", "Invalid value: '%s'. Supported values are: 'url' and 'b64_json'.", format)
			return
		}
		if m.b64Only {
			format = "b64_json"
		}
	}
	width, height := 1024, 1024
	if size != "auto" {
		ws, hs, ok := strings.Cut(size, "x")
		var err1, err2 error
		width, err1 = strconv.Atoi(ws)
		height, err2 = strconv.Atoi(hs)
		if !ok || err1 != nil || err2 != nil || width <= 0 || height <= 0 {
			bad("size", "invalid value for 'size'")
			return
		}
	}
	if width*height > s.opts.MaxPixels {
		bad("size", "size %s is larger than this server renders", size)
		return
	}
	if n < 1 {
		n = 1
	}
	var data []map[string]any
	for i := range n {
		img := renderPNG(width, height, i)
		item := map[string]any{}
		if format == "b64_json" {
			item["b64_json"] = base64.StdEncoding.EncodeToString(img)
		} else {
			item["url"] = s.store(img)
		}
		if m.revises {
			item["revised_prompt"] = "A detailed rendering of " + *req.Prompt
		}
		data = append(data, item)
	}
	out := map[string]any{"created": time.Now().Unix(), "data": data}
	if s.opts.LocalAI {
		out["id"] = fmt.Sprintf("img-%d", time.Now().UnixNano())
	}
	if m.b64Only {
		out["usage"] = map[string]any{"total_tokens": 100, "input_tokens": 50, "output_tokens": 50}
	}
	writeJSON(w, http.StatusOK, out)
}

// store keeps an image for a url answer and returns its URL.
func (s *Server) store(img []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	name := fmt.Sprintf("img-%d.png", s.seq)
	s.files[name] = img
	if s.opts.LocalAI {
		return s.URL + "/generated-images/" + name
	}
	return s.Files.URL + "/images/" + name + "?se=2030-01-01T00%3A00%3A00Z&sig=fake"
}

// SetFile replaces a stored image (to test budgets on url answers).
func (s *Server) SetFile(url string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := url[strings.LastIndex(url, "/")+1:]
	name, _, _ = strings.Cut(name, "?")
	s.files[name] = data
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	data, ok := s.files[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(data)
}

func renderPNG(w, h, i int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: uint8(i * 40), A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
