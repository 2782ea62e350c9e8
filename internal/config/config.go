// Package config holds the one Config struct: operator settings from the
// environment (the operator contract in DESIGN.md) and the service settings
// from an embedded default file, optionally overridden by AIMG_CONFIG.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultFile []byte

// Config is built once at start and passed down; nothing reads it globally.
type Config struct {
	Addr              string // AIMG_ADDR
	PublicURL         string // AIMG_PUBLIC_URL; default http://<Addr>
	DataDir           string // AIMG_DATA_DIR
	DatabaseURL       string // AIMG_DATABASE_URL; empty = SQLite in DataDir
	BlobURL           string // AIMG_BLOB_URL; empty = files in DataDir
	RedisURL          string // AIMG_REDIS_URL; empty = in-process rate limits
	AdminKey          string // AIMG_ADMIN_KEY; empty = generated on first start
	SecretsKey        string // AIMG_SECRETS_KEY: 32 bytes, hex or base64; empty = generated on first start
	SMTPURL           string // AIMG_SMTP_URL; empty = .eml files in DataDir/outbox
	TextURL           string // AIMG_TEXT_URL: the text provider; empty = builtin only
	TranslationURL    string // AIMG_TRANSLATION_URL: the translation provider; empty = none
	EmbeddedWorker    bool   // AIMG_EMBEDDED_WORKER
	WorkerConcurrency int    // AIMG_WORKER_CONCURRENCY
	ConfigFile        string // AIMG_CONFIG
	PGQuery           string // AIMG_PGQUERY: off|readonly|readwrite
	LogFormat         string // AIMG_LOG_FORMAT: json|text
	LogLevel          string // AIMG_LOG_LEVEL: debug|info|warn|error

	// PGQueryDatabaseURL (AIMG_PGQUERY_DATABASE_URL, PostgreSQL only) is the
	// role readonly pgQuery runs as; empty = the service's own.
	PGQueryDatabaseURL string

	Service Service // from default.yaml, then AIMG_CONFIG
}

// FromEnv builds the Config from environment variables and the config files.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:              envOr(getenv, "AIMG_ADDR", "127.0.0.1:8080"),
		PublicURL:         getenv("AIMG_PUBLIC_URL"),
		DataDir:           envOr(getenv, "AIMG_DATA_DIR", "./data"),
		DatabaseURL:       getenv("AIMG_DATABASE_URL"),
		BlobURL:           getenv("AIMG_BLOB_URL"),
		RedisURL:          getenv("AIMG_REDIS_URL"),
		AdminKey:          getenv("AIMG_ADMIN_KEY"),
		SecretsKey:        getenv("AIMG_SECRETS_KEY"),
		SMTPURL:           getenv("AIMG_SMTP_URL"),
		TextURL:           getenv("AIMG_TEXT_URL"),
		TranslationURL:    getenv("AIMG_TRANSLATION_URL"),
		ConfigFile:        getenv("AIMG_CONFIG"),
		PGQuery:           envOr(getenv, "AIMG_PGQUERY", "readonly"),
		LogFormat:         envOr(getenv, "AIMG_LOG_FORMAT", "text"),
		LogLevel:          envOr(getenv, "AIMG_LOG_LEVEL", "info"),
		EmbeddedWorker:    true,
		WorkerConcurrency: 2,
	}
	c.PGQueryDatabaseURL = getenv("AIMG_PGQUERY_DATABASE_URL")
	var errs []error
	if v := getenv("AIMG_EMBEDDED_WORKER"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AIMG_EMBEDDED_WORKER: %q is not a boolean", v))
		}
		c.EmbeddedWorker = b
	}
	if v := getenv("AIMG_WORKER_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AIMG_WORKER_CONCURRENCY: %q is not an integer", v))
		}
		c.WorkerConcurrency = n
	}
	svc, err := LoadService(c.ConfigFile)
	if err != nil {
		errs = append(errs, err)
	}
	svc.OAuth.fromEnv(getenv)
	svc.Payments.fromEnv(getenv)
	c.Service = svc
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// LoadService reads the embedded defaults and overlays path (YAML or JSON;
// JSON is YAML) when it is not empty. Lists in the file replace the
// defaults, except models, which merge by modelID (mergeModels).
func LoadService(path string) (Service, error) {
	var s Service
	if err := yaml.Unmarshal(defaultFile, &s); err != nil {
		return s, fmt.Errorf("embedded default config: %w", err)
	}
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("AIMG_CONFIG: %w", err)
	}
	defaults := s.Models
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("AIMG_CONFIG %s: %w", path, err)
	}
	if err := s.mergeModels(defaults, data); err != nil {
		return s, fmt.Errorf("AIMG_CONFIG %s: %w", path, err)
	}
	return s, nil
}

// Validate says what is wrong, naming each bad setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("AIMG_ADDR", "%q is not host:port", c.Addr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("AIMG_PUBLIC_URL", "%q is not an http(s) URL", c.PublicURL)
	}
	if c.DataDir == "" {
		bad("AIMG_DATA_DIR", "must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		bad("AIMG_DATABASE_URL", "must start with postgres://, postgresql:// or sqlite:")
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > 256 {
		bad("AIMG_WORKER_CONCURRENCY", "must be between 1 and 256, got %d", c.WorkerConcurrency)
	}
	switch c.PGQuery {
	case "off", "readonly", "readwrite":
	default:
		bad("AIMG_PGQUERY", "must be off, readonly or readwrite, got %q", c.PGQuery)
	}
	if u := c.PGQueryDatabaseURL; u != "" && (!strings.HasPrefix(u, "postgres") || !strings.HasPrefix(c.DatabaseURL, "postgres")) {
		bad("AIMG_PGQUERY_DATABASE_URL", "must be a postgres:// URL, and AIMG_DATABASE_URL one too")
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		bad("AIMG_LOG_FORMAT", "must be json or text, got %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("AIMG_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		bad("AIMG_ADMIN_KEY", "must be at least 16 characters")
	}
	if c.SecretsKey != "" {
		if _, err := ParseSecretsKey(c.SecretsKey); err != nil {
			bad("AIMG_SECRETS_KEY", "%v", err)
		}
	}
	if err := c.Service.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
