package blob

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// syncRecorder stands in for the directory fsync: it records, for every
// sync, which entries the directory held when the sync began, and can hold
// the syncs until released so that Puts pile up behind one.
type syncRecorder struct {
	mu     sync.Mutex
	seen   map[string][][]string // dir -> the entries of each of its syncs
	gate   chan struct{}         // nil: syncs run at once
	inSync chan struct{}         // receives when a sync waits at the gate
}

func (r *syncRecorder) syncDir(root *os.Root, dir string) error {
	d, err := root.Open(filepath.FromSlash(dir))
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	_ = d.Close()
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.seen[dir] = append(r.seen[dir], names)
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		r.inSync <- struct{}{}
		<-gate
	}
	return syncDir(root, dir)
}

// synced tells whether a sync of dir began after name was in it.
func (r *syncRecorder) synced(dir, name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, names := range r.seen[dir] {
		if slices.Contains(names, name) {
			return true
		}
	}
	return false
}

func (r *syncRecorder) syncs(dir string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen[dir])
}

func newRecordedLocal(t *testing.T) (*Local, *syncRecorder) {
	t.Helper()
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := &syncRecorder{seen: map[string][][]string{}, inSync: make(chan struct{})}
	s.syncs = newDirSyncer(rec.syncDir)
	return s, rec
}

// Every Put returns only after its file's entry and its new directory's
// entry were in their directories when a sync of them began, also when
// many Puts share the syncs; and every file then holds what was put.
func TestLocalPutReturnsAfterItsDirectoriesAreSynced(t *testing.T) {
	s, rec := newRecordedLocal(t)
	const puts = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*puts)
	for i := range puts {
		wg.Go(func() {
			key := fmt.Sprintf("files/id-%02d/original", i)
			if err := s.Put(t.Context(), key, strings.NewReader(key), int64(len(key)), ""); err != nil {
				errs <- err
				return
			}
			// Checked as the Put returns: nothing may be missing now.
			if !rec.synced(path.Dir(key), "original") {
				errs <- fmt.Errorf("Put(%q) returned before a sync of its directory saw the file", key)
			}
			if !rec.synced("files", path.Base(path.Dir(key))) {
				errs <- fmt.Errorf("Put(%q) returned before a sync of files/ saw its new directory", key)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range puts {
		key := fmt.Sprintf("files/id-%02d/original", i)
		got, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(key)))
		if err != nil || string(got) != key {
			t.Errorf("%s holds %q, %v; want its key", key, got, err)
		}
	}
}

// Puts that wait while a sync runs are synced together by the next one:
// one fsync of their shared directory, not one each.
func TestLocalPutsWaitingTogetherShareTheirDirectorySync(t *testing.T) {
	s, rec := newRecordedLocal(t)
	rec.gate = make(chan struct{})
	put := func(key string, done chan<- error) {
		done <- s.Put(t.Context(), key, strings.NewReader("x"), 1, "")
	}
	first := make(chan error, 1)
	go put("files/a/original", first)
	<-rec.inSync // the first Put leads and holds its first sync
	const waiting = 5
	rest := make(chan error, waiting)
	for i := range waiting {
		go put(fmt.Sprintf("files/b%d/original", i), rest)
	}
	// Wait until all five handed their directories over.
	for {
		s.syncs.mu.Lock()
		n := len(s.syncs.waiting["files"])
		s.syncs.mu.Unlock()
		if n == waiting {
			break
		}
		runtime.Gosched()
	}
	close(rec.gate) // from now on syncs pass; inSync still reports each
	go func() {
		for range rec.inSync {
		}
	}()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range waiting {
		if err := <-rest; err != nil {
			t.Fatal(err)
		}
	}
	close(rec.inSync)
	// files/ was synced for the first Put, then once for the five.
	if got := rec.syncs("files"); got != 2 {
		t.Errorf("files/ was synced %d times for 6 Puts in two groups, want 2", got)
	}
}

// Puts into a directory that already holds a synced entry sync only that
// directory: its own entry in the parent was synced by the first Put, so
// the parent is synced once for all of them, not once per file (issue 11:
// the generated outputs share a few hundred directories).
func TestLocalPutsIntoASyncedDirectorySyncItsParentOnce(t *testing.T) {
	s, rec := newRecordedLocal(t)
	const puts = 5
	for i := range puts {
		key := fmt.Sprintf("files/ab/ab-%d", i)
		if err := s.Put(t.Context(), key, strings.NewReader(key), int64(len(key)), ""); err != nil {
			t.Fatal(err)
		}
		if !rec.synced("files/ab", path.Base(key)) || !rec.synced("files", "ab") {
			t.Fatalf("Put(%q) returned before its entries were synced", key)
		}
	}
	if got := rec.syncs("files"); got != 1 {
		t.Errorf("files/ was synced %d times for %d Puts into files/ab, want 1", got, puts)
	}
	if got := rec.syncs("files/ab"); got != puts {
		t.Errorf("files/ab was synced %d times for %d Puts, want %d", got, puts, puts)
	}
}

// The set of synced directories is bounded: uploads with a client id each
// have a directory of their own, and nothing a client sends may grow
// without bound.
func TestDurableDirsAreBounded(t *testing.T) {
	var d durableDirs
	for i := range 3 * maxDurableDirs {
		d.add(fmt.Sprintf("files/%d", i))
		if n := len(d.dirs); n > maxDurableDirs {
			t.Fatalf("%d directories remembered, at most %d allowed", n, maxDurableDirs)
		}
	}
	if !d.has(fmt.Sprintf("files/%d", 3*maxDurableDirs-1)) {
		t.Error("the latest directory was forgotten")
	}
}
