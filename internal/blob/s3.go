package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	// DefaultS3PartSize is the part size of multipart uploads, and the amount
	// an upload of unknown size buffers before it decides between one PUT and
	// a multipart upload.
	DefaultS3PartSize = 16 << 20
	// MinS3PartSize is the smallest part S3 accepts (except for the last part).
	MinS3PartSize = 5 << 20
)

// S3Config configures an S3-compatible store.
type S3Config struct {
	Endpoint     string // host[:port], without scheme
	Secure       bool   // HTTPS
	Region       string // empty: ask the server
	Bucket       string
	AccessKey    string
	SecretKey    string
	SessionToken string // optional
	// Prefix is put before every key, e.g. "aimg/"; a missing trailing slash
	// is added.
	Prefix string
	// CreateBucket makes NewS3 create the bucket when it does not exist.
	CreateBucket bool
	// PartSize is the multipart part size; 0 means DefaultS3PartSize.
	PartSize int64
	// Transport is the HTTP transport; nil means minio-go's default.
	Transport http.RoundTripper
}

func (c S3Config) validate() error {
	var problems []string
	if c.Endpoint == "" {
		problems = append(problems, "endpoint is empty")
	} else if strings.Contains(c.Endpoint, "://") || strings.Contains(c.Endpoint, "/") {
		problems = append(problems, "endpoint must be host[:port] without scheme or path (use secure=false for plain HTTP)")
	}
	if c.Bucket == "" {
		problems = append(problems, "bucket is empty")
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		problems = append(problems, "access key and secret key must be given together")
	} else if c.AccessKey == "" {
		problems = append(problems, "no credentials: set access_key and secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if c.PartSize != 0 && c.PartSize < MinS3PartSize {
		problems = append(problems, fmt.Sprintf("part size %d is below the S3 minimum of %d bytes", c.PartSize, MinS3PartSize))
	}
	if c.Prefix != "" {
		if err := ValidateKey(strings.TrimSuffix(c.Prefix, "/")); err != nil {
			problems = append(problems, "prefix: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("blob: S3 configuration: %s", strings.Join(problems, "; "))
	}
	return nil
}

// S3 stores blobs as objects in one bucket of an S3-compatible server
// (AWS S3, SeaweedFS, MinIO, Versity Gateway...).
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string
	partSize int64
	describe string
}

var _ Store = (*S3)(nil)

// NewS3 returns a store for cfg. It talks to the server only when
// cfg.CreateBucket is set; call Ping to check the connection.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultS3PartSize
	}
	scheme := "https"
	if !cfg.Secure {
		scheme = "http"
	}
	s := &S3{
		client:   client,
		bucket:   cfg.Bucket,
		prefix:   prefix,
		partSize: partSize,
		describe: fmt.Sprintf("s3://%s/%s at %s://%s", cfg.Bucket, prefix, scheme, cfg.Endpoint),
	}
	if cfg.CreateBucket {
		if err := s.createBucket(ctx, cfg.Region); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *S3) createBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: check bucket %q: %w", s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if code := s3ErrorCode(err); code == "BucketAlreadyOwnedByYou" {
		return nil // created concurrently by another process
	}
	if err != nil {
		return fmt.Errorf("blob: create bucket %q: %w", s.bucket, err)
	}
	return nil
}

// String describes the store for logs, without credentials.
func (s *S3) String() string { return s.describe }

// Put uploads r as one object. When size is unknown it buffers up to one
// part: a small body goes up in one PUT, a larger one as a multipart upload
// (which S3 commits only when complete, so readers never see a partial object).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if contentType == "" {
		contentType = contentTypeForKey(key)
	}
	checked := newCheckedReader(ctx, r, size)
	var body io.Reader = checked
	switch {
	case size == 0:
		// minio-go never reads an empty body, so check it is empty here.
		if _, err := io.Copy(io.Discard, checked); err != nil {
			return fmt.Errorf("blob: put %q: %w", key, checked.failure(err))
		}
		body = bytes.NewReader(nil)
	case size < 0:
		var head bytes.Buffer
		n, err := io.CopyN(&head, checked, s.partSize)
		switch {
		case err == io.EOF:
			body, size = bytes.NewReader(head.Bytes()), n
		case err != nil:
			return fmt.Errorf("blob: put %q: %w", key, checked.failure(err))
		default:
			body = io.MultiReader(bytes.NewReader(head.Bytes()), checked)
		}
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, body, size, minio.PutObjectOptions{
		ContentType: contentType,
		// Without a part size minio-go sizes parts of an unknown-length
		// upload for a 5 TiB object and allocates a buffer of over 500 MiB.
		PartSize: uint64(s.partSize),
	})
	if err != nil {
		return fmt.Errorf("blob: put %q: %w", key, checked.failure(err))
	}
	return nil
}

// Open opens the object. It asks for the object's metadata first, so a
// missing key is reported here rather than on the first Read.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.error(ctx, "open", key, err)
	}
	oi, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, s.error(ctx, "open", key, err)
	}
	return &s3Object{Object: obj, info: s3Info(key, oi)}, nil
}

// Stat asks for the object's metadata. A HEAD request carries no error body,
// so on some servers a missing bucket also reads as ErrNotFound here; Ping and
// Open tell the two apart.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.error(ctx, "stat", key, err)
	}
	return s3Info(key, oi), nil
}

// Delete removes the object; S3 itself treats a missing key as success.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		err = s.error(ctx, "delete", key, err)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// Ping checks that the server answers and the bucket exists.
func (s *S3) Ping(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("blob: ping: %w", ctxErr)
		}
		return fmt.Errorf("blob: ping %s: %w", s.describe, err)
	}
	if !exists {
		return fmt.Errorf("blob: ping %s: bucket %q does not exist", s.describe, s.bucket)
	}
	return nil
}

// error maps a minio-go error: a missing key becomes ErrNotFound, a done
// context its own error; a missing bucket stays an ordinary error because it
// is a configuration problem, not a missing blob.
func (s *S3) error(ctx context.Context, op, key string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("blob: %s %q: %w", op, key, ctxErr)
	}
	switch s3ErrorCode(err) {
	case minio.NoSuchKey, "NotFound":
		return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

func s3ErrorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

func s3Info(key string, oi minio.ObjectInfo) Info {
	contentType := oi.ContentType
	if contentType == "" {
		contentType = contentTypeForKey(key)
	}
	return Info{Key: key, Size: oi.Size, ContentType: contentType, ModTime: oi.LastModified}
}

type s3Object struct {
	*minio.Object
	info Info
}

func (o *s3Object) Info() Info { return o.info }
