package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Boosty is the Boosty payment provider (docs/payments.md "Boosty").
type Boosty struct {
	// APIURL is Boosty's API base, https://api.boosty.to; tests point it at a fake.
	APIURL string `yaml:"apiURL"`
	// RequestTimeout bounds one request to Boosty.
	RequestTimeout time.Duration `yaml:"requestTimeout"`
	// PageSize is how many subscribers one page of the list asks for;
	// MaxPages bounds the pages one lookup reads.
	PageSize int `yaml:"pageSize"`
	MaxPages int `yaml:"maxPages"`
	// MaxResponseBytes bounds one answer of Boosty.
	MaxResponseBytes int64 `yaml:"maxResponseBytes"`
}

func (b Boosty) validate() []error {
	var errs []error
	if u, err := url.Parse(b.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("config payments.boosty.apiURL: %q is not an http(s) URL", b.APIURL))
	}
	if b.RequestTimeout <= 0 || b.RequestTimeout > 5*time.Minute {
		errs = append(errs, fmt.Errorf("config payments.boosty.requestTimeout: must be between 0 and 5m, got %s", b.RequestTimeout))
	}
	if b.PageSize < 1 || b.PageSize > 1000 {
		errs = append(errs, fmt.Errorf("config payments.boosty.pageSize: must be between 1 and 1000, got %d", b.PageSize))
	}
	if b.MaxPages < 1 || b.MaxPages > 10000 {
		errs = append(errs, fmt.Errorf("config payments.boosty.maxPages: must be between 1 and 10000, got %d", b.MaxPages))
	}
	if b.MaxResponseBytes < 1024 || b.MaxResponseBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("config payments.boosty.maxResponseBytes: must be between 1024 and 1 GiB, got %d", b.MaxResponseBytes))
	}
	return errs
}

// ParseSecretsKey decodes AIMG_SECRETS_KEY: 32 bytes as 64 hex digits or
// as base64 (standard or URL alphabet, padded or not).
func ParseSecretsKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes, as 64 hex digits or base64 (e.g. openssl rand -hex 32)")
}
