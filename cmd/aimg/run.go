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
	"time"

	"aimg/internal/app"
	"aimg/internal/config"
	"aimg/internal/store"
)

const usage = `usage: aimg <command> [flags]

commands:
  serve     run the AIMG server (configuration from AIMG_* environment variables)
  migrate   apply database migrations and exit
  version   print the version
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
	case "dev":
		return seed(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "aimg", version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// loadConfig reads the environment; flags given to a command override it.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (AIMG_ADDR)")
	dataDir := fs.String("data-dir", "", "data directory (AIMG_DATA_DIR)")
	dbURL := fs.String("database-url", "", "database URL (AIMG_DATABASE_URL)")
	cfgFile := fs.String("config", "", "service config file (AIMG_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	return config.FromEnv(withOverrides(getenv, map[string]string{
		"AIMG_ADDR": *addr, "AIMG_DATA_DIR": *dataDir, "AIMG_DATABASE_URL": *dbURL, "AIMG_CONFIG": *cfgFile}))
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
	cfg, err := loadConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
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
	fmt.Fprintf(stdout, "AIMG %s listening on %s (API at %s/api, data in %s)\n", version(), cfg.PublicURL, cfg.PublicURL, cfg.DataDir)
	if a.AdminKeyGenerated {
		fmt.Fprintf(stdout, "Generated the admin key (X-Administration-Key), kept in %s/admin.key:\n  %s\n", cfg.DataDir, a.Config.AdminKey)
	}
	return a.Serve(ctx, ln)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	cur, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema at version %d (%s)\n", cur, st.Dialect())
	return nil
}

// version is the module version stamped by the Go toolchain, or the VCS revision.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
