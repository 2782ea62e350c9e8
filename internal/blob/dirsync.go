package blob

import (
	"os"
	"slices"
	"sync"
)

// dirSyncer is the group commit of the local store's directory syncs. A
// Put hands over the directories whose entries it changed (after the
// change) and waits. Whoever holds the leader token syncs every directory
// handed over so far, each once, answers the Puts that asked for it, and
// passes the token on; a Put whose directories a leader synced meanwhile
// never leads. Concurrent Puts of files under one directory ("files/")
// thus share one fsync of it, and no Put returns before a sync that
// started after its own change. No goroutine of its own: the Puts do the
// work, so there is nothing to stop.
type dirSyncer struct {
	syncDir func(root *os.Root, dir string) error
	leader  chan struct{} // holds the token when no sync runs

	mu      sync.Mutex
	waiting map[string][]chan error // directory -> the Puts waiting for its sync
}

func newDirSyncer(syncDir func(root *os.Root, dir string) error) *dirSyncer {
	d := &dirSyncer{syncDir: syncDir, leader: make(chan struct{}, 1), waiting: map[string][]chan error{}}
	d.leader <- struct{}{}
	return d
}

// sync returns once every directory in dirs was synced after the call
// began, with the first error of those syncs.
func (d *dirSyncer) sync(root *os.Root, dirs []string) error {
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	answers := make(chan error, len(dirs)) // buffered: a leader never blocks on it
	d.mu.Lock()
	for _, dir := range dirs {
		d.waiting[dir] = append(d.waiting[dir], answers)
	}
	d.mu.Unlock()
	var first error
	for range dirs {
		var err error
		select {
		case err = <-answers:
		case <-d.leader:
			d.lead(root)
			err = <-answers // the batch held this Put's directories (or a leader before answered them)
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// lead syncs the directories waiting now and hands the token back. All
// Puts of one store share its root directory, so any Put's root serves.
func (d *dirSyncer) lead(root *os.Root) {
	defer func() { d.leader <- struct{}{} }()
	d.mu.Lock()
	batch := d.waiting
	d.waiting = map[string][]chan error{}
	d.mu.Unlock()
	for dir, waiters := range batch {
		err := d.syncDir(root, dir)
		for _, w := range waiters {
			w <- err
		}
	}
}
