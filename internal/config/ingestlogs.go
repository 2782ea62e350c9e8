package config

import (
	"errors"
	"fmt"
)

// IngestLogs bounds what one ingestLogs request writes to the server log
// (docs/security.md). The size of an entry is the sum of its text fields
// (message, apiSubscope, httpMethod, httpPath, httpUrl, errorName,
// errorMessage, errorStack).
type IngestLogs struct {
	MaxEntryBytes   int `yaml:"maxEntryBytes"`   // one entry, i.e. one log line's client text
	MaxRequestBytes int `yaml:"maxRequestBytes"` // all entries of one request together
}

// Validate says which bound is wrong.
func (l IngestLogs) Validate() error {
	var errs []error
	if l.MaxEntryBytes < 1024 {
		errs = append(errs, fmt.Errorf("config ingestLogs.maxEntryBytes: must be at least 1024, got %d", l.MaxEntryBytes))
	}
	if l.MaxRequestBytes < l.MaxEntryBytes {
		errs = append(errs, fmt.Errorf("config ingestLogs.maxRequestBytes: must be at least ingestLogs.maxEntryBytes, got %d", l.MaxRequestBytes))
	}
	return errors.Join(errs...)
}
