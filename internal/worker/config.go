package worker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config tunes a Pool. A zero field takes the default named beside it;
// validate says what is wrong with the rest (NewPool returns its error).
type Config struct {
	// Name is the pool's worker identity, the prefix of its slots' lease
	// owners ("<Name>/<slot>"). A stable Name (the embedded worker keeps one
	// per data dir) lets a restarted pool take back its predecessor's Jobs at
	// once instead of waiting for their leases to expire. Default: a new
	// host-pid-random name each time. At most 100 characters, no '/' and no
	// white space.
	Name string
	// Concurrency is the number of Jobs rendered at once (DefaultConcurrency).
	Concurrency int
	// ModelIDs are the Models the pool renders; at least one.
	ModelIDs []string
	// HeartbeatInterval is how often a running Job's lease is extended;
	// zero: a third of the lease the server granted the Job
	// (Job.LeaseDuration), or DefaultHeartbeatInterval when the server did
	// not say. Keep it well under the lease duration.
	HeartbeatInterval time.Duration
	// PollInterval is how often an idle slot looks for work (DefaultPollInterval).
	PollInterval time.Duration
	// CallTimeout bounds each call to the source (DefaultCallTimeout).
	CallTimeout time.Duration
}

// The defaults of Config's zero fields.
const (
	DefaultConcurrency       = 1
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultPollInterval      = time.Second
	DefaultCallTimeout       = 30 * time.Second
)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = RandomName()
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = DefaultCallTimeout
	}
	return c
}

// validate names every bad field (after defaults).
func (c Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("worker config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := ValidName(c.Name); err != nil {
		bad("Name", "%v", err)
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		bad("Concurrency", "must be between 1 and 1024, got %d", c.Concurrency)
	}
	if len(c.ModelIDs) == 0 {
		bad("ModelIDs", "must name at least one Model")
	}
	for i, id := range c.ModelIDs {
		if id == "" {
			bad(fmt.Sprintf("ModelIDs[%d]", i), "must not be empty")
		}
	}
	for name, d := range map[string]time.Duration{
		"HeartbeatInterval": c.HeartbeatInterval, "PollInterval": c.PollInterval, "CallTimeout": c.CallTimeout,
	} {
		if d < 0 {
			bad(name, "must be positive, got %s", d)
		}
	}
	return errors.Join(errs...)
}

// ValidName checks a worker name: 1 to 100 characters, no '/' (it separates
// the slot number) and no white space.
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case len(name) > 100:
		return fmt.Errorf("must be at most 100 characters, got %d", len(name))
	case strings.ContainsAny(name, "/ \t\r\n"):
		return fmt.Errorf("%q must not contain '/' or white space", name)
	}
	return nil
}

// RandomName is a fresh worker name: host, process id and 8 random hex digits.
func RandomName() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return '-'
		}
		return r
	}, host)
	if len(host) > 60 {
		host = host[:60]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
