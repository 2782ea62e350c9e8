// Package keylock serialises work per key within one process (the first use
// of a session, the variant records of one file). Across replicas the
// database's constraints decide; this only keeps one process from racing
// itself.
package keylock

import "sync"

// Map holds one mutex per key in use. The zero value is ready; an entry
// lives only while someone holds or waits for its key, so the map never
// grows with the keys strangers send.
type Map struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	sync.Mutex
	holders int // holding or waiting
}

// Lock takes key's mutex and returns its release.
func (m *Map) Lock(key string) (unlock func()) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*entry{}
	}
	e := m.locks[key]
	if e == nil {
		e = &entry{}
		m.locks[key] = e
	}
	e.holders++
	m.mu.Unlock()

	e.Lock()
	return func() {
		e.Unlock()
		m.mu.Lock()
		if e.holders--; e.holders == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}

// Len is the number of keys held or waited for.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}
