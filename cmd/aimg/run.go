package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"aimg/internal/app"
	"aimg/internal/config"
	"aimg/internal/store"
)

const usage = `usage: aimg <command> [flags]

commands:
  serve     run the AIMG server (configuration from AIMG_* environment variables)
  worker    render Jobs for a server on this machine (a GPU worker; see aimg worker --help)
  migrate   apply database migrations and exit
  dev seed  add test data (see aimg dev)
  bench     drive servers with simulated workers and clients; print Items/s and latencies
  version   print the version and the build's VCS stamp

aimg <command> --help shows the command's flags.
`

// run is the whole program, with its environment passed in so that tests
// can start it on a free port with a temporary data dir.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "worker":
		return runWorker(ctx, args[1:], getenv, stdout, stderr)
	case "dev":
		return seed(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-v":
		if len(args) > 1 {
			return fmt.Errorf("version takes no arguments, got %q", args[1])
		}
		fmt.Fprintln(stdout, "aimg", readStamp().String())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// commandFlag is a flag of serve and migrate: it overrides its environment variable.
type commandFlag struct {
	name, env, value, help string
	// def is the default shown in --help, from the defaults of config.
	def func(config.Config) string
}

var commandFlags = []commandFlag{
	{"addr", "AIMG_ADDR", "host:port", "listen address", func(c config.Config) string { return c.Addr }},
	{"data-dir", "AIMG_DATA_DIR", "dir", "data directory: SQLite file, blobs, outbox, admin key, worker id",
		func(c config.Config) string { return c.DataDir }},
	{"database-url", "AIMG_DATABASE_URL", "url", "database: postgres://... or sqlite:<path>",
		func(config.Config) string { return "SQLite at <data dir>/aimg.db" }},
	{"config", "AIMG_CONFIG", "file", "service config (YAML or JSON) overlaid on the embedded defaults",
		func(config.Config) string { return "none" }},
}

// errHelpShown ends a command whose --help was printed: exit status 0.
var errHelpShown = errors.New("help shown")

// commandUsage prints a command's flags, each with its variable and default.
func commandUsage(w io.Writer, name, summary string) {
	defaults, _ := config.FromEnv(func(string) string { return "" })
	fmt.Fprintf(w, "usage: aimg %s [flags]\n\n%s\nEach flag overrides its environment variable; the other settings\n"+
		"are environment variables only (AIMG_PUBLIC_URL, AIMG_BLOB_URL, AIMG_REDIS_URL, ...).\n\nflags:\n", name, summary)
	for _, f := range commandFlags {
		fmt.Fprintf(w, "  --%s %s\n        %s (env %s, default: %s)\n", f.name, f.value, f.help, f.env, f.def(defaults))
	}
}

// loadConfig reads the environment; flags given to a command override it.
// --help prints the usage to stdout and returns errHelpShown; a stray
// argument is an error.
func loadConfig(name, summary string, args []string, getenv func(string) string, stdout, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	values := map[string]*string{}
	for _, f := range commandFlags {
		values[f.env] = fs.String(f.name, "", f.help+" ("+f.env+")")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(stdout, name, summary)
			return config.Config{}, errHelpShown
		}
		commandUsage(stderr, name, summary)
		return config.Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%s takes no arguments, got %q (flags: aimg %s --help)", name, fs.Arg(0), name)
	}
	overrides := map[string]string{}
	for env, v := range values {
		overrides[env] = *v
	}
	return config.FromEnv(withOverrides(getenv, overrides))
}

// withOverrides lets the non-empty values given on the command line win over
// the environment.
func withOverrides(getenv func(string) string, overrides map[string]string) func(string) string {
	return func(k string) string {
		if v := overrides[k]; v != "" {
			return v
		}
		return getenv(k)
	}
}

// openStore opens the configured database and brings its schema up to date.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

var redisLogOnce sync.Once

// quietRedis sends the Redis client's own log lines (it prints every failed
// dial to stderr) to the process log at debug level, once per process:
// its errors reach us as errors anyway, so a start with Redis down prints
// one line, not five.
func quietRedis(log *slog.Logger) {
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{log}) })
}

type redisLogger struct{ log *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, fmt.Sprintf(format, v...), "source", "go-redis")
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("serve", "Runs the AIMG server: API, embedded worker, reaper.", args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	quietRedis(log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("AIMG_ADDR: listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if getenv("AIMG_PUBLIC_URL") == "" {
		// With port 0 the real port is known only now.
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	a, err := app.New(ctx, cfg, log, time.Now, version(), getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "AIMG %s listening on %s (the site at %s/, the API at %s/api, data in %s)\n", version(), cfg.PublicURL, cfg.PublicURL, cfg.PublicURL, cfg.DataDir)
	if a.AdminKeyGenerated {
		fmt.Fprintf(stdout, "Generated the admin key (X-Administration-Key), kept in %s/admin.key:\n  %s\n", cfg.DataDir, a.Config.AdminKey)
	}
	return a.Serve(ctx, ln)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("migrate", "Applies the database migrations and exits.", args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return app.OneLine(fmt.Errorf("AIMG_DATABASE_URL: %w", err))
	}
	defer st.Close()
	cur, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema at version %d (%s)\n", cur, st.Dialect())
	return nil
}

// releaseVersion, when set at link time (-ldflags "-X main.releaseVersion=v1.2.3"),
// is the version a packager gives the binary.
var releaseVersion string

// version is the short version: /healthz, the start-up line.
func version() string { return readStamp().Version }

// buildStamp is what the binary knows about its own build.
type buildStamp struct {
	Version  string // release, module pseudo-version, or "dev"
	Revision string // vcs.revision
	Time     string // vcs.time
	Modified bool   // vcs.modified: built from a tree with uncommitted changes
	Go       string
}

func readStamp() buildStamp {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return stampOf(bi, releaseVersion)
}

// stampOf reads the build info. `go build` in a clone stamps the VCS state
// (and, since Go 1.24, a pseudo-version such as v0.0.0-20261201100118-0e52605b990d+dirty);
// `go run`, `go test` and -buildvcs=false stamp nothing: the version is "dev".
func stampOf(bi *debug.BuildInfo, release string) buildStamp {
	b := buildStamp{Version: "dev"}
	if bi == nil {
		return b
	}
	b.Go = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	switch {
	case release != "":
		b.Version = release
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		b.Version = bi.Main.Version
	case b.Revision != "":
		b.Version = "dev-" + b.Revision[:min(12, len(b.Revision))]
		if b.Modified {
			b.Version += "+dirty"
		}
	}
	return b
}

// String is the long form `aimg version` prints.
func (b buildStamp) String() string {
	var details []string
	if b.Revision != "" {
		d := "commit " + b.Revision
		if b.Time != "" {
			d += " at " + b.Time
		}
		if b.Modified {
			d += ", with uncommitted changes"
		}
		details = append(details, d)
	} else {
		details = append(details, "no VCS stamp: built by go run, go test or with -buildvcs=false")
	}
	if b.Go != "" {
		details = append(details, b.Go)
	}
	return b.Version + " (" + strings.Join(details, "; ") + ")"
}
