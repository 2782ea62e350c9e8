// Package server is the surface-neutral HTTP layer: the root mux that mounts
// each surface (the AIMG API, later the OCS API and the worker protocol) under
// its prefix, and what every request gets whatever surface serves it: a
// request id, the client address, one log line, metrics, panic recovery and
// a body limit, with errors written in the surface's own format. It also
// serves the operations endpoints (/healthz, /readyz, /metrics).
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ErrorWriter writes an error response in a surface's format.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, msg string)

// Surface is one API mounted under a path prefix ("/api/").
type Surface struct {
	Prefix  string
	Handler http.Handler
	// WriteError answers what the shared middleware refuses (a body that is
	// too large, a panic) in the surface's format.
	WriteError ErrorWriter
	// MaxBodyBytes caps every request body on the surface; 0 = no cap here.
	MaxBodyBytes int64
}

// Check is a named readiness probe (database, blob store, ...).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Options configures the root handler.
type Options struct {
	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *prometheus.Registry
	Version string
	// TrustProxyHeaders takes the client address from X-Forwarded-For.
	TrustProxyHeaders bool
	Ready             []Check
}

// Server is the root handler.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	metrics  *httpMetrics
	draining atomic.Bool
	handler  http.Handler
}

// New mounts the surfaces beside the operations endpoints.
func New(o Options, surfaces ...Surface) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, mux: http.NewServeMux(), metrics: newHTTPMetrics(o.Metrics)}
	for _, sf := range surfaces {
		h := recoverPanics(o.Logger, sf.WriteError, sf.Handler)
		if sf.MaxBodyBytes > 0 {
			h = limitBodies(sf.MaxBodyBytes, sf.WriteError, h)
		}
		s.mux.Handle(sf.Prefix, h)
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc(readyzRoute, s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{Registry: o.Metrics}))
	s.handler = s.observe(s.mux)
	return s
}

const readyzRoute = "GET /readyz"

// ServeHTTP serves the whole tree.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Drain makes /readyz answer 503 so that load balancers stop sending
// traffic before the server shuts down.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "version": s.opts.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	if s.draining.Load() {
		status["server"], code = "draining", http.StatusServiceUnavailable
	}
	for _, c := range s.opts.Ready {
		if err := c.Ping(ctx); err != nil {
			s.opts.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
			status[c.Name], code = "unavailable", http.StatusServiceUnavailable
		} else {
			status[c.Name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// limitBodies caps every request body of a surface at the largest size any
// of its endpoints accepts; endpoints enforce their own smaller limits.
func limitBodies(max int64, writeError ErrorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", max))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}
