package blob

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalKeysCannotLeaveTheDirectory(t *testing.T) {
	parent := t.TempDir()
	s, err := NewLocal(filepath.Join(parent, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../escape.png", "items/../../escape.png", `..\escape.png`, "/" + filepath.ToSlash(parent) + "/escape.png"} {
		if err := s.Put(t.Context(), key, strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "escape.png")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file appeared outside the blob directory: %v", err)
	}
}

// A symlink planted inside the directory must not lead outside it either.
func TestLocalSymlinkCannotLeaveTheDirectory(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewLocal(filepath.Join(parent, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "link")); err != nil {
		t.Skipf("cannot create a symlink here: %v", err)
	}
	if obj, err := s.Open(t.Context(), "link/secret.txt"); err == nil {
		obj.Close()
		t.Error("Open through a symlink to outside the directory succeeded")
	}
	if err := s.Put(t.Context(), "link/new.txt", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("Put through a symlink to outside the directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "new.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file appeared outside the blob directory: %v", err)
	}
}

func TestLocalLeavesNoTemporaryFiles(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Put(ctx, "items/ab/ok.png", strings.NewReader("fine"), 4, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "items/ab/short.png", strings.NewReader("short"), 10, ""); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Put with a short body = %v, want ErrSizeMismatch", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(s.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(s.Dir(), path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0] != "items/ab/ok.png" {
		t.Fatalf("files in the directory: %q, want only items/ab/ok.png", files)
	}
}

func TestLocalPingFailsWithoutDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded after the directory was removed")
	}
}

func TestCheckedReader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		size    int64
		wantErr error
	}{
		{"exact", "hello", 5, nil},
		{"unknown size", "hello", -1, nil},
		{"empty", "", 0, nil},
		{"short", "hell", 5, ErrSizeMismatch},
		{"long", "hello!", 5, ErrSizeMismatch},
		{"data where none declared", "h", 0, ErrSizeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				body func() *checkedReader
			}{
				{"plain", func() *checkedReader {
					return newCheckedReader(t.Context(), opaque(strings.NewReader(tc.body)), tc.size)
				}},
				{"data with EOF", func() *checkedReader {
					return newCheckedReader(t.Context(), &dataWithEOF{data: []byte(tc.body)}, tc.size)
				}},
			} {
				var got bytes.Buffer
				_, err := got.ReadFrom(r.body())
				if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
					t.Fatalf("%s reader: error %v, want %v", r.name, err, tc.wantErr)
				}
				if err == nil && got.String() != tc.body {
					t.Fatalf("%s reader: read %q, want %q", r.name, got.String(), tc.body)
				}
			}
		})
	}
}

// dataWithEOF returns all its data and io.EOF from the same Read, as some
// readers do.
type dataWithEOF struct{ data []byte }

func (d *dataWithEOF) Read(p []byte) (int, error) {
	n := copy(p, d.data)
	d.data = d.data[n:]
	if len(d.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// SweepTemp removes only temporary files old enough to be a crash's
// leftovers: not a Put in progress, not a blob.
func TestLocalSweepTemp(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "items/ab/ok.png", strings.NewReader("fine"), 4, ""); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dir := filepath.Join(s.Dir(), "items", "ab")
	for name, age := range map[string]time.Duration{".tmp-crashed": 2 * time.Hour, ".tmp-writing": time.Minute, "old.png": 5 * time.Hour} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.SweepTemp(t.Context(), time.Hour, now)
	if err != nil || n != 1 {
		t.Fatalf("SweepTemp = %d, %v; want 1", n, err)
	}
	for name, want := range map[string]bool{".tmp-crashed": false, ".tmp-writing": true, "old.png": true, "ok.png": true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s: present %v, want %v", name, err == nil, want)
		}
	}
}
