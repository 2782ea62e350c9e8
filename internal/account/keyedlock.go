package account

import "sync"

// keyedLocks serialises work per key within this process (the first use of
// one session by parallel requests). The zero value is ready; an entry lives
// only while someone holds or waits for its key.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu      sync.Mutex
	holders int // holding or waiting
}

// lock takes key's lock and returns its release.
func (k *keyedLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.holders++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.holders--; l.holders == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
