package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker"
	"aimg/internal/worker/a1111"
	"aimg/internal/worker/builtin"
	"aimg/internal/worker/comfyui"
	"aimg/internal/worker/openai"
	"aimg/internal/workerapi"
)

// workerFlag is a flag of `aimg worker`, mirrored by an AIMG_WORKER_* variable.
type workerFlag struct{ name, env, value, def, help string }

var workerFlags = []workerFlag{
	{"server", "AIMG_WORKER_SERVER", "url", "", "the AIMG server, e.g. http://aimg.example:8080 (required)"},
	{"key", "AIMG_WORKER_KEY", "key", "", "the worker key from createWorkerKey (required)"},
	{"backend", "AIMG_WORKER_BACKEND", "name", "builtin", "what renders: builtin (the CPU renderer), comfyui, a1111 or openai (an OpenAI-compatible images API)"},
	{"backend-url", "AIMG_WORKER_BACKEND_URL", "url", "", "the backend server: ComfyUI (http://127.0.0.1:8188), the A1111 web UI (http://127.0.0.1:7860; user:pass@ in the URL is its --api-auth), the images API root (default https://api.openai.com/v1)"},
	{"backend-key", "AIMG_WORKER_BACKEND_KEY", "key", "", "openai: the API key, sent as Bearer (prefer the variable: flags show in ps)"},
	{"models", "AIMG_WORKER_MODELS", "id,id", "", "the Models to render (default: every Model the key allows)"},
	{"concurrency", "AIMG_WORKER_CONCURRENCY", "n", "1", "Jobs rendered at once"},
	{"name", "AIMG_WORKER_NAME", "name", "host-pid-random", "this worker's name; a stable name takes back its previous process's Jobs at once"},
	{"shutdown-timeout", "AIMG_WORKER_SHUTDOWN_TIMEOUT", "duration", "30s", "on SIGTERM, how long running Jobs may finish before they are released"},
	{"builtin-delay", "AIMG_WORKER_BUILTIN_DELAY", "duration", "0s", "builtin only, for tests: wait this long per Job before rendering (a stand-in for a GPU's render time)"},
}

const workerSummary = "Renders Jobs for an AIMG server over the worker protocol (docs/worker-protocol.md)."

func workerUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: aimg worker [flags]\n\n%s\nEach flag overrides its environment variable.\n\nflags:\n", workerSummary)
	for _, f := range workerFlags {
		def := f.def
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(w, "  --%s %s\n        %s (env %s, default: %s)\n", f.name, f.value, f.help, f.env, def)
	}
}

// workerSettings are the worker's flags after the environment.
type workerSettings struct {
	server, key, backend, backendURL, name string
	backendKey                             string
	models                                 []string
	concurrency                            int
	shutdownTimeout                        time.Duration
	builtinDelay                           time.Duration
}

func loadWorkerSettings(args []string, getenv func(string) string, stdout, stderr io.Writer) (workerSettings, error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	given := map[string]*string{}
	for _, f := range workerFlags {
		given[f.name] = fs.String(f.name, "", f.help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			workerUsage(stdout)
			return workerSettings{}, errHelpShown
		}
		workerUsage(stderr)
		return workerSettings{}, fmt.Errorf("worker: %w", err)
	}
	if fs.NArg() > 0 {
		return workerSettings{}, fmt.Errorf("worker takes no arguments, got %q (flags: aimg worker --help)", fs.Arg(0))
	}
	v := map[string]string{}
	for _, f := range workerFlags {
		switch {
		case *given[f.name] != "":
			v[f.name] = *given[f.name]
		case getenv(f.env) != "":
			v[f.name] = getenv(f.env)
		default:
			v[f.name] = f.def
		}
	}
	s := workerSettings{server: strings.TrimRight(v["server"], "/"), key: v["key"], backend: v["backend"], backendURL: v["backend-url"],
		backendKey: v["backend-key"]}
	var errs []error
	if !strings.HasPrefix(s.server, "http://") && !strings.HasPrefix(s.server, "https://") {
		errs = append(errs, fmt.Errorf("--server (AIMG_WORKER_SERVER): %q is not an http(s) URL", s.server))
	}
	if s.key == "" {
		errs = append(errs, errors.New("--key (AIMG_WORKER_KEY) is required: an Admin makes one with createWorkerKey"))
	}
	for _, id := range strings.Split(v["models"], ",") {
		if id = strings.TrimSpace(id); id != "" {
			s.models = append(s.models, id)
		}
	}
	n, err := strconv.Atoi(v["concurrency"])
	if err != nil || n < 1 || n > 1024 {
		errs = append(errs, fmt.Errorf("--concurrency (AIMG_WORKER_CONCURRENCY): %q is not a number from 1 to 1024", v["concurrency"]))
	}
	s.concurrency = n
	if v["name"] != "host-pid-random" {
		if err := worker.ValidName(v["name"]); err != nil {
			errs = append(errs, fmt.Errorf("--name (AIMG_WORKER_NAME): %w", err))
		}
		s.name = v["name"]
	}
	if s.shutdownTimeout, err = time.ParseDuration(v["shutdown-timeout"]); err != nil || s.shutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout (AIMG_WORKER_SHUTDOWN_TIMEOUT): %q is not a duration", v["shutdown-timeout"]))
	}
	if s.builtinDelay, err = time.ParseDuration(v["builtin-delay"]); err != nil || s.builtinDelay < 0 || s.builtinDelay > time.Hour {
		errs = append(errs, fmt.Errorf("--builtin-delay (AIMG_WORKER_BUILTIN_DELAY): %q is not a duration from 0s to 1h", v["builtin-delay"]))
	} else if s.builtinDelay > 0 && s.backend != aimg.BackendBuiltin {
		errs = append(errs, fmt.Errorf("--builtin-delay (AIMG_WORKER_BUILTIN_DELAY) is for --backend builtin only, not %s", s.backend))
	}
	return s, errors.Join(errs...)
}

// workerBackend makes the backend the flags name: for a GPU backend its
// protocol client and the adapter that renders the request the server
// resolved into each Job (payload.request). close releases the client.
func workerBackend(s workerSettings) (b worker.Backend, close func(), err error) {
	none := func() {}
	needURL := func() (*url.URL, error) {
		if s.backendURL == "" {
			return nil, fmt.Errorf("--backend-url (AIMG_WORKER_BACKEND_URL) is required with --backend %s", s.backend)
		}
		u, err := url.Parse(s.backendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--backend-url (AIMG_WORKER_BACKEND_URL): %q is not an http(s) URL", redactURL(s.backendURL))
		}
		return u, nil
	}
	switch s.backend {
	case aimg.BackendBuiltin:
		return builtin.Backend{Delay: s.builtinDelay}, none, nil
	case aimg.BackendComfyUI:
		u, err := needURL()
		if err != nil {
			return nil, nil, err
		}
		cfg := comfyui.Config{}
		if u.User != nil { // a reverse proxy's Basic auth in front of ComfyUI
			pass, _ := u.User.Password()
			cfg.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))}}
			u.User = nil
		}
		cfg.BaseURL = u.String()
		c, err := comfyui.New(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("--backend-url: %w", err)
		}
		return comfyui.NewBackend(c), none, nil
	case aimg.BackendA1111:
		u, err := needURL()
		if err != nil {
			return nil, nil, err
		}
		cfg := a1111.Config{}
		if u.User != nil { // the web UI's --api-auth user:pass
			cfg.Username = u.User.Username()
			cfg.Password, _ = u.User.Password()
			u.User = nil
		}
		cfg.BaseURL = u.String()
		c, err := a1111.New(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("--backend-url: %w", err)
		}
		return a1111.NewBackend(c), c.Close, nil
	case aimg.BackendOpenAI:
		if s.backendURL == "" {
			s.backendURL = "https://api.openai.com/v1"
		}
		u, err := needURL()
		if err != nil {
			return nil, nil, err
		}
		c, err := openai.New(openai.Config{BaseURL: u.String(), APIKey: s.backendKey})
		if err != nil {
			return nil, nil, fmt.Errorf("--backend-url: %w", err)
		}
		return openai.NewBackend(c), none, nil
	}
	return nil, nil, fmt.Errorf("--backend (AIMG_WORKER_BACKEND): %q is not one of builtin, comfyui, a1111, openai", s.backend)
}

// redactURL hides a password in a URL shown in an error.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable URL)"
}

// runWorker is `aimg worker`: a worker pool whose job source is the
// server, over HTTP. It keeps going while the server is down or
// restarting (the client retries with backoff); on SIGTERM (ctx) it stops
// claiming, lets running Jobs finish for the shutdown timeout, then
// releases the rest to their queues.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := loadWorkerSettings(args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	backend, closeBackend, err := workerBackend(s)
	if err != nil {
		return err
	}
	defer closeBackend()
	log := newWorkerLogger(getenv, stderr)
	client := workerapi.NewClient(s.server, s.key, nil)
	models := s.models
	if len(models) == 0 {
		// Only the Models of this worker's backend: a comfyui worker
		// must not take builtin Jobs, nor the other way round.
		if models, err = client.ModelsOf(ctx, s.backend); err != nil {
			return fmt.Errorf("worker: ask %s which Models this key serves: %w", s.server, err)
		}
		if len(models) == 0 {
			return fmt.Errorf("worker: the key may claim no Model of the %s backend", s.backend)
		}
	}
	pool, err := worker.NewPool(client, backend, worker.Config{Name: s.name, Concurrency: s.concurrency, ModelIDs: models,
		// The claim itself waits at the server (long-poll): an idle slot
		// asks again at once when its wait ends.
		PollInterval: 10 * time.Millisecond,
		CallTimeout:  workerapi.MaxWait + 15*time.Second,
	}, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "aimg worker %s: rendering %s with %s for %s (%d at once)\n", pool.Name(), strings.Join(models, ","),
		s.backend, s.server, s.concurrency)
	pool.Start(context.WithoutCancel(ctx))
	<-ctx.Done()
	log.Info("stopping: running Jobs may finish", "timeout", s.shutdownTimeout)
	client.StopWaiting()
	stopCtx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	return pool.Stop(stopCtx)
}

func newWorkerLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(getenv("AIMG_LOG_LEVEL")))
	opts := &slog.HandlerOptions{Level: level}
	if getenv("AIMG_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
