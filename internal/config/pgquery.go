package config

import (
	_ "embed"
	"fmt"
	"time"
)

// PGQuery bounds one pgQuery call (docs/security.md).
type PGQuery struct {
	Timeout        time.Duration `yaml:"timeout"`        // the statement's time
	MaxRows        int           `yaml:"maxRows"`        // rows returned; more are counted, not returned
	MaxResultBytes int           `yaml:"maxResultBytes"` // JSON-encoded values returned; reading stops there
}

func (p PGQuery) validate() []error {
	var errs []error
	if p.Timeout <= 0 || p.Timeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("config pgQuery.timeout: must be between 0 and 10m, got %s", p.Timeout))
	}
	if p.MaxRows < 1 {
		errs = append(errs, fmt.Errorf("config pgQuery.maxRows: must be at least 1, got %d", p.MaxRows))
	}
	if p.MaxResultBytes < 1024 || p.MaxResultBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("config pgQuery.maxResultBytes: must be between 1024 and 1073741824, got %d", p.MaxResultBytes))
	}
	return errs
}
