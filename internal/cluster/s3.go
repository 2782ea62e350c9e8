package cluster

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Prefix is the cluster's part of the test S3 bucket, read by the
// checks and removed at the end.
type s3Prefix struct {
	client *minio.Client
	bucket string
	prefix string
}

// newS3Prefix connects to the server of an AIMG_BLOB_URL-style URL
// (s3://bucket?endpoint=&secure=&access_key=&secret_key=).
func newS3Prefix(u *url.URL, prefix string) (*s3Prefix, error) {
	q := u.Query()
	secure := true
	if v := q.Get("secure"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errors.New("secure is not a boolean")
		}
		secure = b
	}
	if u.Host == "" || q.Get("endpoint") == "" {
		return nil, errors.New("the URL needs a bucket and an endpoint")
	}
	client, err := minio.New(q.Get("endpoint"), &minio.Options{
		Creds:  credentials.NewStaticV4(q.Get("access_key"), q.Get("secret_key"), ""),
		Secure: secure, Region: q.Get("region"),
	})
	if err != nil {
		return nil, err
	}
	return &s3Prefix{client: client, bucket: u.Host, prefix: prefix}, nil
}

func (s *s3Prefix) list(ctx context.Context) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		keys = append(keys, strings.TrimPrefix(obj.Key, s.prefix))
	}
	return keys, nil
}

func (s *s3Prefix) put(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	return err
}

// removeAll removes every object under the prefix and says how many.
func (s *s3Prefix) removeAll(t testing.TB) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys, err := s.list(ctx)
	if err != nil {
		t.Logf("cluster: list S3 prefix %s for cleanup: %v", s.prefix, err)
		return 0
	}
	objects := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		objects <- minio.ObjectInfo{Key: s.prefix + k}
	}
	close(objects)
	for e := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Logf("cluster: remove %s: %v", e.ObjectName, e.Err)
	}
	return len(keys)
}
