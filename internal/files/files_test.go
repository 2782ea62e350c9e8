package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/blob"
	"aimg/internal/files"
	"aimg/internal/media"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// countingBlobs counts Puts, to see whether a variant was made or reused.
type countingBlobs struct {
	blob.Store
	puts atomic.Int64
}

func (c *countingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, key, r, size, ct)
}

type fixture struct {
	svc   *files.Service
	st    *store.Store
	blobs *countingBlobs
}

// testSizes are the variant sizes of the fixture: small, so that the tests
// of resizing itself ask for sizes in the set.
var testSizes = []int{4, 5, 10, 20}

func newFixture(t *testing.T, st *store.Store, edit ...func(*files.Resizing)) *fixture {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBlobs{Store: local}
	clock := testsupport.NewClock()
	d, err := media.NewDecoder(media.DecoderConfig{MaxDecodedBytes: 64 << 20, MaxInFlightBytes: 64 << 20, MaxConcurrent: 2, MaxWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	rs := files.Resizing{Sizes: testSizes, MaxVariants: 32, Decoder: d}
	for _, e := range edit {
		e(&rs)
	}
	return &fixture{svc: files.New(st, b, "http://example.test/", clock.Now, nil, rs), st: st, blobs: b}
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 100, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, c *files.Content) []byte {
	t.Helper()
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPutOpenRemove(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st)
		body := []byte("hello, file server")
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "dir/../notes.txt", OwnerID: "u1",
			CustomMetadata: json.RawMessage(` { "a" : [1, 2] } `), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if f.ID == "" || f.Name != "notes.txt" || f.ContentType != "text/plain; charset=utf-8" || f.Size != int64(len(body)) ||
			f.Checksum != sum(body) || f.ChecksumAlgorithm != "sha256" || string(f.CustomMetadata) != `{"a":[1,2]}` {
			t.Fatalf("put = %+v", f)
		}
		if got := fx.svc.URL("a b&c"); got != "http://example.test/api/getFile?id=a+b%26c" {
			t.Fatalf("URL = %s", got)
		}
		m, err := fx.svc.Metadata(ctx, f.ID)
		if err != nil || m.Checksum != f.Checksum || m.OwnerID != "u1" {
			t.Fatalf("metadata = %+v, %v", m, err)
		}
		c, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Verified || c.ETag != `"`+f.Checksum+`"` || c.Size != int64(len(body)) || c.Name != "notes.txt" {
			t.Fatalf("content = %+v", c)
		}
		if got := readAll(t, c); !bytes.Equal(got, body) {
			t.Fatalf("bytes = %q", got)
		}

		ok, err := fx.svc.Remove(ctx, f.ID)
		if err != nil || !ok {
			t.Fatalf("remove = %v, %v", ok, err)
		}
		if _, err := fx.blobs.Stat(ctx, f.BlobKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("blob after remove: %v", err)
		}
		if _, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{}); !aimg.IsNotFound(err) {
			t.Fatalf("open after remove: %v", err)
		}
		if ok, err := fx.svc.Remove(ctx, f.ID); ok || err != nil {
			t.Fatalf("second remove = %v, %v", ok, err)
		}
	})
}

func TestPutRules(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st)
		put := func(in files.PutInput) (*aimg.File, error) {
			if in.Body == nil {
				in.Body = strings.NewReader("x")
			}
			return fx.svc.Put(ctx, in)
		}
		for _, id := range []string{"", ".hidden", "..", "a/b", "a b", strings.Repeat("a", 129), "é"} {
			if id == "" {
				continue
			}
			if _, err := put(files.PutInput{ID: id}); aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), "id") {
				t.Errorf("id %q: %v, want invalid id", id, err)
			}
		}
		if _, err := put(files.PutInput{ID: strings.Repeat("a", 128)}); err != nil {
			t.Fatalf("128-character id: %v", err)
		}
		f, err := put(files.PutInput{ID: "my.file-1_x"})
		if err != nil || f.Name != "my.file-1_x" {
			t.Fatalf("client id: %+v %v", f, err)
		}
		puts := fx.blobs.puts.Load()
		if _, err := put(files.PutInput{ID: "my.file-1_x"}); aimg.ErrorCode(err) != aimg.CodeConflict {
			t.Fatalf("taken id: %v, want conflict", err)
		}
		if fx.blobs.puts.Load() != puts {
			t.Fatal("a conflicting upload was written to the blob store")
		}
		for _, bad := range []string{"[1]", `"s"`, "{", "nope", "1"} {
			if _, err := put(files.PutInput{CustomMetadata: json.RawMessage(bad)}); aimg.ErrorCode(err) != aimg.CodeInvalid ||
				!strings.Contains(err.Error(), "customMetadata") {
				t.Errorf("customMetadata %q: %v", bad, err)
			}
		}
		// Content types: declared, else by name, else sniffed.
		cases := []struct {
			in   files.PutInput
			want string
		}{
			{files.PutInput{Name: "a.bin", ContentType: "video/mp4"}, "video/mp4"},
			{files.PutInput{Name: "a.png", ContentType: "application/octet-stream"}, "image/png"},
			{files.PutInput{Name: "noext", Body: bytes.NewReader(pngBytes(t, 2, 2))}, "image/png"},
			{files.PutInput{Name: "noext", Body: strings.NewReader("")}, "text/plain; charset=utf-8"},
		}
		for _, c := range cases {
			f, err := put(c.in)
			if err != nil || f.ContentType != c.want {
				t.Errorf("%+v: %v %v, want %s", c.in, f, err, c.want)
			}
		}
	})
}

func TestCorruptedBytesAreNotServed(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st)
		for _, size := range []int{100, 5 << 20} { // in memory, and verify-then-seek
			body := bytes.Repeat([]byte("abcdefgh"), size/8)
			f, err := fx.svc.Put(ctx, files.PutInput{Name: "a.txt", Body: bytes.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(body)
			bad[len(bad)/2] ^= 1
			if err := fx.blobs.Put(ctx, f.BlobKey, bytes.NewReader(bad), int64(len(bad)), ""); err != nil {
				t.Fatal(err)
			}
			c, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{})
			if !errors.Is(err, files.ErrCorrupted) || aimg.ErrorCode(err) != aimg.CodeInternal || c != nil {
				t.Fatalf("size %d: corrupted open = %v, %v", size, c, err)
			}
			c, err = fx.svc.Open(ctx, f.ID, files.OpenOptions{SkipChecksum: true})
			if err != nil {
				t.Fatal(err)
			}
			if c.Verified || !strings.HasPrefix(c.ETag, "W/") {
				t.Fatalf("unverified content = %+v", c)
			}
			if got := readAll(t, c); !bytes.Equal(got, bad) {
				t.Fatal("skipChecksum did not serve the stored bytes")
			}
			// A truncated blob is caught by its size.
			if err := fx.blobs.Put(ctx, f.BlobKey, bytes.NewReader(body[:10]), 10, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{}); !errors.Is(err, files.ErrCorrupted) {
				t.Fatalf("truncated: %v", err)
			}
			if err := fx.blobs.Delete(ctx, f.BlobKey); err != nil {
				t.Fatal(err)
			}
			if _, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{}); !errors.Is(err, files.ErrCorrupted) {
				t.Fatalf("missing blob: %v", err)
			}
		}
		// A large intact file goes through the verify-then-seek path.
		body := bytes.Repeat([]byte{1, 2, 3}, 2<<20)
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "big.bin", Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{})
		if err != nil || !c.Verified {
			t.Fatalf("big open: %v", err)
		}
		if got := readAll(t, c); !bytes.Equal(got, body) {
			t.Fatal("big file bytes differ")
		}
	})
}

func decodeSize(t *testing.T, b []byte) (int, int, string) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode variant: %v", err)
	}
	return cfg.Width, cfg.Height, format
}

func TestResizedVariants(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st)
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "pic.png", Body: bytes.NewReader(pngBytes(t, 40, 20))})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			o            files.OpenOptions
			wantW, wantH int
		}{
			{files.OpenOptions{Width: 20, Height: 20}, 20, 10},
			{files.OpenOptions{Width: 20, Height: 20, Mode: "fill"}, 20, 20},
			{files.OpenOptions{Height: 5}, 10, 5},
		}
		for _, c := range cases {
			before := fx.blobs.puts.Load()
			first := readAll(t, mustOpen(t, fx.svc, f.ID, c.o))
			if w, h, format := decodeSize(t, first); w != c.wantW || h != c.wantH || format != "png" {
				t.Fatalf("%+v: %dx%d %s, want %dx%d png", c.o, w, h, format, c.wantW, c.wantH)
			}
			if fx.blobs.puts.Load() != before+1 {
				t.Fatalf("%+v: the variant was not cached", c.o)
			}
			second := mustOpen(t, fx.svc, f.ID, c.o)
			if got := readAll(t, second); !bytes.Equal(got, first) || fx.blobs.puts.Load() != before+1 {
				t.Fatalf("%+v: the second request did not use the cache", c.o)
			}
		}
		keys, err := st.FileVariantKeys(ctx, f.ID)
		if err != nil || len(keys) != 3 {
			t.Fatalf("variant records = %v, %v", keys, err)
		}

		for _, o := range []files.OpenOptions{{Width: -1}, {Height: -3}, {Width: 10, Mode: "stretch"}, {Width: media.MaxResizeSide + 1}} {
			if _, err := fx.svc.Open(ctx, f.ID, o); aimg.ErrorCode(err) != aimg.CodeInvalid {
				t.Errorf("%+v: %v, want invalid", o, err)
			}
		}
		txt, err := fx.svc.Put(ctx, files.PutInput{Name: "a.txt", Body: strings.NewReader("text")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Open(ctx, txt.ID, files.OpenOptions{Width: 10}); aimg.ErrorCode(err) != aimg.CodeInvalid ||
			!strings.Contains(err.Error(), "width") {
			t.Fatalf("resize of text: %v", err)
		}

		// Removing the file removes its variants.
		if ok, err := fx.svc.Remove(ctx, f.ID); !ok || err != nil {
			t.Fatal(ok, err)
		}
		for _, k := range keys {
			if _, err := fx.blobs.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("variant %s after remove: %v", k, err)
			}
		}
	})
}

func TestVariantOfCorruptedOriginal(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st)
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "pic.png", Body: bytes.NewReader(pngBytes(t, 8, 8))})
		if err != nil {
			t.Fatal(err)
		}
		other := pngBytes(t, 16, 16) // valid image, wrong bytes
		if err := fx.blobs.Put(ctx, f.BlobKey, bytes.NewReader(other), int64(len(other)), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{Width: 4}); !errors.Is(err, files.ErrCorrupted) {
			t.Fatalf("variant of corrupted original: %v", err)
		}
		before := fx.blobs.puts.Load()
		c, err := fx.svc.Open(ctx, f.ID, files.OpenOptions{Width: 4, SkipChecksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if w, _, _ := decodeSize(t, readAll(t, c)); w != 4 || fx.blobs.puts.Load() != before {
			t.Fatalf("unverified variant: width %d, cached=%v", w, fx.blobs.puts.Load() != before)
		}
	})
}

func mustOpen(t *testing.T, svc *files.Service, id string, o files.OpenOptions) *files.Content {
	t.Helper()
	c, err := svc.Open(context.Background(), id, o)
	if err != nil {
		t.Fatalf("open %s %+v: %v", id, o, err)
	}
	return c
}

// Hole 1: a file keeps at most MaxVariants stored variants; the next size is
// made and served, not stored, and so is every later one.
func TestVariantCap(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st, func(rs *files.Resizing) { rs.Sizes, rs.MaxVariants = []int{16, 32, 64}, 2 })
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "pic.png", Body: bytes.NewReader(pngBytes(t, 100, 100))})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range []int{16, 32, 64, 64} {
			before := fx.blobs.puts.Load()
			c := mustOpen(t, fx.svc, f.ID, files.OpenOptions{Width: w})
			if got, _, _ := decodeSize(t, readAll(t, c)); got != w {
				t.Fatalf("width %d: got %d", w, got)
			}
			stored := fx.blobs.puts.Load() != before
			if want := i < 2; stored != want {
				t.Fatalf("request %d (width %d): stored = %v, want %v", i+1, w, stored, want)
			}
		}
		if keys, err := st.FileVariantKeys(ctx, f.ID); err != nil || len(keys) != 2 {
			t.Fatalf("variant records = %v, %v; want 2", keys, err)
		}
	})
}

// Requests snap to the sizes: every width from 33 to 64 is one variant.
func TestSnappedRequestsShareAVariant(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		fx := newFixture(t, st, func(rs *files.Resizing) { rs.Sizes = []int{16, 32, 64} })
		f, err := fx.svc.Put(ctx, files.PutInput{Name: "pic.png", Body: bytes.NewReader(pngBytes(t, 200, 100))})
		if err != nil {
			t.Fatal(err)
		}
		before := fx.blobs.puts.Load()
		for w := 33; w <= 64; w++ {
			c := mustOpen(t, fx.svc, f.ID, files.OpenOptions{Width: w, Height: w})
			if gw, gh, _ := decodeSize(t, readAll(t, c)); gw != 64 || gh != 32 {
				t.Fatalf("box %dx%d: %dx%d, want 64x32", w, w, gw, gh)
			}
		}
		if n := fx.blobs.puts.Load() - before; n != 1 {
			t.Fatalf("%d variants stored, want 1", n)
		}
		// Without sizes, resizing is off.
		off := newFixture(t, st, func(rs *files.Resizing) { rs.Sizes = nil })
		if _, err := off.svc.Open(ctx, f.ID, files.OpenOptions{Width: 10}); aimg.ErrorCode(err) != aimg.CodeInvalid ||
			!strings.Contains(err.Error(), "width") {
			t.Fatalf("resize with resizing off: %v", err)
		}
	})
}
