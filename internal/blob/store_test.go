package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// The one conformance suite: every backend must pass it unchanged.

func TestLocalStore(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runStoreSuite(t, s)
}

func TestS3Store(t *testing.T) {
	s := newTestS3(t)
	runStoreSuite(t, s)
}

// newTestS3 connects to the server named by AIMG_TEST_S3_URL and gives the
// test its own key prefix, removed again at the end.
func newTestS3(t *testing.T) *S3 {
	t.Helper()
	cfg := testS3Config(t)
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/") + "/aimg-blob-test/" + uniqueID(t) + "/"
	cfg.Prefix = strings.TrimPrefix(cfg.Prefix, "/")
	// The smallest part size sends the 8 MiB objects as multipart uploads.
	cfg.PartSize = MinS3PartSize
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeS3Prefix(t, s) })
	return s
}

func testS3Config(t *testing.T) S3Config {
	t.Helper()
	raw := os.Getenv("AIMG_TEST_S3_URL")
	if raw == "" {
		if os.Getenv("AIMG_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("AIMG_TEST_S3_URL is required when AIMG_TEST_REQUIRE_SERVICES is set (see scripts/s3-test-server.sh)")
		}
		t.Skip("set AIMG_TEST_S3_URL (see scripts/s3-test-server.sh) to run the S3 suite")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("AIMG_TEST_S3_URL does not parse")
	}
	cfg, err := s3ConfigFromURL(u, os.Getenv)
	if err != nil {
		t.Fatalf("AIMG_TEST_S3_URL: %v", err)
	}
	return cfg
}

func removeS3Prefix(t *testing.T, s *S3) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Errorf("list %s for cleanup: %v", s.prefix, obj.Err)
			continue
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("cleanup %s: %v", obj.Key, err)
		}
	}
}

func uniqueID(t *testing.T) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func runStoreSuite(t *testing.T, s Store) {
	t.Run("Ping", func(t *testing.T) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("PutOpenRead", func(t *testing.T) {
		ctx := t.Context()
		key := "items/ab/cd/0f8fad5b-d9cb-469f-a165-70867728950e.png"
		data := randomBytes(3000, 1)
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
			t.Fatal(err)
		}
		obj, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		got, err := io.ReadAll(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes, want the %d put", len(got), len(data))
		}
		info := obj.Info()
		if info.Key != key || info.Size != int64(len(data)) || info.ContentType != "image/png" || info.ModTime.IsZero() {
			t.Errorf("Info() = %+v, want key %q, size %d, image/png, a modification time", info, key, len(data))
		}
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Key != key || st.Size != info.Size || st.ContentType != info.ContentType || st.ModTime.IsZero() {
			t.Errorf("Stat = %+v, Open's Info = %+v", st, info)
		}
	})

	t.Run("ContentTypeFromExtension", func(t *testing.T) {
		ctx := t.Context()
		for key, want := range map[string]string{
			"types/a.json": "application/json",
			"types/a.webp": "image/webp",
			"types/a.jpg":  "image/jpeg",
			"types/a.gif":  "image/gif",
		} {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1, want); err != nil {
				t.Fatal(err)
			}
			info, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if got, _, _ := mime.ParseMediaType(info.ContentType); got != want {
				t.Errorf("%s: content type %q, want %q", key, info.ContentType, want)
			}
		}
	})

	t.Run("EmptyObject", func(t *testing.T) {
		ctx := t.Context()
		for key, size := range map[string]int64{"empty/known.bin": 0, "empty/unknown.bin": -1} {
			if err := s.Put(ctx, key, strings.NewReader(""), size, ""); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, s, key); len(got) != 0 {
				t.Errorf("%s: read %d bytes, want 0", key, len(got))
			}
			if info, err := s.Stat(ctx, key); err != nil || info.Size != 0 {
				t.Errorf("%s: Stat = %+v, %v; want size 0", key, info, err)
			}
		}
	})

	t.Run("Seek", func(t *testing.T) {
		ctx := t.Context()
		key := "seek/data.bin"
		data := randomBytes(10_000, 2)
		put(t, s, key, data)
		obj, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		end, err := obj.Seek(0, io.SeekEnd)
		if err != nil || end != int64(len(data)) {
			t.Fatalf("Seek(0, SeekEnd) = %d, %v; want %d", end, err, len(data))
		}
		steps := []struct {
			offset int64
			whence int
			pos    int64
			n      int
		}{
			{100, io.SeekStart, 100, 50},
			{25, io.SeekCurrent, 175, 100},
			{-10, io.SeekEnd, 9990, 10},
			{0, io.SeekStart, 0, 1},
		}
		for _, step := range steps {
			pos, err := obj.Seek(step.offset, step.whence)
			if err != nil || pos != step.pos {
				t.Fatalf("Seek(%d, %d) = %d, %v; want %d", step.offset, step.whence, pos, err, step.pos)
			}
			buf := make([]byte, step.n)
			if _, err := io.ReadFull(obj, buf); err != nil {
				t.Fatalf("read %d at %d: %v", step.n, pos, err)
			}
			if !bytes.Equal(buf, data[pos:pos+int64(step.n)]) {
				t.Fatalf("bytes at %d differ", pos)
			}
		}
		if _, err := obj.Seek(-1, io.SeekStart); err == nil {
			t.Error("Seek to a negative offset succeeded")
		}
	})

	t.Run("ServeContentRange", func(t *testing.T) {
		ctx := t.Context()
		key := "range/image.png"
		data := randomBytes(5000, 3)
		put(t, s, key, data)
		for _, tc := range []struct {
			rangeHeader string
			want        []byte
		}{
			{"bytes=1000-1999", data[1000:2000]},
			{"bytes=-100", data[4900:]},
			{"bytes=4990-", data[4990:]},
		} {
			obj, err := s.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/files/image.png", nil)
			req.Header.Set("Range", tc.rangeHeader)
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "image.png", obj.Info().ModTime, obj)
			obj.Close()
			if rec.Code != http.StatusPartialContent {
				t.Fatalf("Range %s: status %d, want 206", tc.rangeHeader, rec.Code)
			}
			if !bytes.Equal(rec.Body.Bytes(), tc.want) {
				t.Errorf("Range %s: got %d bytes, not the %d expected", tc.rangeHeader, rec.Body.Len(), len(tc.want))
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		ctx := t.Context()
		key := "overwrite/a.png"
		put(t, s, key, randomBytes(4000, 4))
		second := randomBytes(1234, 5)
		put(t, s, key, second)
		if got := readAll(t, s, key); !bytes.Equal(got, second) {
			t.Fatalf("read %d bytes after overwrite, want the second %d", len(got), len(second))
		}
		if info, err := s.Stat(ctx, key); err != nil || info.Size != int64(len(second)) {
			t.Fatalf("Stat after overwrite = %+v, %v; want size %d", info, err, len(second))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := t.Context()
		key := "delete/a.png"
		put(t, s, key, []byte("gone soon"))
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open after Delete: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("second Delete: %v, want nil", err)
		}
		if err := s.Delete(ctx, "delete/never-existed.png"); err != nil {
			t.Errorf("Delete of a missing key: %v, want nil", err)
		}
		if err := s.Delete(ctx, "delete"); err != nil {
			t.Errorf("Delete of a key that is only a prefix: %v, want nil", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := t.Context()
		put(t, s, "notfound/present/a.png", []byte("x"))
		for _, key := range []string{"notfound/missing.png", "notfound/present", "notfound/present/a.png/below"} {
			obj, err := s.Open(ctx, key)
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Open(%q): %v, want ErrNotFound", key, err)
			}
			if obj != nil {
				t.Errorf("Open(%q) returned an object with the error", key)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat(%q): %v, want ErrNotFound", key, err)
			}
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		ctx := t.Context()
		for _, key := range invalidKeys {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q): %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q): %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Stat(%q): %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q): %v, want ErrInvalidKey", key, err)
			}
		}
	})

	t.Run("LongestKey", func(t *testing.T) {
		key := longestKey()
		data := []byte("long key")
		put(t, s, key, data)
		if got := readAll(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("read %q, want %q", got, data)
		}
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		ctx := t.Context()
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				data := randomBytes(2000+i, uint64(100+i))
				errs <- s.Put(ctx, fmt.Sprintf("concurrent/%02d/blob.png", i), bytes.NewReader(data), int64(len(data)), "image/png")
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for i := range n {
			want := randomBytes(2000+i, uint64(100+i))
			if got := readAll(t, s, fmt.Sprintf("concurrent/%02d/blob.png", i)); !bytes.Equal(got, want) {
				t.Errorf("blob %d: read %d bytes, not the %d put", i, len(got), len(want))
			}
		}
	})

	t.Run("LargeUnknownSize", func(t *testing.T) {
		testLarge(t, s, "large/unknown.bin", 8<<20+12345, -1)
	})

	t.Run("LargeKnownSize", func(t *testing.T) {
		testLarge(t, s, "large/known.bin", 6<<20+1, 6<<20+1)
	})

	t.Run("SizeMismatch", func(t *testing.T) {
		ctx := t.Context()
		old := []byte("previous content")
		put(t, s, "mismatch/kept.png", old)
		for _, tc := range []struct {
			name string
			body []byte
			size int64
		}{
			{"short", randomBytes(100, 6), 101},
			{"long", randomBytes(100, 7), 99},
			{"not empty", []byte("x"), 0},
		} {
			err := s.Put(ctx, "mismatch/new.png", opaque(bytes.NewReader(tc.body)), tc.size, "")
			if !errors.Is(err, ErrSizeMismatch) {
				t.Errorf("%s body: Put = %v, want ErrSizeMismatch", tc.name, err)
			}
			if _, err := s.Stat(ctx, "mismatch/new.png"); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s body: Stat after the failed Put: %v, want ErrNotFound", tc.name, err)
			}
			err = s.Put(ctx, "mismatch/kept.png", opaque(bytes.NewReader(tc.body)), tc.size, "")
			if !errors.Is(err, ErrSizeMismatch) {
				t.Errorf("%s body over an existing blob: Put = %v, want ErrSizeMismatch", tc.name, err)
			}
			if got := readAll(t, s, "mismatch/kept.png"); !bytes.Equal(got, old) {
				t.Errorf("%s body: a failed Put replaced the blob with %d bytes", tc.name, len(got))
			}
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		put(t, s, "canceled/kept.png", []byte("kept"))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Put(ctx, "canceled/new.png", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: %v, want context.Canceled", err)
		}
		if _, err := s.Open(ctx, "canceled/kept.png"); !errors.Is(err, context.Canceled) {
			t.Errorf("Open: %v, want context.Canceled", err)
		}
		if _, err := s.Stat(ctx, "canceled/kept.png"); !errors.Is(err, context.Canceled) {
			t.Errorf("Stat: %v, want context.Canceled", err)
		}
		if err := s.Delete(ctx, "canceled/kept.png"); !errors.Is(err, context.Canceled) {
			t.Errorf("Delete: %v, want context.Canceled", err)
		}
		if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Ping: %v, want context.Canceled", err)
		}
		if _, err := s.Stat(t.Context(), "canceled/new.png"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Stat of the canceled Put's key: %v, want ErrNotFound", err)
		}
		if got := readAll(t, s, "canceled/kept.png"); string(got) != "kept" {
			t.Errorf("canceled Delete removed the blob: read %q", got)
		}
	})

	t.Run("CancelMidUpload", func(t *testing.T) {
		old := []byte("previous content")
		for _, size := range []int64{-1, 7 << 20} {
			key := fmt.Sprintf("midcancel/%d.bin", size)
			put(t, s, key, old)
			ctx, cancel := context.WithCancel(t.Context())
			body := &cancelAfter{r: opaque(newRandomReader(7<<20, 8)), after: 1 << 20, cancel: cancel}
			err := s.Put(ctx, key, body, size, "")
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("size %d: Put = %v, want context.Canceled", size, err)
			}
			if got := readAll(t, s, key); !bytes.Equal(got, old) {
				t.Errorf("size %d: an interrupted Put replaced the blob with %d bytes", size, len(got))
			}
		}
	})
}

// testLarge streams size pseudo-random bytes into key without holding them
// in memory, then checks the stored blob by hash and with a seek.
func testLarge(t *testing.T, s Store, key string, size, declared int64) {
	ctx := t.Context()
	const seed = 9
	if err := s.Put(ctx, key, opaque(newRandomReader(size, seed)), declared, "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != size {
		t.Fatalf("Stat size %d, want %d", info.Size, size)
	}
	wantHash := sha256.New()
	if _, err := io.Copy(wantHash, newRandomReader(size, seed)); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	gotHash := sha256.New()
	if n, err := io.Copy(gotHash, obj); err != nil || n != size {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if !bytes.Equal(gotHash.Sum(nil), wantHash.Sum(nil)) {
		t.Fatal("stored bytes differ from the bytes put")
	}
	mid := size / 2
	if _, err := obj.Seek(mid, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4096)
	if _, err := io.ReadFull(obj, got); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, mid+4096)
	if _, err := io.ReadFull(newRandomReader(size, seed), want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[mid:]) {
		t.Fatalf("bytes at offset %d differ", mid)
	}
}

var invalidKeys = []string{
	"",
	"/items/a.png",
	"items/a.png/",
	"../a.png",
	"items/../../a.png",
	"items/..",
	"..",
	".",
	"items/./a.png",
	"items//a.png",
	"items/.hidden",
	".tmp-0123456789abcdef",
	`items\a.png`,
	`..\..\a.png`,
	"items/a\x00.png",
	"items/a\n.png",
	"items/a\x7f.png",
	"items/\xff.png",
	strings.Repeat("a", MaxKeyLen+1),
	strings.Repeat("a", MaxKeySegmentLen+1) + ".png",
}

// longestKey is a valid key of exactly MaxKeyLen bytes.
func longestKey() string {
	var b strings.Builder
	for b.Len() < MaxKeyLen-200 {
		b.WriteString(strings.Repeat("k", 99) + "/")
	}
	b.WriteString(strings.Repeat("z", MaxKeyLen-b.Len()-4) + ".bin")
	return b.String()
}

func put(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), ""); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	obj, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func randomBytes(n int, seed uint64) []byte {
	data := make([]byte, n)
	if _, err := io.ReadFull(newRandomReader(int64(n), seed), data); err != nil {
		panic(err)
	}
	return data
}

// newRandomReader yields size reproducible pseudo-random bytes.
func newRandomReader(size int64, seed uint64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	return io.LimitReader(mathrand.NewChaCha8(key), size)
}

// opaque hides every method but Read, so backends cannot seek, ReadAt or
// learn a length: the body is a plain stream.
func opaque(r io.Reader) io.Reader { return struct{ io.Reader }{r} }

// cancelAfter cancels a context once after bytes have been read, then keeps
// on yielding data, as a client whose request is aborted mid-upload.
type cancelAfter struct {
	r      io.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read >= c.after {
		c.cancel()
	}
	return n, err
}
