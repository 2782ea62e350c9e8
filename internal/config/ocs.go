package config

import (
	"fmt"
	"time"
)

// OCS is the Nextcloud-compatible surface and its task engine
// (docs/decisions.md "The OCS surface", budgets in docs/security.md).
type OCS struct {
	DefaultImages int           `yaml:"defaultImages"` // text2image numberOfImages when not given
	MaxImages     int           `yaml:"maxImages"`     // the most images one task may ask
	MaxInputBytes int           `yaml:"maxInputBytes"` // a text input (prompt, text to translate)
	TaskTTL       time.Duration `yaml:"taskTTL"`       // tasks are removed this long after their last update
	// TaskExpiryInterval is how often (one replica of several) expired tasks are removed.
	TaskExpiryInterval time.Duration `yaml:"taskExpiryInterval"`
	ListLimit          int           `yaml:"listLimit"`       // the most tasks one listing returns
	Runners            int           `yaml:"runners"`         // text tasks run at once per replica
	Lease              time.Duration `yaml:"lease"`           // a running text task's lease, renewed by heartbeats
	MaxAttempts        int           `yaml:"maxAttempts"`     // a text task's tries
	RunTimeout         time.Duration `yaml:"runTimeout"`      // one try of a text task
	PollInterval       time.Duration `yaml:"pollInterval"`    // idle runners and the image follower look this often
	ProviderTimeout    time.Duration `yaml:"providerTimeout"` // one call to the text or translation server
	Webhooks           Webhooks      `yaml:"webhooks"`
}

// Webhooks are the TaskProcessing webhooks' budgets.
type Webhooks struct {
	Attempts int           `yaml:"attempts"` // deliveries tried before giving up
	Backoff  time.Duration `yaml:"backoff"`  // wait after the first failure, doubled each time
	Timeout  time.Duration `yaml:"timeout"`  // one delivery
	// AllowPrivate lets webhookUri name loopback and private addresses.
	AllowPrivate bool `yaml:"allowPrivate"`
}

func (o OCS) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config ocs.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.MaxImages < 1 || o.MaxImages > 64 {
		bad("maxImages", "must be between 1 and 64, got %d", o.MaxImages)
	}
	if o.DefaultImages < 1 || o.DefaultImages > o.MaxImages {
		bad("defaultImages", "must be between 1 and maxImages (%d), got %d", o.MaxImages, o.DefaultImages)
	}
	if o.MaxInputBytes < 1 || o.MaxInputBytes > 16<<20 {
		bad("maxInputBytes", "must be between 1 and 16777216, got %d", o.MaxInputBytes)
	}
	if o.ListLimit < 1 {
		bad("listLimit", "must be at least 1, got %d", o.ListLimit)
	}
	if o.Runners < 0 {
		bad("runners", "must not be negative, got %d", o.Runners)
	}
	if o.MaxAttempts < 1 {
		bad("maxAttempts", "must be at least 1, got %d", o.MaxAttempts)
	}
	if o.Webhooks.Attempts < 1 {
		bad("webhooks.attempts", "must be at least 1, got %d", o.Webhooks.Attempts)
	}
	for name, d := range map[string]time.Duration{"taskTTL": o.TaskTTL, "taskExpiryInterval": o.TaskExpiryInterval, "lease": o.Lease, "runTimeout": o.RunTimeout,
		"pollInterval": o.PollInterval, "providerTimeout": o.ProviderTimeout, "webhooks.backoff": o.Webhooks.Backoff,
		"webhooks.timeout": o.Webhooks.Timeout} {
		if d <= 0 {
			bad(name, "must be positive, got %s", d)
		}
	}
	if o.Lease > 0 && o.Lease < 3*time.Second {
		bad("lease", "must be at least 3s (heartbeats every third of it), got %s", o.Lease)
	}
	return errs
}
