// Package blob keeps file bytes (generated images, uploads) in a local
// directory or in an S3-compatible object store behind one small interface.
//
// Keys are slash-separated relative paths such as "items/ab/cd/<uuid>.png".
// Every backend validates keys with ValidateKey, so a key can never name a
// file outside the local directory or a different S3 prefix.
//
// The interface itself is in blob/blobstore, which services import without
// linking the S3 client.
package blob

import (
	"context"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf8"

	"aimg/internal/blob/blobstore"
)

// The errors and types of the interface are blobstore's, which holds them
// apart from the implementations here.
var (
	ErrNotFound     = blobstore.ErrNotFound
	ErrInvalidKey   = blobstore.ErrInvalidKey
	ErrSizeMismatch = blobstore.ErrSizeMismatch
)

// MaxKeyLen is the longest accepted key in bytes; MaxKeySegmentLen the longest
// segment between slashes (the usual file name limit, so both backends accept
// the same keys).
const (
	MaxKeyLen        = 512
	MaxKeySegmentLen = 255
)

type (
	// Info is blobstore.Info: describes a stored blob.
	Info = blobstore.Info
	// Object is blobstore.Object: an open blob.
	Object = blobstore.Object
	// Store is blobstore.Store: the blob store interface, which Local and
	// S3 implement.
	Store = blobstore.Store
)

// ValidateKey reports whether key is acceptable to every backend: 1 to
// MaxKeyLen bytes of UTF-8 without control characters or backslashes, made of
// non-empty slash-separated segments that do not start with "." (this rules
// out "." and "..", and keeps the local store's temporary files apart from
// blobs). The error wraps ErrInvalidKey and quotes the key.
func ValidateKey(key string) error {
	invalid := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
	}
	switch {
	case key == "":
		return invalid("empty")
	case len(key) > MaxKeyLen:
		return invalid(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	case !utf8.ValidString(key):
		return invalid("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return invalid("starts with /")
	case strings.HasSuffix(key, "/"):
		return invalid("ends with /")
	}
	for _, r := range key {
		switch {
		case r == 0:
			return invalid("contains NUL")
		case r == '\\':
			return invalid("contains a backslash")
		case r < 0x20 || r == 0x7f:
			return invalid("contains a control character")
		}
	}
	for segment := range strings.SplitSeq(key, "/") {
		switch {
		case segment == "":
			return invalid("contains an empty path segment")
		case segment == "..":
			return invalid(`contains a ".." segment`)
		case strings.HasPrefix(segment, "."):
			return invalid(`has a segment starting with "."`)
		case len(segment) > MaxKeySegmentLen:
			return invalid(fmt.Sprintf("has a segment longer than %d bytes", MaxKeySegmentLen))
		}
	}
	return nil
}

// contentTypeForKey derives a content type from the key's extension.
func contentTypeForKey(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// checkedReader feeds a Put. It stops with the context's error once ctx is
// done, and when size >= 0 it insists on exactly size bytes, so a short or
// long body fails the Put instead of storing a truncated blob. The first error
// it returns is kept in err, because backends may replace it with their own.
type checkedReader struct {
	ctx       context.Context
	r         io.Reader
	remaining int64 // -1: size unknown
	probed    bool  // looked past the declared size already
	err       error
}

func newCheckedReader(ctx context.Context, r io.Reader, size int64) *checkedReader {
	if size < 0 {
		size = -1
	}
	return &checkedReader{ctx: ctx, r: r, remaining: size}
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.read(p)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (c *checkedReader) read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.remaining < 0 {
		return c.r.Read(p)
	}
	if c.remaining == 0 {
		if !c.probed {
			if err := c.probe(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.r.Read(p)
	c.remaining -= int64(n)
	switch {
	case err == io.EOF && c.remaining > 0:
		return n, fmt.Errorf("%w: body ended %d bytes early", ErrSizeMismatch, c.remaining)
	case err == io.EOF:
		c.probed = true // the reader itself ended exactly at the declared size
		return n, io.EOF
	case err != nil || c.remaining > 0:
		return n, err
	}
	// The declared size is reached. Look for one more byte now, before the
	// backend commits, because it may never read past the declared size.
	return n, c.probe()
}

// probe reads once more after the declared size: nil at EOF, else an error.
func (c *checkedReader) probe() error {
	c.probed = true
	var extra [1]byte
	for range 100 {
		m, err := c.r.Read(extra[:])
		switch {
		case m > 0:
			return fmt.Errorf("%w: body is longer", ErrSizeMismatch)
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
	return io.ErrNoProgress
}

// failure explains why a Put failed, preferring the reader's own error or the
// context's over what the backend made of them.
func (c *checkedReader) failure(err error) error {
	if c.err != nil {
		return c.err
	}
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}
