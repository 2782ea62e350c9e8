package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"aimg/internal/server"
)

// On a download the write deadline follows progress: it is set afresh
// before every piece written, so only a stalled client is cut off.
func TestMovingWriteDeadline(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	body := strings.Repeat("x", 150<<10)
	for timeout, want := range map[time.Duration]int{time.Minute: 5, 0: 0} {
		rec := &deadlineRecorder{header: http.Header{}}
		w := server.MovingWriteDeadline(rec, timeout, clock)
		// http.ServeContent copies with io.CopyN from a file: no WriterTo.
		io.CopyN(w, struct{ io.Reader }{strings.NewReader(body)}, int64(len(body)))
		if len(rec.deadlines) != want || rec.n != len(body) {
			t.Fatalf("timeout %s: %d deadlines for %d bytes, want %d for %d", timeout, len(rec.deadlines), rec.n, want, len(body))
		}
		for i, d := range rec.deadlines {
			if i > 0 && !d.After(rec.deadlines[i-1]) {
				t.Fatalf("deadline %d did not move: %v", i, rec.deadlines)
			}
		}
	}
}

// deadlineRecorder is a ResponseWriter that records write deadlines.
type deadlineRecorder struct {
	header    http.Header
	n         int
	deadlines []time.Time
}

func (d *deadlineRecorder) Header() http.Header         { return d.header }
func (d *deadlineRecorder) WriteHeader(int)             {}
func (d *deadlineRecorder) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}
