// Package app wires the configuration into the running service: the store,
// the services, the HTTP handler and the background loops.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"aimg/internal/account"
	"aimg/internal/billing"
	"aimg/internal/blob"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/generation/workflows"
	"aimg/internal/httpapi"
	"aimg/internal/library"
	"aimg/internal/mail"
	"aimg/internal/media"
	"aimg/internal/ocs"
	"aimg/internal/payments/arkpay"
	"aimg/internal/payments/boosty"
	"aimg/internal/payments/stripepay"
	"aimg/internal/ratelimit"
	"aimg/internal/server"
	"aimg/internal/store"
	"aimg/internal/tasks"
	"aimg/internal/web"
	"aimg/internal/worker"
	"aimg/internal/worker/a1111"
	"aimg/internal/worker/builtin"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/openai"
	"aimg/internal/workerapi"
)

// App is one running AIMG service.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Limiter  ratelimit.Limiter
	Mail     mail.Sender
	Accounts *account.Service
	Billing  *billing.Service
	// Stripe and Arkpay are the configured payment providers (nil: off).
	Stripe  *stripepay.Provider
	Arkpay  *arkpay.Client
	Boosty  *billing.Boosty // the Boosty payment provider (docs/payments.md "Boosty")
	Blobs   blob.Store
	Files   *files.Service
	Decoder *media.Decoder // the one decode budget for untrusted images
	Library *library.Service
	API     *httpapi.Server // the AIMG API surface
	Tasks   *tasks.Service  // the Nextcloud task engine
	OCS     *ocs.Server     // the Nextcloud-compatible surface
	Web     *web.Server     // the site for people, at "/"
	HTTP    *server.Server  // the root handler: every surface and the operations endpoints

	Generation *generation.Service
	Backends   *worker.Registry  // the renderers this server knows, by Model backend name
	workflows  *workflows.Set    // the workflow templates (embedded and generation.workflowDir)
	Workers    *worker.Pool      // nil without the embedded worker
	WorkerAPI  *workerapi.Server // the remote workers' protocol surface
	wake       *workerapi.Wake   // wakes remote workers' waiting claims
	jobQueued  chan struct{}     // a Job was queued here: tell the other replicas
	changed    jobChanges        // Jobs whose Items changed here: tell the other replicas' item streams
	bg         background
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time // the drain delay's timer
	// wall is the clock of the sweeps' turns (takeTurn): their tickers run
	// on the wall clock, whatever clock the app runs on.
	wall func() time.Time

	// AdminKeyGenerated is set when this start generated the admin key, so
	// the caller prints it once.
	AdminKeyGenerated bool

	closers []func() error
}

// New opens everything cfg names and applies the migrations. getenv is the
// process environment, for settings outside cfg (the blob store's AWS_* credentials).
// An error names the setting at fault ("AIMG_REDIS_URL: ..."); whatever was
// opened before it is closed again.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, now func() time.Time, version string, getenv func(string) string) (*App, error) {
	a := &App{Config: cfg, Log: log, now: now, after: time.After, wall: time.Now}
	if err := a.open(ctx, version, getenv); err != nil {
		if cerr := a.Close(); cerr != nil {
			log.Warn("closing after a failed start", "err", cerr)
		}
		return nil, OneLine(err)
	}
	return a, nil
}

// open does New's work on a; each step registers its closer before the next.
func (a *App) open(ctx context.Context, version string, getenv func(string) string) (err error) {
	templates, err := workflows.Load(a.Config.Service.Generation.WorkflowDir)
	if err != nil {
		return fmt.Errorf("config generation.workflowDir: %w", err)
	}
	a.workflows = templates
	// comfyui, a1111 and openai run in remote workers only (no New): the
	// server resolves their requests, `aimg worker` sends them.
	if a.Backends, err = worker.NewRegistry(builtin.Registration(), comfyui.Registration(templates),
		a1111.Registration(), openai.Registration()); err != nil {
		return err
	}
	if err := a.Backends.CheckModels(a.Config.Service.Models); err != nil {
		return err
	}
	a.Config.Service.Models = a.Backends.Describe(a.Config.Service.Models)
	cfg, log, now := a.Config, a.Log, a.now
	if err := ensureWritableDir(cfg.DataDir); err != nil {
		return fmt.Errorf("AIMG_DATA_DIR: %w", err)
	}
	if a.Config.AdminKey == "" {
		a.Config.AdminKey, a.AdminKeyGenerated, err = loadOrCreateAdminKey(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("AIMG_DATA_DIR: %w", err)
		}
	}
	cfg = a.Config

	if a.Store, err = store.Open(ctx, cfg.DatabaseURL, cfg.DataDir); err != nil {
		return named("AIMG_DATABASE_URL", databaseHint(err))
	}
	a.closers = append(a.closers, a.Store.Close)
	if err := a.Store.Migrate(ctx); err != nil {
		return named("AIMG_DATABASE_URL", err)
	}
	if err := a.setUpPGQuery(ctx); err != nil {
		return err
	}
	if a.Limiter, err = ratelimit.Open(ctx, cfg.RedisURL, now); err != nil {
		return named("AIMG_REDIS_URL", err)
	}
	if cfg.RedisURL != "" {
		// Redis down later: each replica limits on its own meanwhile. The
		// pause before asking Redis again is wall-clock time.
		a.Limiter = ratelimit.NewFallback(a.Limiter, ratelimit.NewMemory(now), time.Now, log)
	}
	a.closers = append(a.closers, a.Limiter.Close)
	if a.Mail, err = mail.Open(cfg.SMTPURL, filepath.Join(cfg.DataDir, "outbox"), cfg.Service.MailFrom, now, log); err != nil {
		return named("AIMG_SMTP_URL", err)
	}
	if a.Blobs, err = blob.Open(ctx, cfg.BlobURL, cfg.DataDir, getenv); err != nil {
		return named("AIMG_BLOB_URL", err)
	}
	if a.Decoder, err = media.NewDecoder(media.DecoderConfig{
		MaxDecodedBytes:  cfg.Service.Media.MaxDecodedBytes,
		MaxInFlightBytes: cfg.Service.Media.MaxInFlightBytes,
		MaxConcurrent:    cfg.Service.Media.MaxConcurrentDecodes,
		MaxWait:          cfg.Service.Media.DecodeWait,
	}); err != nil {
		return fmt.Errorf("config media: %w", err)
	}
	resizing := files.Resizing{Sizes: cfg.Service.Files.VariantSizes, MaxVariants: cfg.Service.Files.MaxVariantsPerFile,
		Decoder: a.Decoder, Limiter: a.Limiter}
	if rule, ok := cfg.Service.RateLimit(files.ResizeRateLimit); ok {
		resizing.Rule = &rule
	}
	a.Files = files.New(a.Store, a.Blobs, cfg.PublicURL, now, log, resizing)
	a.Accounts = account.New(a.Store, cfg, a.Limiter, a.Mail, log, now, a.Decoder)
	a.Library = library.New(a.Store, a.Files, library.ModelNameFunc(func(id string) string {
		m, _ := cfg.Service.Model(id)
		return m.Name
	}), now)
	a.Library.SetReports(cfg.Service.Reports)
	pay := cfg.Service.Payments
	var providers billing.Providers
	if pay.Stripe.Enabled() {
		a.Stripe = stripepay.New(stripepay.Config{SecretKey: pay.Stripe.SecretKey, WebhookSecret: pay.Stripe.WebhookSecret,
			APIURL: pay.Stripe.APIURL, Tolerance: pay.WebhookTolerance}, nil)
		providers.Stripe = a.Stripe
	}
	if pay.Arkpay.Enabled() {
		a.Arkpay = arkpay.New(arkpay.Config{URL: pay.Arkpay.URL, APIKey: pay.Arkpay.APIKey, WebhookSecret: pay.Arkpay.WebhookSecret,
			Tolerance: pay.WebhookTolerance}, nil)
		providers.Arkpay = a.Arkpay
	}
	a.Billing = billing.New(a.Store, cfg, a.Mail, providers, log, now)
	key, err := secretsKey(cfg)
	if err != nil {
		return err
	}
	bc := pay.Boosty
	a.Boosty = billing.NewBoosty(a.Store, boosty.New(bc.APIURL, bc.RequestTimeout, bc.PageSize, bc.MaxPages, bc.MaxResponseBytes),
		key, cfg, a.Mail, log, now)

	if err := a.newGeneration(); err != nil {
		return err
	}
	if err := a.newTasks(); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.API = httpapi.New(httpapi.Deps{
		Config:     cfg,
		Logger:     log,
		Now:        now,
		Limiter:    a.Limiter,
		Accounts:   a.Accounts,
		Files:      a.Files,
		RawSQL:     a.Store.RawQuery,
		Library:    a.Library,
		Billing:    a.Billing,
		Stripe:     a.Stripe,
		Arkpay:     a.Arkpay,
		Boosty:     a.Boosty,
		Generation: a.Generation,
		Version:    version,
	})
	if a.Web, err = web.New(web.Deps{Config: cfg, Logger: log, Accounts: a.Accounts, Generation: a.Generation,
		Library: a.Library, Billing: a.Billing, Files: a.Files, Now: now}); err != nil {
		return err
	}
	g := cfg.Service.Generation
	a.WorkerAPI = workerapi.NewServer(workerapi.Options{Jobs: a.Generation, Wake: a.wake, Allow: a.Accounts.Allow, Logger: log,
		MaxUploadBytes: g.MaxUploadBytes, MaxConcurrentUploads: g.MaxConcurrentUploads, RecheckInterval: g.PollInterval,
		LeaseDuration: g.LeaseDuration})
	a.HTTP = server.New(server.Options{
		Logger:            log,
		Now:               now,
		Metrics:           reg,
		Version:           version,
		TrustProxyHeaders: cfg.Service.HTTP.TrustProxyHeaders,
		Ready:             []server.Check{{Name: "database", Ping: a.Store.Ping}, {Name: "blob", Ping: a.Blobs.Ping}},
	}, append([]server.Surface{a.API.Surface(), a.WorkerAPI.Surface(), a.Web.Surface()}, a.OCS.Surfaces()...)...)
	return nil
}

// named prefixes err with the setting it is about.
func named(setting string, err error) error {
	if strings.HasPrefix(err.Error(), setting+":") {
		return err
	}
	return fmt.Errorf("%s: %w", setting, err)
}

// OneLine keeps a start-up error on one line (errors.Join and some drivers
// separate with newlines), so the operator reads it where the process printed it.
func OneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	return fmt.Errorf("%s", strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " "))
}

// databaseHint adds what to do to the errors a first start usually meets.
func databaseHint(err error) error {
	if strings.Contains(err.Error(), "SQLSTATE 3D000") {
		return fmt.Errorf("%w (create the database first, e.g. createdb, then start again)", err)
	}
	return err
}

// ensureWritableDir creates dir when missing and checks that files can be
// created in it, so an unusable data dir fails at once and by name.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}

// Serve answers HTTP on ln until ctx ends, then drains: /readyz answers 503
// while the server keeps serving for http.drainDelay (load balancers see it
// and move traffic away), then new connections stop and in-flight requests
// finish within http.shutdownTimeout. Connections are bounded by the http
// section's read, write and idle timeouts (downloads move their write
// deadline with progress: server.MovingWriteDeadline).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	h := a.Config.Service.HTTP
	srv := &http.Server{
		Handler:           a.HTTP,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	a.Start(context.WithoutCancel(ctx)) // drained below, not cut off by ctx
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return errors.Join(err, a.Stop(context.Background()))
	case <-ctx.Done():
	}
	a.Log.Info("draining: /readyz answers 503", "drain_delay", h.DrainDelay)
	a.HTTP.Drain()
	// Item event streams would hold the shutdown until they time out:
	// they end now (event "end", reason "shutdown") and clients reconnect.
	a.Generation.Events().Close()
	a.WorkerAPI.Stop()              // waiting claims end now: their workers ask another replica
	srv.SetKeepAlivesEnabled(false) // clients reconnect, through the balancer, elsewhere
	select {
	case <-a.after(h.DrainDelay):
	case err := <-errc: // the listener failed meanwhile
		return errors.Join(err, a.Stop(context.Background()))
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), h.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	// No request can queue work any more: finish or release running Jobs.
	return errors.Join(err, a.Stop(sctx))
}

// Close releases everything New opened, in reverse order. It is safe on a
// nil App and more than once.
func (a *App) Close() error {
	if a == nil {
		return nil
	}
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// loadOrCreateAdminKey keeps a generated key in the data dir so it survives
// restarts; created reports a first start.
func loadOrCreateAdminKey(dataDir string) (key string, created bool, err error) {
	path := filepath.Join(dataDir, "admin.key")
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("admin key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	key = base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("admin key: %w", err)
	}
	return key, true, nil
}

// setUpPGQuery points readonly pgQuery at AIMG_PGQUERY_DATABASE_URL's role
// when set, and logs what makes pgQuery's roles unsafe (docs/security.md).
func (a *App) setUpPGQuery(ctx context.Context) error {
	if a.Config.PGQuery == "off" {
		return nil
	}
	if u := a.Config.PGQueryDatabaseURL; u != "" {
		if err := a.Store.UsePGQueryDatabase(ctx, u); err != nil {
			return fmt.Errorf("AIMG_PGQUERY_DATABASE_URL: %w", err)
		}
	}
	for _, w := range a.Store.PGQueryWarnings(ctx) {
		a.Log.Warn(w)
	}
	return nil
}
