package workerapi

import "sync"

// Wake tells every waiting claim that a Job was queued: C returns a
// channel that Broadcast closes (and replaces). A claim takes C before it
// looks at the queue, so a Job queued between its look and its wait still
// wakes it.
type Wake struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewWake makes a Wake.
func NewWake() *Wake { return &Wake{ch: make(chan struct{})} }

// C is closed at the next Broadcast.
func (w *Wake) C() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

// Broadcast wakes every claim waiting now.
func (w *Wake) Broadcast() {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.ch)
	w.ch = make(chan struct{})
}
