// Package httpapi is the AIMG API surface: huma operations on the standard
// ServeMux (so the OpenAPI document is generated from the code), one route
// table (routes.go), the AIMG envelope and its error writer. Handlers call
// services; they never write SQL. The root handler, request ids, logging and
// metrics are internal/server's.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/account"
	"aimg/internal/billing"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/library"
	"aimg/internal/oauthlogin"
	"aimg/internal/payments/arkpay"
	"aimg/internal/payments/stripepay"
	"aimg/internal/ratelimit"
	"aimg/internal/server"
	"aimg/internal/store"
)

// Deps is everything the handlers need, built by the app package.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Now      func() time.Time
	Limiter  ratelimit.Limiter
	Accounts *account.Service
	Files    *files.Service
	Library  *library.Service
	Billing  *billing.Service
	// Stripe and Arkpay verify their webhooks; nil = the provider is off.
	Stripe     *stripepay.Provider
	Arkpay     *arkpay.Client
	Boosty     *billing.Boosty
	Generation *generation.Service
	Version    string
	// Logins are the enabled external login providers; nil = built from
	// Config.Service.OAuth.
	Logins map[string]oauthlogin.Provider
	// RawSQL runs pgQuery statements (store.Store.RawQuery).
	RawSQL func(ctx context.Context, text string, params []any, o store.RawQueryOptions) (*store.RawResult, error)
}

// Server is the AIMG API's handler tree, mounted at /api/.
type Server struct {
	Deps
	mux     *http.ServeMux
	api     huma.API
	table   []route
	handler http.Handler
}

// New builds the routes and the surface's own middleware.
func New(d Deps) *Server {
	s := &Server{Deps: d, mux: http.NewServeMux()}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logins == nil {
		s.Logins = oauthlogin.FromConfig(d.Config.Service.OAuth, nil)
	}

	hc := huma.DefaultConfig("AIMG API", d.Version)
	hc.Info.Description = "The AIMG back end: accounts, the Item library, image and video generation, files. " +
		"Every response is the AIMG envelope {hasError, errorMessage, errorCode, payload, metadata}."
	hc.OpenAPIPath = "/api/openapi"
	hc.DocsPath = "" // served by docsPage from the binary, not from a CDN
	hc.SchemasPath = "/api/schemas"
	hc.CreateHooks = nil                         // no $schema links in bodies: clients expect the bare envelope
	hc.AllowAdditionalPropertiesByDefault = true // DECISIONS.md: unknown JSON fields are ignored
	hc.FieldsOptionalByDefault = true            // mandatory fields say required:"true"
	hc.Formats = jsonFormats()                   // JSON strings with a NUL are a 400 (text_guard.go)
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session":  {Type: "apiKey", In: "header", Name: "X-Session-ID"},
		"adminKey": {Type: "apiKey", In: "header", Name: "X-Administration-Key"},
	}
	s.api = humago.New(s.mux, hc)
	server.UseHumaErrors(s.api, toErrorBody)

	s.routes()
	s.mountDocs()
	s.mux.HandleFunc("/api/", s.notFound)
	s.handler = checkSessionHeader(checkText(authForm(s.mux)))
	return s
}

// Surface is how the root handler mounts the AIMG API.
func (s *Server) Surface() server.Surface {
	return server.Surface{
		Prefix:       "/api/",
		Handler:      s.handler,
		WriteError:   writeError,
		MaxBodyBytes: s.Config.Service.HTTP.MaxImageBodyBytes,
	}
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
			writeError(w, r, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed here; use "+strings.Join(allow, " or "))
			return
		}
	}
	writeError(w, r, http.StatusNotFound, "No such endpoint: "+r.URL.Path)
}
