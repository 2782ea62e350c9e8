package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// StatusClientClosedRequest is nginx's 499: the client went away before the
// answer was written. It is recorded, never sent.
const StatusClientClosedRequest = 499

// RequestInfo travels in the request context: set by the root handler, read
// by surfaces (domain, client address) and filled in by them (the user id
// for the log line).
type RequestInfo struct {
	ID       string
	ClientIP string
	Host     string
	Log      *slog.Logger
	UserID   string
}

type infoKey struct{}

// Info returns the request's info; outside a request, an empty one.
func Info(ctx context.Context) *RequestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return ri
	}
	return &RequestInfo{}
}

// WithInfo returns ctx carrying ri (the root handler does this; tests may too).
func WithInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, ri)
}

// ClientGone tells whether the request ended because its client went away,
// so that what failed with it is not counted as a server error.
func ClientGone(ctx context.Context) bool { return ctx.Err() != nil }

// httpMetrics are the Prometheus series of the HTTP layer.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aimg_http_requests_total", Help: "HTTP requests by route, method and status (499: the client went away).",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aimg_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route", "method"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "aimg_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// statusRecorder remembers the status and size written. A second
// WriteHeader is dropped rather than passed on, where net/http would only
// log "superfluous response.WriteHeader".
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status != 0 {
		return
	}
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe is the outermost middleware: request id (echoed or new), the
// request info in the context, one log line and the metrics per request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.opts.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 || strings.ContainsAny(id, "\r\n") {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-ID", id)
		ri := &RequestInfo{ID: id, ClientIP: s.clientIP(r), Host: r.Host, Log: s.opts.Logger}
		r = r.WithContext(WithInfo(r.Context(), ri))
		rec := &statusRecorder{ResponseWriter: w}
		s.metrics.inflight.Inc()
		defer s.metrics.inflight.Dec()

		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if ClientGone(r.Context()) && (rec.status == 0 || status >= 500) {
			status = StatusClientClosedRequest
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := s.opts.Now().Sub(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		switch {
		case route == readyzRoute: // a 503 there is the answer, not a fault
		case status == http.StatusServiceUnavailable: // overload refused on purpose (a budget is full)
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		}
		s.opts.Logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
			slog.String("client", ri.ClientIP),
			slog.String("user", ri.UserID),
		)
	})
}

// recoverPanics turns a panic into a 500 in the surface's format and a
// logged stack.
func recoverPanics(log *slog.Logger, writeError ErrorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "request_id", Info(r.Context()).ID,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, r, http.StatusInternalServerError, "Internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the request's client address. Behind a trusted proxy it is
// the last X-Forwarded-For entry, the one the proxy appended: entries before
// it come from the client and prove nothing (taking the first let a client
// choose its address, and its rate-limit buckets, per request). One proxy
// hop is trusted; if the last entry is not an address, the connection's is
// used.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustProxyHeaders {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			xff := lines[len(lines)-1]
			last := xff[strings.LastIndexByte(xff, ',')+1:]
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
