// Package httpapi is the AIMG HTTP surface: huma operations on the standard
// ServeMux (so the OpenAPI document is generated from the code), the AIMG
// envelope, and the middleware. Handlers call services; they never write SQL.
package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/library"
	"aimg/internal/ratelimit"
	"aimg/internal/store"
)

func init() {
	// huma builds its errors through these package variables (its documented
	// extension point); ours is the AIMG envelope.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return toErrorBody(context.Background(), nil, status, msg, errs...)
	}
	huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		ctx := hctx.Context()
		for _, err := range errs {
			var ae *aimg.Error
			if errors.As(err, &ae) && ae.RetryAfter > 0 {
				hctx.SetHeader("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
			}
		}
		return toErrorBody(ctx, loggerFrom(ctx), status, msg, errs...)
	}
}

// Check is a named readiness probe (database, blob store, ...).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Deps is everything the handlers need, built by the app package.
type Deps struct {
	Config     config.Config
	Logger     *slog.Logger
	Now        func() time.Time
	Metrics    *prometheus.Registry
	Limiter    ratelimit.Limiter
	Accounts   *account.Service
	Files      *files.Service
	Library    *library.Service
	Generation *generation.Service
	Ready      []Check
	Version    string
	// RawSQL runs pgQuery statements (store.Store.RawQuery).
	RawSQL func(ctx context.Context, text string, params []any, o store.RawQueryOptions) (*store.RawResult, error)
}

// Server holds the handler tree.
type Server struct {
	Deps
	mux      *http.ServeMux
	api      huma.API
	metrics  *httpMetrics
	adminSum [32]byte
	draining atomic.Bool
	handler  http.Handler
}

// New builds the routes and middleware.
func New(d Deps) *Server {
	s := &Server{Deps: d, mux: http.NewServeMux()}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.adminSum = sha256.Sum256([]byte(d.Config.AdminKey))
	s.metrics = newHTTPMetrics(d.Metrics)

	hc := huma.DefaultConfig("AIMG API", d.Version)
	hc.Info.Description = "The AIMG back end: accounts, the Item library, image and video generation, files. " +
		"Every response is the AIMG envelope {hasError, errorMessage, errorCode, payload, metadata}."
	hc.OpenAPIPath = "/api/openapi"
	hc.DocsPath = "/api/docs"
	hc.SchemasPath = "/api/schemas"
	hc.CreateHooks = nil                         // no $schema links in bodies: clients expect the bare envelope
	hc.AllowAdditionalPropertiesByDefault = true // DECISIONS.md: unknown JSON fields are ignored
	hc.FieldsOptionalByDefault = true            // mandatory fields say required:"true"
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session":  {Type: "apiKey", In: "header", Name: "X-Session-ID"},
		"adminKey": {Type: "apiKey", In: "header", Name: "X-Administration-Key"},
	}
	s.api = humago.New(s.mux, hc)

	s.routes()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{Registry: d.Metrics}))
	s.mux.HandleFunc("/api/", s.notFound)

	s.handler = s.observe(s.recoverPanics(s.limitBodies(checkSessionHeader(s.mux))))
	return s
}

// ServeHTTP serves the whole tree.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// API exposes the huma API (the OpenAPI document) to tests and tools.
func (s *Server) API() huma.API { return s.api }

// Drain makes /readyz fail so load balancers stop sending traffic before shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// op describes an AIMG operation mounted at /api/<name>.
func (s *Server) op(method, name, summary, tag string) huma.Operation {
	return huma.Operation{
		OperationID:  name,
		Method:       method,
		Path:         "/api/" + name,
		Summary:      summary,
		Tags:         []string{tag},
		MaxBodyBytes: s.Config.Service.HTTP.MaxBodyBytes,
	}
}

// adminKeyOK compares in constant time (hashing first hides the length).
func (s *Server) adminKeyOK(key string) bool {
	if key == "" || s.Config.AdminKey == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], s.adminSum[:]) == 1
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": s.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	if s.draining.Load() {
		status["server"], code = "draining", http.StatusServiceUnavailable
	}
	for _, c := range s.Ready {
		if err := c.Ping(ctx); err != nil {
			s.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
			status[c.Name], code = "unavailable", http.StatusServiceUnavailable
		} else {
			status[c.Name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// notFound answers unknown /api paths with the envelope: 405 when the path
// exists for another method, else 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if item, ok := s.api.OpenAPI().Paths[r.URL.Path]; ok {
		var allow []string
		for m, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed here; use "+strings.Join(allow, " or "))
			return
		}
	}
	writeError(w, http.StatusNotFound, "No such endpoint: "+r.URL.Path)
}
