package blob

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// A missing bucket is a configuration problem, never a missing blob.
func TestS3MissingBucket(t *testing.T) {
	cfg := testS3Config(t)
	cfg.Bucket = "aimg-missing-" + uniqueID(t)
	cfg.CreateBucket = false
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Ping = %v, want a missing-bucket error", err)
	}
	if _, err := s.Open(ctx, "items/a.png"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Open = %v, want an error other than ErrNotFound", err)
	}
	if err := s.Put(ctx, "items/a.png", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}
}

func TestS3CreateBucket(t *testing.T) {
	cfg := testS3Config(t)
	cfg.Bucket = "aimg-create-" + uniqueID(t)
	cfg.CreateBucket = true
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		removeS3Prefix(t, s)
		if err := s.client.RemoveBucket(ctx, cfg.Bucket); err != nil {
			t.Errorf("remove bucket %s: %v", cfg.Bucket, err)
		}
	})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, s, "items/a.png", []byte("x"))
	// Creating a bucket that exists already is fine.
	if _, err := NewS3(t.Context(), cfg); err != nil {
		t.Fatalf("NewS3 with create_bucket on an existing bucket: %v", err)
	}
	if got := readAll(t, s, "items/a.png"); string(got) != "x" {
		t.Fatalf("read %q, want %q", got, "x")
	}
}
