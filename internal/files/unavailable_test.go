package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/blob"
	"aimg/internal/files"
	"aimg/internal/testsupport"
)

// downBlobs fails every call while down is set, as S3 away would.
type downBlobs struct {
	blob.Store
	down atomic.Bool
}

var errS3Away = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")

func (d *downBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	if d.down.Load() {
		_, _ = io.CopyN(io.Discard, r, 10) // a store reads some of the body before it fails
		return errS3Away
	}
	return d.Store.Put(ctx, key, r, size, ct)
}

func (d *downBlobs) Open(ctx context.Context, key string) (blob.Object, error) {
	if d.down.Load() {
		return nil, errS3Away
	}
	return d.Store.Open(ctx, key)
}

// cutBody fails after a few bytes, as an upload cut by its client.
type cutBody struct{ n int }

func (c *cutBody) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	c.n--
	p[0] = 'x'
	return 1, nil
}

// A blob store that does not answer is "unavailable" (503, retried by
// workers and clients), for storing and for reading; a cut upload and a
// missing blob keep their own errors.
func TestBlobStoreAwayIsUnavailable(t *testing.T) {
	st := testsupport.OpenStore(t, "sqlite:"+t.TempDir()+"/aimg.db")
	ctx := context.Background()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobs := &downBlobs{Store: local}
	svc := files.New(st, blobs, "http://example.test/", testsupport.NewClock().Now, nil, files.Resizing{})
	f, err := svc.Put(ctx, files.PutInput{Name: "a.txt", Body: bytes.NewReader([]byte("hello, world"))})
	if err != nil {
		t.Fatal(err)
	}
	blobs.down.Store(true)
	if _, err := svc.Put(ctx, files.PutInput{Name: "b.txt", Body: bytes.NewReader([]byte("hello again"))}); aimg.ErrorCode(err) != aimg.CodeUnavailable {
		t.Fatalf("Put with the store away: %v, want unavailable", err)
	}
	if _, err := svc.Open(ctx, f.ID, files.OpenOptions{}); aimg.ErrorCode(err) != aimg.CodeUnavailable {
		t.Fatalf("Open with the store away: %v, want unavailable", err)
	}
	blobs.down.Store(false)
	if _, err := svc.Put(ctx, files.PutInput{Name: "c.txt", Body: &cutBody{n: 3}}); err == nil || aimg.ErrorCode(err) == aimg.CodeUnavailable {
		t.Fatalf("Put of a cut upload: %v, want its own error", err)
	}
	c, err := svc.Open(ctx, f.ID, files.OpenOptions{})
	if err != nil {
		t.Fatalf("Open with the store back: %v", err)
	}
	c.Close()
}
