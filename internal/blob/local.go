package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	localDirPerm  = 0o750
	localFilePerm = 0o640
	// tempPrefix names files being written. ValidateKey rejects segments
	// starting with ".", so no key can collide with one.
	tempPrefix = ".tmp-"
)

// Local stores blobs as files under one directory, one file per key. Every
// access goes through os.Root, so even a symlink planted inside the directory
// cannot lead a key outside it.
type Local struct {
	dir     string
	syncs   *dirSyncer
	durable durableDirs
}

// durableDirs holds directories whose own entry this process has synced
// (by syncing their parent after they existed): a Put into one of them
// syncs only that directory, not its parent as well. It holds at most
// maxDurableDirs and starts over when full, which costs only syncs: the
// generated outputs share a few hundred directories, while uploads with
// a client's id each have their own.
type durableDirs struct {
	mu   sync.Mutex
	dirs map[string]struct{}
}

const maxDurableDirs = 4096

func (d *durableDirs) has(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.dirs[dir]
	return ok
}

func (d *durableDirs) add(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil || len(d.dirs) >= maxDurableDirs {
		d.dirs = make(map[string]struct{})
	}
	d.dirs[dir] = struct{}{}
}

var _ Store = (*Local)(nil)

// NewLocal returns a store rooted at dir, creating the directory if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, localDirPerm); err != nil {
		return nil, fmt.Errorf("blob: create local directory: %w", err)
	}
	return &Local{dir: abs, syncs: newDirSyncer(syncDir)}, nil
}

// Dir is the absolute directory holding the blobs.
func (l *Local) Dir() string { return l.dir }

// String describes the store for logs.
func (l *Local) String() string { return "file://" + filepath.ToSlash(l.dir) }

// Put writes r to a temporary file beside the final one, syncs it and renames
// it into place, so a crash never leaves a partial file under the key. It
// returns once the file and its directory entries are durable: the
// directory of the key, and the parent of every directory Put created, are
// synced together with those of the Puts waiting at the same moment
// (dirSyncer). contentType is not stored: the local store derives it from
// the extension.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	defer root.Close()

	dir := path.Dir(key)
	// The directory usually exists: create it only when the file cannot be.
	tmp, f, err := createTemp(root, dir)
	var created []string
	if errors.Is(err, fs.ErrNotExist) {
		if created, err = mkdirs(root, dir); err == nil {
			tmp, f, err = createTemp(root, dir)
		}
	}
	if err != nil {
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := writeAndSync(f, newCheckedReader(ctx, r, size)); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := root.Rename(tmp, filepath.FromSlash(key)); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("blob: put %q: %w", key, err)
	}
	// The rename's entry is in dir; a directory created here has its entry
	// in its parent. The parent of dir is synced too until this process
	// has done so once, even when another Put created dir a moment ago:
	// that Put's sync may not have run yet.
	toSync := append(created, dir)
	durable := l.durable.has(dir)
	if dir != "." && !durable {
		toSync = append(toSync, path.Dir(dir))
	}
	if err := l.syncs.sync(root, toSync); err != nil {
		return fmt.Errorf("blob: put %q: sync directory: %w", key, err)
	}
	if !durable {
		l.durable.add(dir)
	}
	return nil
}

// mkdirs creates dir and its missing parents, the way MkdirAll does but
// starting at dir itself (usually its parent exists: one system call), and
// returns the parents of the directories it created.
func mkdirs(root *os.Root, dir string) ([]string, error) {
	if dir == "." {
		return nil, nil
	}
	err := root.Mkdir(filepath.FromSlash(dir), localDirPerm)
	switch {
	case err == nil:
		return []string{path.Dir(dir)}, nil
	case errors.Is(err, fs.ErrExist):
		return nil, nil // a file there fails createTemp with ENOTDIR
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	created, err := mkdirs(root, path.Dir(dir))
	if err != nil {
		return nil, err
	}
	err = root.Mkdir(filepath.FromSlash(dir), localDirPerm)
	if err == nil {
		return append(created, path.Dir(dir)), nil
	}
	if errors.Is(err, fs.ErrExist) {
		return created, nil
	}
	return nil, err
}

// createTemp creates a new, uniquely named temporary file in dir.
func createTemp(root *os.Root, dir string) (string, *os.File, error) {
	for range 10 {
		var random [8]byte
		_, _ = rand.Read(random[:])
		name := filepath.FromSlash(path.Join(dir, tempPrefix+hex.EncodeToString(random[:])))
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, localFilePerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, errors.New("could not create a unique temporary file")
}

// writeAndSync copies r into f, syncs and closes f.
func writeAndSync(f *os.File, r *checkedReader) error {
	_, err := io.Copy(f, r)
	if err != nil {
		_ = f.Close()
		return r.failure(err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory, so that the entries created or renamed in
// it survive a crash.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(filepath.FromSlash(dir))
	if err != nil {
		return err
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	return err
}

// Open opens the blob's file. Directories and other non-regular files are
// reported as not found.
func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(key))
	if err != nil {
		return nil, localError("open", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob: open %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("blob: open %q: %w", key, ErrNotFound)
	}
	return &localObject{File: f, info: localInfo(key, fi)}, nil
}

// Stat describes the blob's file.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	defer root.Close()
	fi, err := root.Stat(filepath.FromSlash(key))
	if err != nil {
		return Info{}, localError("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, ErrNotFound)
	}
	return localInfo(key, fi), nil
}

// Delete removes the blob's file. Empty parent directories are left in
// place: removing them could race with a concurrent Put below them.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	defer root.Close()
	name := filepath.FromSlash(key)
	fi, err := root.Lstat(name)
	if err != nil {
		if isLocalNotExist(err) {
			return nil
		}
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a directory is not a blob, so the key holds none
	}
	if err := root.Remove(name); err != nil && !isLocalNotExist(err) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	return nil
}

// Ping checks that the directory exists and accepts new files.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: ping: %w", err)
	}
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return fmt.Errorf("blob: ping: %w", err)
	}
	defer root.Close()
	name, f, err := createTemp(root, ".")
	if err != nil {
		return fmt.Errorf("blob: ping: directory %s is not writable: %w", l.dir, err)
	}
	_ = f.Close()
	if err := root.Remove(name); err != nil {
		return fmt.Errorf("blob: ping: %w", err)
	}
	return nil
}

func localInfo(key string, fi fs.FileInfo) Info {
	return Info{Key: key, Size: fi.Size(), ContentType: contentTypeForKey(key), ModTime: fi.ModTime()}
}

// isLocalNotExist also counts "a/b" where "a" is a file as absent.
func isLocalNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func localError(op, key string, err error) error {
	if isLocalNotExist(err) {
		return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

type localObject struct {
	*os.File
	info Info
}

func (o *localObject) Info() Info { return o.info }

// SweepTemp removes the temporary files (".tmp-…") that a crash in the
// middle of a Put left behind, when they are older than olderThan (a Put
// in progress is never that old). Several processes may sweep one
// directory at once: a file already gone is not an error. It returns how
// many it removed.
func (l *Local) SweepTemp(ctx context.Context, olderThan time.Duration, now time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil || now.Sub(info.ModTime()) < olderThan {
			return nil
		}
		if err := os.Remove(p); err == nil {
			removed++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	return removed, err
}
