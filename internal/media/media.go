// Package media decodes, validates, resizes and encodes images: profile
// pictures (any of PNG, JPEG, GIF, WebP in, a 128x128 WebP out) and on-the-fly
// resizing for the file server. It knows nothing of HTTP or storage.
package media

import "errors"

// Sentinel errors. Functions wrap them with detail, so test with errors.Is and
// show err.Error() to the client: the messages are meant to be read by people.
var (
	ErrInvalidDataURI = errors.New("invalid data URI")
	ErrUnsupported    = errors.New("unsupported image format")
	ErrTooLarge       = errors.New("image too large")
	ErrCorrupt        = errors.New("corrupt image")
)

// Limits bound what Decode accepts. A zero field means no limit on that axis.
type Limits struct {
	MaxBytes  int64 // size of the encoded image
	MaxPixels int64 // width * height, checked before the pixels are allocated
	// MaxDecodedBytes bounds the memory the decode allocates (Info.DecodedBytes:
	// pixels times bytes per pixel, 16-bit channels and alpha counted), checked
	// from the header before the pixels are allocated.
	MaxDecodedBytes int64
}

// Profile picture rules (DECISIONS.md, "Profile pictures").
const (
	ProfilePictureMaxBytes  = 10 << 20   // 10 MiB, decoded from base64
	ProfilePictureMaxPixels = 40_000_000 // 40 megapixels
	ProfilePictureSize      = 128        // output side, in pixels
)

// ProfilePictureLimits returns the Limits for profile picture uploads.
func ProfilePictureLimits() Limits {
	return Limits{MaxBytes: ProfilePictureMaxBytes, MaxPixels: ProfilePictureMaxPixels}
}
