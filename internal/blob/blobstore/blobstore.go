// Package blobstore is the blob store's interface, apart from its
// implementations (package blob: a local directory, S3-compatible object
// storage), so that the services that keep bytes in it depend on neither
// the S3 client nor net/http.
package blobstore

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound is returned (wrapped) by Open and Stat when the key holds no blob.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey is returned (wrapped) for keys that blob.ValidateKey rejects.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrSizeMismatch is returned (wrapped) by Put when the reader yields more
	// or fewer bytes than the declared size; nothing is stored.
	ErrSizeMismatch = errors.New("blob: body size differs from declared size")
)

// Info describes a stored blob.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Object is an open blob. It seeks, so http.ServeContent can answer range
// requests from it. The caller must Close it.
type Object interface {
	io.ReadSeekCloser
	Info() Info
}

// Store is a blob store. Implementations are safe for concurrent use.
type Store interface {
	// Put stores the bytes of r under key, replacing any previous blob. size is
	// the exact byte count, or -1 when unknown. Readers see either the old or
	// the new blob, never a partial one; a failed Put leaves the old one.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open opens the blob for reading; ErrNotFound (wrapped) when absent.
	// Remote backends read under ctx, so it must outlive the Object.
	Open(ctx context.Context, key string) (Object, error)
	// Stat describes the blob; ErrNotFound (wrapped) when absent.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the blob; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store is usable (for /readyz).
	Ping(ctx context.Context) error
}
