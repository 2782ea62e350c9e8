package config

import (
	_ "embed"
	"fmt"
	"time"
)

// Media is the server-wide budget for decoding untrusted images (profile
// pictures, resized files, later img2img inputs): media.DecoderConfig.
type Media struct {
	MaxDecodedBytes      int64         `yaml:"maxDecodedBytes"`      // one image, decoded (pixels x bytes per pixel)
	MaxInFlightBytes     int64         `yaml:"maxInFlightBytes"`     // all decodes under way at once
	MaxConcurrentDecodes int           `yaml:"maxConcurrentDecodes"` // decodes (with their resize and encode) at once
	DecodeWait           time.Duration `yaml:"decodeWait"`           // wait for a turn, then 503 with Retry-After
}

// Files tunes the file server's resized variants.
type Files struct {
	// VariantSizes are the long sides a resize request snaps up to,
	// ascending; empty turns resizing off.
	VariantSizes []int `yaml:"variantSizes"`
	// MaxVariantsPerFile caps the stored variants of one file; further sizes
	// are made and served but not stored.
	MaxVariantsPerFile int `yaml:"maxVariantsPerFile"`
}

// validateMediaFiles checks the media and files sections.
func (s Service) validateMediaFiles() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	m := s.Media
	if m.MaxDecodedBytes <= 0 {
		bad("media.maxDecodedBytes", "must be positive, got %d", m.MaxDecodedBytes)
	}
	if m.MaxInFlightBytes < m.MaxDecodedBytes {
		bad("media.maxInFlightBytes", "must be at least media.maxDecodedBytes, got %d", m.MaxInFlightBytes)
	}
	if m.MaxConcurrentDecodes < 1 {
		bad("media.maxConcurrentDecodes", "must be at least 1, got %d", m.MaxConcurrentDecodes)
	}
	if m.DecodeWait <= 0 {
		bad("media.decodeWait", "must be positive, got %s", m.DecodeWait)
	}
	for i, size := range s.Files.VariantSizes {
		if size < 1 || size > maxVariantSide {
			bad(fmt.Sprintf("files.variantSizes[%d]", i), "must be between 1 and %d, got %d", maxVariantSide, size)
		} else if i > 0 && size <= s.Files.VariantSizes[i-1] {
			bad(fmt.Sprintf("files.variantSizes[%d]", i), "must be larger than the size before it (ascending), got %d", size)
		}
	}
	if s.Files.MaxVariantsPerFile < 0 {
		bad("files.maxVariantsPerFile", "must not be negative, got %d", s.Files.MaxVariantsPerFile)
	}
	return errs
}

// maxVariantSide is media.MaxResizeSide (config does not import media).
const maxVariantSide = 4096
