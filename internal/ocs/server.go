package ocs

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/files"
	"aimg/internal/server"
	"aimg/internal/tasks"
)

// The mounted OCS surface: the route table of the text2image,
// textprocessing, translation and taskprocessing APIs under /ocs/v2.php
// and /ocs/v1.php, each route with Nextcloud's attributes (who may call,
// rate limits, CSRF).

// Accounts is what the surface needs of the account service.
type Accounts interface {
	ResolveSession(ctx context.Context, domain, id string) (*aimg.Session, *aimg.User, error)
	AuthenticateBasic(ctx context.Context, c aimg.Caller, login, secret string) (*aimg.User, error)
	Allow(ctx context.Context, name, key string) error
}

// FileOpener opens a stored File's bytes.
type FileOpener interface {
	Open(ctx context.Context, id string, o files.OpenOptions) (*files.Content, error)
}

// Options are the surface's dependencies.
type Options struct {
	Accounts Accounts
	Tasks    *tasks.Service
	Files    FileOpener
	// Domain maps a request Host to its domain id.
	Domain func(host string) string
	Limits Limits
	// AllowPrivateWebhooks lets webhookUri name loopback and private
	// addresses (tests; trusted networks).
	AllowPrivateWebhooks bool
	CheckWebhook         func(uri, method string, allowPrivate bool) error
	Logger               *slog.Logger
}

// Server is the OCS surface.
type Server struct {
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger
}

// access says who may call a route, as Nextcloud's attributes do.
type access int

const (
	public   access = iota // #[PublicPage]: guests too
	loggedIn               // #[NoAdminRequired]: a user (a guest with a session counts), else 401/997
)

// route is one row of the table.
type route struct {
	method, path string // path below the version prefix
	who          access
	// limit names the rate limit (rateLimits "<limit>:user" and
	// "<limit>:guest"); "" = none.
	limit string
	// noCSRF is #[NoCSRFRequired].
	noCSRF bool
	h      handler
}

// call is one request as a handler sees it.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	params map[string]any
	caller aimg.Caller
	// written: the handler answered itself (raw bytes).
	written bool
}

type handler func(ctx context.Context, c *call) (Response, error)

// Prefixes are the two OCS entry points.
var Prefixes = []string{"/ocs/v2.php", "/ocs/v1.php"}

// New builds the surface.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, mux: http.NewServeMux(), log: o.Logger}
	for _, rt := range s.routes() {
		for _, p := range Prefixes {
			s.mux.Handle(rt.method+" "+p+rt.path, s.serve(rt))
		}
	}
	for _, p := range Prefixes {
		s.mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
			Respond(w, r, nil, Response{Status: RespondNotFound, Message: "Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services."})
		})
	}
	return s
}

// Surfaces mounts the surface under both entry points.
func (s *Server) Surfaces() []server.Surface {
	var out []server.Surface
	for _, p := range Prefixes {
		out = append(out, server.Surface{Prefix: p + "/", Handler: s.mux, WriteError: WriteError,
			MaxBodyBytes: s.opts.Limits.orDefault().MaxBodyBytes + 1})
	}
	return out
}

// WriteError answers what the shared middleware refuses, as an OCS envelope.
func WriteError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	Respond(w, r, nil, Response{Status: status, Message: msg})
}

// serve runs the middleware chain of Nextcloud's OCS controllers: CSRF,
// parameters, the caller, the route's access and rate limit, then the
// handler; errors become envelopes.
func (s *Server) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rt.noCSRF && !PassesCSRF(r) {
			WriteCSRFFailure(w)
			return
		}
		params, err := ParseRequest(r, s.opts.Limits)
		if err != nil {
			s.answer(w, r, nil, err)
			return
		}
		ctx := r.Context()
		c := &call{w: w, r: r, params: params}
		if c.caller, err = s.caller(ctx, r); err != nil {
			s.answer(w, r, params, err)
			return
		}
		if rt.who == loggedIn && c.caller.User == nil {
			s.answer(w, r, params, errNotLoggedIn)
			return
		}
		if rt.limit != "" {
			if err := s.rateLimit(ctx, rt.limit, c.caller); err != nil {
				s.answer(w, r, params, err)
				return
			}
		}
		resp, err := rt.h(ctx, c)
		if c.written {
			return
		}
		if err != nil {
			s.answer(w, r, params, err)
			return
		}
		Respond(w, r, params, resp)
	})
}

// errNotLoggedIn is OCSMiddleware's answer to NotLoggedInException.
var errNotLoggedIn = aimg.Errorf(aimg.CodeUnauthorized, "Current user is not logged in")

// rateLimit spends one request of the route's limit: per user for
// signed-in accounts, per client address for guests (UserRateLimit and
// AnonRateLimit).
func (s *Server) rateLimit(ctx context.Context, limit string, c aimg.Caller) error {
	if c.User != nil && !c.User.IsGuest {
		return s.opts.Accounts.Allow(ctx, limit+":user", c.User.ID)
	}
	return s.opts.Accounts.Allow(ctx, limit+":guest", c.ClientIP)
}

// answer turns err into the envelope Nextcloud would send: a controller's
// DataResponse(['message' => ...], status) for application errors, 997
// for authentication, "Internal error" (logged) for the rest.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, params map[string]any, err error) {
	ae := server.AppError(err)
	if ae == nil {
		server.Info(r.Context()).Log.ErrorContext(r.Context(), "ocs request failed", "err", err)
		Respond(w, r, params, failure(http.StatusInternalServerError, "Internal error"))
		return
	}
	if ae.Code == aimg.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Authorisation Required"`)
		Respond(w, r, params, Response{Status: RespondUnauthorised, Message: ae.Message})
		return
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	Respond(w, r, params, failure(server.Status(ae.Code), ae.Message))
}

// failure is a controller's error answer: the status and ['message' => msg].
func failure(status int, msg string) Response {
	return Response{Status: status, Data: map[string]any{"message": msg}}
}

// ok is a controller's success answer.
func ok(data any) Response { return Response{Data: data} }

// str reads a string parameter; a number is taken as its text (PHP casts
// scalars for string arguments); anything else is a 400 naming it.
func (c *call) str(name string) (string, bool, error) {
	switch x := c.params[name].(type) {
	case nil: // absent, or JSON null
		return "", false, nil
	case string:
		return x, true, nil
	case fmt.Stringer: // json.Number
		return x.String(), true, nil
	case bool:
		if x {
			return "1", true, nil
		}
		return "", true, nil
	}
	return "", true, aimg.Invalid(name, "must be a text")
}

// required reads a string parameter that must be given.
func (c *call) required(name string) (string, error) {
	v, present, err := c.str(name)
	if err != nil {
		return "", err
	}
	if !present {
		return "", aimg.Invalid(name, "is required")
	}
	return v, nil
}

// optional reads a string parameter that may be absent or null.
func (c *call) optional(name string) (*string, error) {
	v, present, err := c.str(name)
	if err != nil || !present {
		return nil, err
	}
	return &v, nil
}

// pathID reads an integer route parameter as PHP's (int) cast would see
// it; ok is false for anything that is not a whole number.
func (c *call) pathID(name string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(c.r.PathValue(name)), 10, 64)
	return v, err == nil
}
