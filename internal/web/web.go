// Package web is the site for people at "/": server-rendered html/template
// pages, one small script per concern, every asset embedded (issue 12).
// Pages call the services with the same aimg.Caller rules as the API; they
// never reimplement a rule. The session is the account service's session,
// carried in a cookie instead of X-Session-ID (session.go); every form
// carries a CSRF token (csrf.go); every answer a strict CSP (headers.go).
package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/billing"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/library"
	"aimg/internal/oauthlogin"
	"aimg/internal/server"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps are the services the pages call.
type Deps struct {
	Config     config.Config
	Logger     *slog.Logger
	Accounts   *account.Service
	Generation *generation.Service
	Library    *library.Service
	Billing    *billing.Service
	Files      *files.Service
	Now        func() time.Time
	// Logins are the enabled external login providers; nil = built from
	// Config.Service.OAuth.
	Logins map[string]oauthlogin.Provider
}

// Server is the web surface.
type Server struct {
	Deps
	pages   map[string]*template.Template
	csrfKey []byte
	handler http.Handler
	// bodyBudgets are the routes (by path) whose body may exceed
	// maxFormBytes, with their own bound (limitBodies).
	bodyBudgets map[string]bodyBudget
	logins      []loginButton // the external sign-in buttons, in config order
}

// maxFormBytes bounds every form body; the longest field is a prompt. The
// upload routes have the image budget (bodyBudgets).
const maxFormBytes = 64 << 10

// New parses the templates and builds the route table.
func New(d Deps) (*Server, error) {
	s := &Server{Deps: d, csrfKey: csrfKey(d.Config.AdminKey), pages: map[string]*template.Template{}, bodyBudgets: map[string]bodyBudget{}}
	if s.Logins == nil {
		s.Logins = oauthlogin.FromConfig(d.Config.Service.OAuth, nil)
	}
	s.logins = loginButtons(s.Logins)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	assets, err := staticFiles(static)
	if err != nil {
		return nil, err
	}
	s.handler = s.routes(assets)
	return s, nil
}

// routes is the whole site map in one table.
func (s *Server) routes(assets http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", assets))
	page := func(pattern string, h pageHandler) {
		mux.Handle(pattern, s.withCaller(h))
	}
	page("GET /{$}", s.home)
	page("GET /signin", s.signInPage)
	page("POST /signin", s.signIn)
	page("POST /signin/otp", s.signInOTP)
	page("GET /signup", s.signUpPage)
	page("POST /signup", s.signUp)
	page("POST /signup/otp", s.signUpOTP)
	page("GET /login", s.magicLink) // the OTP email's link (account.MagicLink)
	page("POST /signout", s.signOut)
	page("GET /create", s.createPage)
	page("POST /create", s.create)
	page("GET /events", s.events)
	page("GET /creations", s.creations)
	page("GET /items/{id}", s.itemPage)
	page("POST /items/{id}/cancel", s.cancel)
	page("POST /items/{id}/delete", s.deleteItem)
	s.libraryPages(page) // library.go: gallery filters, Item actions, tags, folders
	s.batchPages(page)   // batch.go: a batch's Items; the Create page's upload route (create_video.go)
	s.feedPages(page)    // feeds.go: the public feeds, a user's page, a public folder
	s.accountPages(page) // account.go: profile, password, email, premium, app passwords
	s.adminPages(page)   // admin.go: approval and report queues, users, workers, queues
	s.previewPages(page) // preview.go: the live preview of a generating Item
	page("/", func(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
		s.fail(w, r, c, aimg.Errorf(aimg.CodeNotFound, "There is no page at %s", aimg.Quote(r.URL.Path)))
	})
	return securityHeaders(s.allowFormTargets(s.limitBodies(s.checkCSRF(mux))))
}

// pageHandler is a page's handler, given the caller the cookie names.
type pageHandler func(w http.ResponseWriter, r *http.Request, c aimg.Caller)

// route adds a page to the route table.
type route func(pattern string, h pageHandler)

// Surface mounts the site at "/", beside the API's prefixes. Bodies are
// bounded per route by limitBodies (body.go), not here.
func (s *Server) Surface() server.Surface {
	return server.Surface{Prefix: "/", Handler: s.handler, WriteError: writePlainError}
}

// writePlainError answers what the shared middleware refuses (a body too
// large, a panic): no template, so it cannot fail itself.
func writePlainError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// view is what every page template gets.
type view struct {
	Title    string
	CSRF     string
	User     *aimg.User // nil for an anonymous visitor; may be a guest record
	SignedIn bool
	Scripts  []string // per-concern scripts under /static/
	Error    string   // an error no field is named for
	Fields   map[string]string
	Logins   []loginButton // the external sign-in buttons (account_external.go)
	Data     any
}

// newView is the view of the caller on r.
func (s *Server) newView(r *http.Request, c aimg.Caller, title string, data any) *view {
	return &view{Title: title, CSRF: s.csrfToken(c), User: c.User, SignedIn: c.SignedIn(), Data: data, Fields: map[string]string{}, Logins: s.logins}
}

// withError puts err next to the field it names, else at the top.
func (v *view) withError(err error) *view {
	var e *aimg.Error
	if errors.As(err, &e) && e.Code != aimg.CodeInternal && e.Field != "" {
		v.Fields[e.Field] = e.Message
		return v
	}
	v.Error = publicMessage(err)
	return v
}

// render writes the page with status; the page is rendered whole first, so
// a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := s.pages[name]
	if !ok {
		panic("web: no template " + name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.Logger.ErrorContext(r.Context(), "rendering a page", "page", name, "err", err)
		writePlainError(w, r, http.StatusInternalServerError, "Internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// renderAfter renders a page that a refused form returns to: with the
// service's error next to its field and its status; failed nil is 200.
func (s *Server) renderAfter(w http.ResponseWriter, r *http.Request, name string, v *view, failed error) {
	status := http.StatusOK
	if failed != nil {
		status = statusOf(failed)
		v.withError(failed)
	}
	s.render(w, r, status, name, v)
}

// fail shows err on the error page with its HTTP status (and Retry-After
// when rate limited or unavailable); internal errors are logged and shown
// as "Internal error", as the API does.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c aimg.Caller, err error) {
	status := statusOf(err)
	if ae := server.AppError(err); ae != nil && ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	if status >= 500 {
		s.Logger.ErrorContext(r.Context(), "web page failed", "path", r.URL.Path, "err", err)
	}
	v := s.newView(r, c, http.StatusText(status), nil)
	v.Error = publicMessage(err)
	s.render(w, r, status, "error", v)
}

// fieldError is one field's error for the "fielderror" template.
type fieldError struct{ Name, Message string }

var funcs = template.FuncMap{
	"field": func(v *view, name string) fieldError { return fieldError{name, v.Fields[name]} },
	"itoa":  strconv.Itoa,
	// batchLink is the page of an Item's batch (batch.go).
	"batchLink": batchLink,
}

// seeOther ends a successful POST (post/redirect/get).
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// home sends a visitor with no account yet (not even a guest's) to the
// public feeds, everyone else to Create (docs/decisions.md "Web UI:
// public pages").
func (s *Server) home(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if c.User == nil {
		seeOther(w, r, "/explore")
		return
	}
	seeOther(w, r, "/create")
}

// statusOf is the HTTP status of err, as the API answers it.
func statusOf(err error) int { return server.Status(aimg.ErrorCode(err)) }
