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
	"io"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/blob/blobstore"
	"aimg/internal/keylock"
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
	storing   keylock.Map // one variant record at a time per file, so the cap holds
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
	ID string // optional; generated (a UUID) when empty
	// FreshID says the caller generated ID (a new UUID) itself, so no
	// file can have it: Put skips the read that fails fast on a taken id
	// (the insert still refuses a duplicate).
	FreshID        bool
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
	f, err := s.StoreBlob(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.st.CreateFile(ctx, f); err != nil {
		s.deleteBlob(context.WithoutCancel(ctx), f.ID, f.BlobKey)
		return nil, err
	}
	return f, nil
}

// StoreBlob is Put without the record: it stores the bytes and returns the
// file the caller records itself, in a transaction of its own (a Job's
// completion), or removes with RemoveStored. An id in use is a conflict
// only when the record is inserted (or for a client id, here already).
func (s *Service) StoreBlob(ctx context.Context, in PutInput) (*aimg.File, error) {
	if in.ID == "" {
		in.ID, in.FreshID = uuid.NewString(), true
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
	if !in.FreshID {
		if _, err := s.st.FileByID(ctx, in.ID); err == nil {
			return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "id", Message: "id: a file with this id already exists"}
		} else if !aimg.IsNotFound(err) {
			return nil, err
		}
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
		BlobKey:           blobKey(in),
		CreatedAt:         s.now().UTC(),
	}
	h := sha256.New()
	counted := &countingWriter{}
	read := &readRecorder{r: body}
	if err := s.blobs.Put(ctx, f.BlobKey, io.TeeReader(read, io.MultiWriter(h, counted)), -1, contentType); err != nil {
		if read.err != nil && !errors.Is(read.err, io.EOF) {
			return nil, fmt.Errorf("store file %s: %w", f.ID, err) // the body failed, not the store
		}
		return nil, storeUnavailable(ctx, fmt.Errorf("store file %s: %w", f.ID, err))
	}
	f.Size = counted.n
	f.Checksum = hex.EncodeToString(h.Sum(nil))
	return f, nil
}

// blobKey is where the upload's bytes go. A fresh directory per upload: a
// reused id (after removal) never meets the bytes or the cached variants
// of its predecessor. An id the caller made fresh needs no directory of
// its own (FreshBlobKey).
func blobKey(in PutInput) string {
	if in.FreshID {
		return FreshBlobKey(in.ID)
	}
	return path.Join("files", in.ID, uuid.NewString(), "original")
}

// FreshBlobKey is where StoreBlob puts the bytes of a file whose id is
// fresh (PutInput.FreshID): in one of 256 shared directories named by the
// id's first two characters, so that storing a generated output creates
// no directory (issue 11: a mkdir was a fifth of the control plane's
// CPU per Item). Its variants sit beside it (variantKey).
func FreshBlobKey(id string) string { return path.Join("files", id[:min(2, len(id))], id) }

// readRecorder keeps the error its reader returned, so that a failed Put
// tells a cut upload from a blob store that does not answer.
type readRecorder struct {
	r   io.Reader
	err error
}

func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

// storeUnavailable is a blob store failure that is not a missing blob: the
// store (S3) does not answer or refuses. It is a 503, which clients and
// remote workers retry, rather than an internal error; a caller that gave
// up keeps its own error.
func storeUnavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, blobstore.ErrNotFound) {
		return err
	}
	return &aimg.Error{Code: aimg.CodeUnavailable, Message: "The file store is unavailable; try again later", Err: err}
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

// RemoveStored removes file id like Remove, and when no record names it,
// the bytes StoreBlob put at blobKey: a file stored but never recorded. It
// reports false when neither a record nor a blob key ("") names the file.
func (s *Service) RemoveStored(ctx context.Context, id, blobKey string) (bool, error) {
	removed, err := s.Remove(ctx, id)
	if err != nil || removed || blobKey == "" {
		return removed, err
	}
	if err := s.blobs.Delete(ctx, blobKey); err != nil {
		return false, storeUnavailable(ctx, fmt.Errorf("remove file %s: %w", id, err))
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
