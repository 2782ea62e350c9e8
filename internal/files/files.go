// Package files is the file server: uploads streamed into the blob store with
// their SHA-256 checksum recorded, downloads verified against it, and resized
// variants of images made on first request and kept in the blob store.
package files

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/blob/blobstore"
	"aimg/internal/media"
	"aimg/internal/ratelimit"
)

// Store is the part of the database the file server uses.
type Store interface {
	CreateFile(ctx context.Context, f *aimg.File) error
	FileByID(ctx context.Context, id string) (*aimg.File, error)
	DeleteFile(ctx context.Context, id string) (*aimg.File, []string, error)
	AddFileVariant(ctx context.Context, fileID, blobKey string, now time.Time) error
	FileVariantKeys(ctx context.Context, fileID string) ([]string, error)
}

// ErrCorrupted is wrapped by the errors of Open when the stored bytes are
// missing or do not match the recorded size and checksum. Such errors are
// internal (the request was fine); the HTTP layer says so plainly.
var ErrCorrupted = errors.New("the stored bytes of the file are missing or do not match its checksum")

const (
	// MaxIDLen is the longest client-defined id.
	MaxIDLen = 128
	// maxNameLen caps the stored file name (in bytes).
	maxNameLen = 255
	// inMemoryVerifyMax: originals up to this size are read once into
	// memory, verified and served from there; larger ones are hashed in one
	// pass and read again to be served.
	inMemoryVerifyMax = 4 << 20
	// MaxResizeSourceBytes and MaxResizeSourcePixels bound the originals
	// that are decoded to make a resized variant.
	MaxResizeSourceBytes  = 64 << 20
	MaxResizeSourcePixels = 100_000_000
)

// idPattern is the rule for client-defined ids: 1-128 of [A-Za-z0-9._-], not
// starting with a dot (so no id is "." or "..", and every id is a valid blob
// key segment).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// ResizeRateLimit names the per-client-address limit on making variants.
const ResizeRateLimit = "getFile.resize:ip"

// Resizing configures resized variants. The zero value turns resizing off.
type Resizing struct {
	// Sizes are the long sides requests snap up to, ascending, each at most
	// media.MaxResizeSide; empty turns resizing off (width/height: 400).
	Sizes []int
	// MaxVariants caps the stored variants of one file; further sizes are
	// made and served, not stored (0: none are stored).
	MaxVariants int
	// Decoder is the server's decode budget; required when Sizes is set.
	Decoder *media.Decoder
	// Limiter and Rule limit making variants per client address
	// (ResizeRateLimit); a nil Rule is no limit.
	Limiter ratelimit.Limiter
	Rule    *ratelimit.Rule
}

// Service is the file server.
type Service struct {
	st        Store
	blobs     blobstore.Store
	publicURL string
	now       func() time.Time
	log       *slog.Logger
	rs        Resizing
	storing   keyedMutex // one variant record at a time per file, so the cap holds
}

// New returns the file server. publicURL is the service's base URL, without
// a trailing slash, used to build the files' public URLs. It panics on a
// Resizing that config validation would have refused (a wiring bug).
func New(st Store, blobs blobstore.Store, publicURL string, now func() time.Time, log *slog.Logger, rs Resizing) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for i, size := range rs.Sizes {
		if size < 1 || size > media.MaxResizeSide || (i > 0 && size <= rs.Sizes[i-1]) {
			panic(fmt.Sprintf("files.New: variant sizes %v must ascend within 1..%d", rs.Sizes, media.MaxResizeSide))
		}
	}
	if len(rs.Sizes) > 0 && rs.Decoder == nil {
		panic("files.New: resizing needs a media.Decoder")
	}
	if rs.Rule != nil && rs.Limiter == nil {
		panic("files.New: a resize rate limit needs a Limiter")
	}
	return &Service{
		st:        st,
		blobs:     blobs,
		publicURL: strings.TrimRight(publicURL, "/"),
		now:       now,
		log:       log,
		rs:        rs,
	}
}

// PutInput is an upload.
type PutInput struct {
	ID             string // optional; generated (a UUID) when empty
	Name           string // the file name; defaults to the id
	ContentType    string // optional; derived from the name, else sniffed, when empty or application/octet-stream
	OwnerID        string
	CustomMetadata json.RawMessage // optional JSON object
	Body           io.Reader
}

// ValidateID checks a client-defined id against the id rule.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return aimg.Invalid("id", "must be 1 to %d characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'", MaxIDLen)
	}
	return nil
}

// ValidateCustomMetadata checks that raw is empty or a JSON object.
func ValidateCustomMetadata(raw []byte) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil
	}
	if !json.Valid(trimmed) || trimmed[0] != '{' {
		return aimg.Invalid("customMetadata", "must be a JSON object")
	}
	return nil
}

// Put streams in.Body into the blob store while computing its SHA-256 and
// size, then records the file. An id already in use is a conflict.
func (s *Service) Put(ctx context.Context, in PutInput) (*aimg.File, error) {
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if err := ValidateID(in.ID); err != nil {
		return nil, err
	}
	if err := ValidateCustomMetadata(in.CustomMetadata); err != nil {
		return nil, err
	}
	var custom json.RawMessage
	if trimmed := bytes.TrimSpace(in.CustomMetadata); len(trimmed) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, trimmed); err != nil {
			return nil, aimg.Invalid("customMetadata", "must be a JSON object")
		}
		custom = buf.Bytes()
	}
	if in.Body == nil {
		return nil, aimg.Invalid("file", "is required")
	}
	// Fail fast on a taken id; the insert below still catches a race.
	if _, err := s.st.FileByID(ctx, in.ID); err == nil {
		return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "id", Message: "id: a file with this id already exists"}
	} else if !aimg.IsNotFound(err) {
		return nil, err
	}

	name := cleanName(in.Name)
	if name == "" {
		name = in.ID
	}
	body := bufio.NewReaderSize(in.Body, 512)
	contentType := s.contentType(in.ContentType, name, body)

	f := &aimg.File{
		ID:                in.ID,
		Name:              name,
		ContentType:       contentType,
		ChecksumAlgorithm: aimg.ChecksumSHA256,
		OwnerID:           in.OwnerID,
		CustomMetadata:    custom,
		// A fresh directory per upload: a reused id (after removal) never
		// meets the bytes or the cached variants of its predecessor.
		BlobKey:   path.Join("files", in.ID, uuid.NewString(), "original"),
		CreatedAt: s.now().UTC(),
	}
	h := sha256.New()
	counted := &countingWriter{}
	if err := s.blobs.Put(ctx, f.BlobKey, io.TeeReader(body, io.MultiWriter(h, counted)), -1, contentType); err != nil {
		return nil, fmt.Errorf("store file %s: %w", f.ID, err)
	}
	f.Size = counted.n
	f.Checksum = hex.EncodeToString(h.Sum(nil))
	if err := s.st.CreateFile(ctx, f); err != nil {
		s.deleteBlob(context.WithoutCancel(ctx), f.ID, f.BlobKey)
		return nil, err
	}
	return f, nil
}

// contentType picks the declared type, else the type of the name's
// extension, else what the first bytes look like.
func (s *Service) contentType(declared, name string, body *bufio.Reader) string {
	declared = strings.TrimSpace(declared)
	if declared != "" && !strings.HasPrefix(declared, "application/octet-stream") {
		return declared
	}
	if ct := media.ContentTypeFor(name); ct != "application/octet-stream" {
		return ct
	}
	head, _ := body.Peek(512) // a short body or a read error just sniffs less
	return media.SniffContentType(head)
}

// cleanName keeps the last path element of a client's file name, without
// control characters, at most maxNameLen bytes.
func cleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	for len(name) > maxNameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// Metadata returns the file's record.
func (s *Service) Metadata(ctx context.Context, id string) (*aimg.File, error) {
	if id == "" {
		return nil, aimg.Invalid("id", "is required")
	}
	return s.st.FileByID(ctx, id)
}

// Remove deletes the file's record, then its bytes and cached variants. It
// reports false when there was no such file. A blob that cannot be deleted
// is logged, not reported: the file is gone for every reader already.
func (s *Service) Remove(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, aimg.Invalid("id", "is required")
	}
	f, variants, err := s.st.DeleteFile(ctx, id)
	if aimg.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ctx = context.WithoutCancel(ctx)
	for _, key := range append(variants, f.BlobKey) {
		s.deleteBlob(ctx, id, key)
	}
	return true, nil
}

func (s *Service) deleteBlob(ctx context.Context, id, key string) {
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "file blob left behind", "file", id, "key", key, "err", err)
	}
}

// URL is the file's public, absolute URL.
func (s *Service) URL(id string) string {
	return s.publicURL + "/api/getFile?id=" + url.QueryEscape(id)
}

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
	return fmt.Errorf("open file %s: %w", f.ID, err)
}

// variantKey names a resized variant beside the original: the original's key
// is unique per upload, so a cached variant can never outlive its original.
func variantKey(f *aimg.File, o OpenOptions) string {
	return path.Join(path.Dir(f.BlobKey), fmt.Sprintf("%dx%d-%s", o.Width, o.Height, o.Mode))
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
		return nil, fmt.Errorf("open variant of %s: %w", f.ID, err)
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
	unlock := s.storing.lock(f.ID)
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

// keyedMutex serialises callers per key; entries go when unused.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
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
