package config

import (
	"fmt"
	"time"
)

// HTTP is the http section: body limits, connection lifetimes, proxies.
type HTTP struct {
	MaxBodyBytes      int64         `yaml:"maxBodyBytes"`
	MaxImageBodyBytes int64         `yaml:"maxImageBodyBytes"`
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdownTimeout"`
	TrustProxyHeaders bool          `yaml:"trustProxyHeaders"`

	// Connection lifetimes (validateTimeouts; docs/security.md).
	ReadTimeout  time.Duration `yaml:"readTimeout"`  // a whole request, body included
	WriteTimeout time.Duration `yaml:"writeTimeout"` // a response; streaming downloads: without progress
	IdleTimeout  time.Duration `yaml:"idleTimeout"`  // a keep-alive connection between requests
	DrainDelay   time.Duration `yaml:"drainDelay"`   // serving on with /readyz at 503 after SIGTERM
}

// validateTimeouts checks the connection lifetimes of the http section.
func (h HTTP) validateTimeouts() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config http.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if h.ReadHeaderTimeout <= 0 {
		bad("readHeaderTimeout", "must be positive")
	}
	if h.ReadTimeout < h.ReadHeaderTimeout {
		bad("readTimeout", "must be at least readHeaderTimeout (%s), got %s", h.ReadHeaderTimeout, h.ReadTimeout)
	}
	if h.WriteTimeout <= 0 {
		bad("writeTimeout", "must be positive")
	}
	if h.IdleTimeout <= 0 {
		bad("idleTimeout", "must be positive")
	}
	if h.DrainDelay < 0 {
		bad("drainDelay", "must not be negative")
	}
	if h.ShutdownTimeout <= 0 {
		bad("shutdownTimeout", "must be positive")
	}
	return errs
}
