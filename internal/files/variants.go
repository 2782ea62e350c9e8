package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"aimg/internal/aimg"
	"aimg/internal/blob/blobstore"
	"aimg/internal/media"
)

// snap maps a resize request onto the configured sizes, so that a file has
// few variants whatever clients ask for:
//
//   - "fill" with a zero side crops nothing: it is "fit".
//   - The request's longer side is rounded up to the next size; the other
//     side is scaled with it (the box keeps its shape, so a fill keeps its
//     crop) and a zero side stays zero (derived from the image).
//   - Past the largest size, "fit" is the original (0x0: no resize) and
//     "fill" is made at the largest size.
//
// Sizes must be ascending and non-empty; width and height not both 0.
func snap(sizes []int, width, height int, mode string) (int, int, string) {
	if mode == media.ModeFill && (width == 0 || height == 0) {
		mode = media.ModeFit
	}
	long := max(width, height)
	target := sizes[len(sizes)-1]
	if long > target {
		if mode == media.ModeFit {
			return 0, 0, mode
		}
	} else {
		for _, size := range sizes {
			if size >= long {
				target = size
				break
			}
		}
	}
	scaled := func(side int) int {
		if side == 0 {
			return 0
		}
		return max(1, int((int64(side)*int64(target)+int64(long)/2)/int64(long)))
	}
	return scaled(width), scaled(height), mode
}

// variantKey names a resized variant beside the original: the original's key
// is unique per upload, so a cached variant can never outlive its original.
// An original named "original" has a directory of its own, which holds its
// variants; any other (FreshBlobKey) shares its directory, so its
// variants' names begin with its own.
func variantKey(f *aimg.File, o OpenOptions) string {
	size := fmt.Sprintf("%dx%d-%s", o.Width, o.Height, o.Mode)
	if path.Base(f.BlobKey) == "original" {
		return path.Join(path.Dir(f.BlobKey), size)
	}
	return f.BlobKey + "_" + size
}

func variantETag(f *aimg.File, o OpenOptions) string {
	sum := f.Checksum
	if len(sum) > 32 {
		sum = sum[:32]
	}
	return fmt.Sprintf(`"%s-%dx%d-%s"`, sum, o.Width, o.Height, o.Mode)
}

// openVariant serves the stored variant, or makes it: the original is
// verified first so a variant is never made from corrupted bytes, except
// with SkipChecksum, where the result is served but not stored. Making one
// takes a token of the client's resize rate limit and a turn of the decode
// budget; a variant the size of the original (never scaled up) is the
// original's bytes.
func (s *Service) openVariant(ctx context.Context, f *aimg.File, o OpenOptions) (*Content, error) {
	key := variantKey(f, o)
	c := &Content{Name: f.Name, ContentType: f.ContentType, ETag: variantETag(f, o)}
	obj, err := s.blobs.Open(ctx, key)
	if err == nil {
		c.ReadSeeker, c.closer = obj, obj
		c.Size, c.ModTime = obj.Info().Size, obj.Info().ModTime
		return c, nil
	}
	if !errors.Is(err, blobstore.ErrNotFound) {
		return nil, storeUnavailable(ctx, fmt.Errorf("open variant of %s: %w", f.ID, err))
	}
	if f.Size > MaxResizeSourceBytes {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "width",
			Message: fmt.Sprintf("width, height: files over %d MiB are not resized", MaxResizeSourceBytes>>20)}
	}
	// Never scaled up: when the header says the result would be the image
	// itself, serve the original (as getFile without a size would), which
	// costs no token and no decode.
	if head, err := s.readHead(ctx, f); err != nil {
		return nil, err
	} else if info, err := media.Inspect(head); err == nil {
		if _, _, same := noUpscale(info, o.Width, o.Height, o.Mode); same {
			orig, err := s.openOriginal(ctx, f, o.SkipChecksum)
			if err != nil {
				return nil, err
			}
			orig.ETag = c.ETag
			if !orig.Verified {
				orig.ETag = "W/" + orig.ETag
			}
			return orig, nil
		}
	}
	if err := s.allowResize(ctx, o.ClientIP); err != nil {
		return nil, err
	}
	// The turn bounds, besides the decode, how many originals are read into
	// memory at once for resizing.
	turn, err := s.rs.Decoder.Turn(ctx)
	if err != nil {
		return nil, s.decodeError(err)
	}
	defer turn.Release()
	data, verified, err := s.readOriginal(ctx, f, o.SkipChecksum)
	if err != nil {
		return nil, err
	}
	if !verified {
		c.ETag = "W/" + c.ETag
	}
	info, err := media.Inspect(data)
	if err != nil {
		return nil, cannotResize(err)
	}
	width, height, same := noUpscale(info, o.Width, o.Height, o.Mode)
	if same { // the header was past the head read above
		c.ReadSeeker, c.Size, c.ModTime = bytes.NewReader(data), int64(len(data)), f.CreatedAt
		return c, nil
	}
	img, _, err := turn.Decode(ctx, data, media.Limits{MaxPixels: MaxResizeSourcePixels})
	if err != nil {
		return nil, s.decodeError(err)
	}
	resized, err := media.Resize(img, width, height, o.Mode)
	if err != nil {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "width", Message: "width, height: " + err.Error(), Err: err}
	}
	var buf bytes.Buffer
	if err := media.Encode(&buf, resized, media.FormatFor(f.ContentType)); err != nil {
		return nil, aimg.Internal(fmt.Errorf("encode variant of %s: %w", f.ID, err))
	}
	turn.Release()
	c.ReadSeeker, c.Size, c.ModTime = bytes.NewReader(buf.Bytes()), int64(buf.Len()), s.now()
	if verified {
		s.storeVariant(ctx, f, key, buf.Bytes())
	}
	return c, nil
}

// decodeError maps the decode budget's refusals.
func (s *Service) decodeError(err error) error {
	switch {
	case errors.Is(err, media.ErrBusy):
		return &aimg.Error{Code: aimg.CodeUnavailable, RetryAfter: s.rs.Decoder.RetryAfter(),
			Message: "Too many images are being resized; try again shortly", Err: err}
	case errors.Is(err, media.ErrTooLarge), errors.Is(err, media.ErrCorrupt), errors.Is(err, media.ErrUnsupported):
		return cannotResize(err)
	}
	return err
}

// headBytes is how much of an original readHead reads: enough for the
// header of every format but a JPEG with huge metadata segments.
const headBytes = 64 << 10

// readHead reads the first bytes of the original, unverified: only the
// decision to serve the original unresized rests on them, and that serves
// the original through its own checks.
func (s *Service) readHead(ctx context.Context, f *aimg.File) ([]byte, error) {
	obj, err := s.blobs.Open(ctx, f.BlobKey)
	if err != nil {
		return nil, s.blobError(ctx, f, err)
	}
	defer obj.Close()
	head, err := io.ReadAll(io.LimitReader(obj, headBytes))
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", f.ID, err)
	}
	return head, nil
}

func cannotResize(err error) error {
	return &aimg.Error{Code: aimg.CodeInvalid, Field: "width",
		Message: "width, height: the file cannot be resized: " + err.Error(), Err: err}
}

// noUpscale returns the size to resize to, never larger than the image: a
// fit that would not shrink it, or a fill whose crop is the whole image at
// its own size, is the image itself (same). A fill larger than its crop is
// made at the crop's size.
func noUpscale(info media.Info, width, height int, mode string) (w, h int, same bool) {
	if mode == media.ModeFill && width > 0 && height > 0 {
		cw, ch := media.FillCrop(info.Width, info.Height, width, height)
		if width <= cw && height <= ch {
			return width, height, false
		}
		return cw, ch, cw == info.Width && ch == info.Height
	}
	fw, fh := media.FitSize(info.Width, info.Height, width, height)
	return width, height, fw >= info.Width || fh >= info.Height
}

// allowResize takes a token of the client's resize rate limit.
func (s *Service) allowResize(ctx context.Context, clientIP string) error {
	if s.rs.Rule == nil {
		return nil
	}
	res, err := s.rs.Limiter.Allow(ctx, ResizeRateLimit, clientIP, *s.rs.Rule)
	if err != nil {
		// Fail closed: the limit is what keeps resizing from being a CPU sink.
		return &aimg.Error{Code: aimg.CodeUnavailable, Message: "Rate limiting is unavailable; try again later", Err: err}
	}
	if !res.Allowed {
		secs := max(1, int(res.RetryAfter.Seconds()+0.999))
		return &aimg.Error{Code: aimg.CodeRateLimited, RetryAfter: res.RetryAfter,
			Message: fmt.Sprintf("Too many new image sizes requested; try again in %d seconds (sizes already made are served meanwhile)", secs)}
	}
	return nil
}

// storeVariant keeps a made variant unless the file has MaxVariants already.
// Failures are logged: the variant has been made and is served anyway.
func (s *Service) storeVariant(ctx context.Context, f *aimg.File, key string, data []byte) {
	unlock := s.storing.Lock(f.ID)
	defer unlock()
	keys, err := s.st.FileVariantKeys(ctx, f.ID)
	if err != nil {
		s.log.WarnContext(ctx, "could not count the variants of a file", "file", f.ID, "err", err)
		return
	}
	if len(keys) >= s.rs.MaxVariants {
		s.log.DebugContext(ctx, "variant served, not stored: the file has its maximum of variants",
			"file", f.ID, "key", key, "max", s.rs.MaxVariants)
		return
	}
	if err := s.blobs.Put(ctx, key, bytes.NewReader(data), int64(len(data)), f.ContentType); err != nil {
		s.log.WarnContext(ctx, "could not store a resized variant", "file", f.ID, "key", key, "err", err)
		return
	}
	if err := s.st.AddFileVariant(ctx, f.ID, key, s.now()); err != nil {
		// Without its record nobody would remove the blob: take it back
		// (also when the file was removed while we were resizing).
		s.deleteBlob(context.WithoutCancel(ctx), f.ID, key)
		if !aimg.IsNotFound(err) {
			s.log.WarnContext(ctx, "could not record a resized variant", "file", f.ID, "key", key, "err", err)
		}
	}
}
