package keylock

import (
	"sync"
	"sync/atomic"
	"testing"
)

// One key is held by one caller at a time, other keys are not blocked, and
// no entry outlives its holders.
func TestMapSerialisesPerKeyAndForgets(t *testing.T) {
	var m Map
	keys := []string{"a", "b", "c"}
	holders := map[string]*atomic.Int32{"a": {}, "b": {}, "c": {}}
	counts := map[string]*int{"a": new(int), "b": new(int), "c": new(int)} // written only under the key's lock
	var wg sync.WaitGroup
	for i := range 300 {
		key := keys[i%3]
		wg.Go(func() {
			unlock := m.Lock(key)
			defer unlock()
			if n := holders[key].Add(1); n != 1 {
				t.Errorf("key %s held by %d callers at once", key, n)
			}
			*counts[key]++
			holders[key].Add(-1)
		})
	}
	wg.Wait()
	for _, k := range keys {
		if *counts[k] != 100 {
			t.Fatalf("key %s: %d of 100 callers ran", k, *counts[k])
		}
	}
	if n := m.Len(); n != 0 {
		t.Fatalf("%d entries left after every holder released", n)
	}
	// A held key does not block another.
	unlock := m.Lock("x")
	m.Lock("y")()
	unlock()
}
