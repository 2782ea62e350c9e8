package store

import (
	"strings"
	"testing"
)

// Job ids are packed into NOTIFY payloads that each fit PostgreSQL's
// limit; none is "anything changed"; junk ids are dropped.
func TestNotifyPayloads(t *testing.T) {
	if got := notifyPayloads(nil); len(got) != 1 || got[0] != "" {
		t.Fatalf("no ids: %q", got)
	}
	var ids []string
	for i := range 500 {
		ids = append(ids, strings.Repeat(string(rune('a'+i%26)), 36))
	}
	got := notifyPayloads(append(ids, "bad,id", ""))
	var back []string
	for _, p := range got {
		if len(p) > maxNotifyPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		back = append(back, strings.Split(p, ",")...)
	}
	if len(got) < 2 || len(back) != len(ids) {
		t.Fatalf("%d payloads carrying %d ids, want several carrying %d", len(got), len(back), len(ids))
	}
}
