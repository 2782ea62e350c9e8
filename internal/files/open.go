package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/blob/blobstore"
	"aimg/internal/media"
)

// OpenOptions selects what Open returns.
type OpenOptions struct {
	SkipChecksum bool   // serve the original without verifying it
	Width        int    // resize: 0 = derived from Height (or no resize when both are 0)
	Height       int    // resize: 0 = derived from Width
	Mode         string // media.ModeFit (default) or media.ModeFill
	ClientIP     string // the caller's address, the key of the resize rate limit
}

// Content is what to serve. It seeks, for range requests; Close it.
type Content struct {
	io.ReadSeeker
	Name        string
	ContentType string
	Size        int64
	ModTime     time.Time
	ETag        string // quoted; weak (W/) for unverified bytes
	Verified    bool   // the bytes matched the checksum (originals only)
	closer      io.Closer
}

// Close releases the underlying blob, if any.
func (c *Content) Close() error {
	if c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// Open returns the file's original bytes, verified against the checksum
// unless o.SkipChecksum, or a resized variant (PNG, JPEG and GIF only) from
// the variant cache, made on first request.
func (s *Service) Open(ctx context.Context, id string, o OpenOptions) (*Content, error) {
	f, err := s.lookup(ctx, id, &o)
	if err != nil {
		return nil, err
	}
	if o.Width == 0 && o.Height == 0 {
		return s.openOriginal(ctx, f, o.SkipChecksum)
	}
	return s.openVariant(ctx, f, o)
}

// VerifiedETag is the strong entity tag Open gives the verified content,
// from the metadata alone: a client revalidating a copy it got verified
// needs no read of the file. Without verification (SkipChecksum) there is
// none: ok is false.
func (s *Service) VerifiedETag(ctx context.Context, id string, o OpenOptions) (etag string, ok bool, err error) {
	f, err := s.lookup(ctx, id, &o)
	if err != nil || o.SkipChecksum {
		return "", false, err
	}
	if o.Width == 0 && o.Height == 0 {
		return `"` + f.Checksum + `"`, true, nil
	}
	return variantETag(f, o), true, nil
}

// lookup checks the options (filling in the default mode) and reads the
// file's metadata.
func (s *Service) lookup(ctx context.Context, id string, o *OpenOptions) (*aimg.File, error) {
	if id == "" {
		return nil, aimg.Invalid("id", "is required")
	}
	if o.Width < 0 {
		return nil, aimg.Invalid("width", "must not be negative")
	}
	if o.Height < 0 {
		return nil, aimg.Invalid("height", "must not be negative")
	}
	switch o.Mode {
	case "":
		o.Mode = media.ModeFit
	case media.ModeFit, media.ModeFill:
	default:
		return nil, aimg.Invalid("mode", "must be %q or %q", media.ModeFit, media.ModeFill)
	}
	if o.Width > media.MaxResizeSide || o.Height > media.MaxResizeSide {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "width",
			Message: fmt.Sprintf("width, height: at most %d pixels per side", media.MaxResizeSide)}
	}
	f, err := s.st.FileByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.Width == 0 && o.Height == 0 {
		return f, nil
	}
	if !media.Resizable(f.ContentType) {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "width",
			Message: fmt.Sprintf("width, height: only PNG, JPEG and GIF files can be resized; this file is %s", f.ContentType)}
	}
	if len(s.rs.Sizes) == 0 {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "width", Message: "width, height: this server does not resize files"}
	}
	o.Width, o.Height, o.Mode = snap(s.rs.Sizes, o.Width, o.Height, o.Mode)
	return f, nil
}

func (s *Service) openOriginal(ctx context.Context, f *aimg.File, skipChecksum bool) (*Content, error) {
	obj, err := s.blobs.Open(ctx, f.BlobKey)
	if err != nil {
		return nil, s.blobError(ctx, f, err)
	}
	c := &Content{Name: f.Name, ContentType: f.ContentType, ModTime: f.CreatedAt, Size: obj.Info().Size}
	if skipChecksum {
		c.ReadSeeker, c.closer = obj, obj
		c.ETag = `W/"` + f.Checksum + `"`
		return c, nil
	}
	if obj.Info().Size != f.Size {
		obj.Close()
		return nil, s.corrupted(ctx, f, fmt.Sprintf("size %d, recorded %d", obj.Info().Size, f.Size))
	}
	h, err := checksumHash(f)
	if err != nil {
		obj.Close()
		return nil, aimg.Internal(err)
	}
	if f.Size <= inMemoryVerifyMax {
		data, err := io.ReadAll(io.TeeReader(io.LimitReader(obj, f.Size+1), h))
		obj.Close()
		if err != nil {
			return nil, fmt.Errorf("read file %s: %w", f.ID, err)
		}
		if err := s.verify(ctx, f, int64(len(data)), h); err != nil {
			return nil, err
		}
		c.ReadSeeker = bytes.NewReader(data)
	} else {
		n, err := io.Copy(h, obj)
		if err == nil {
			err = s.verify(ctx, f, n, h)
		}
		if err == nil {
			_, err = obj.Seek(0, io.SeekStart)
		}
		if err != nil {
			obj.Close()
			return nil, err
		}
		c.ReadSeeker, c.closer = obj, obj
	}
	c.ETag, c.Verified = `"`+f.Checksum+`"`, true
	return c, nil
}

func checksumHash(f *aimg.File) (hash.Hash, error) {
	if f.ChecksumAlgorithm != aimg.ChecksumSHA256 {
		return nil, fmt.Errorf("file %s: checksum algorithm %q is not supported", f.ID, f.ChecksumAlgorithm)
	}
	return sha256.New(), nil
}

func (s *Service) verify(ctx context.Context, f *aimg.File, n int64, h hash.Hash) error {
	if n != f.Size {
		return s.corrupted(ctx, f, fmt.Sprintf("read %d bytes, recorded %d", n, f.Size))
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.Checksum {
		return s.corrupted(ctx, f, fmt.Sprintf("sha256 %s, recorded %s", sum, f.Checksum))
	}
	return nil
}

func (s *Service) corrupted(ctx context.Context, f *aimg.File, detail string) error {
	s.log.ErrorContext(ctx, "file failed its integrity check", "file", f.ID, "key", f.BlobKey, "detail", detail)
	return aimg.Internal(fmt.Errorf("file %s: %w: %s", f.ID, ErrCorrupted, detail))
}

func (s *Service) blobError(ctx context.Context, f *aimg.File, err error) error {
	if errors.Is(err, blobstore.ErrNotFound) {
		return s.corrupted(ctx, f, "the blob is missing")
	}
	return storeUnavailable(ctx, fmt.Errorf("open file %s: %w", f.ID, err))
}

// readOriginal reads the original into memory, verifying it unless
// skipChecksum; verified reports whether it was verified and matched. A
// mismatch with skipChecksum is not an error, only not verified.
func (s *Service) readOriginal(ctx context.Context, f *aimg.File, skipChecksum bool) ([]byte, bool, error) {
	obj, err := s.blobs.Open(ctx, f.BlobKey)
	if err != nil {
		return nil, false, s.blobError(ctx, f, err)
	}
	defer obj.Close()
	h, err := checksumHash(f)
	if err != nil {
		return nil, false, aimg.Internal(err)
	}
	data, err := io.ReadAll(io.TeeReader(io.LimitReader(obj, MaxResizeSourceBytes+1), h))
	if err != nil {
		return nil, false, fmt.Errorf("read file %s: %w", f.ID, err)
	}
	if int64(len(data)) == f.Size && hex.EncodeToString(h.Sum(nil)) == f.Checksum {
		return data, true, nil
	}
	if !skipChecksum {
		return nil, false, s.verify(ctx, f, int64(len(data)), h)
	}
	if int64(len(data)) > MaxResizeSourceBytes {
		return nil, false, &aimg.Error{Code: aimg.CodeInvalid, Field: "width",
			Message: fmt.Sprintf("width, height: files over %d MiB are not resized", MaxResizeSourceBytes>>20)}
	}
	return data, false, nil
}
