package worker_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// recordingSink hands each preview to got, then waits for release.
type recordingSink struct {
	got     chan []byte
	release chan struct{}
}

func (r recordingSink) Preview(ctx context.Context, l aimg.Lease, item int, image []byte) error {
	r.got <- image
	<-r.release
	return nil
}

// previewingBackend offers previews as the test tells it to, then
// renders nothing worth keeping (the Job fails; only previews matter).
type previewingBackend struct {
	offer chan []byte
	done  chan struct{}
}

func (b previewingBackend) Render(ctx context.Context, job worker.RenderJob, _ func(float64)) ([]aimg.ItemOutput, error) {
	for {
		select {
		case img := <-b.offer:
			job.ShowPreview(0, img)
		case <-b.done:
			return nil, aimg.Invalid("test", "previews only")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// The pool sends a backend's previews to a source that takes them, never
// making the backend wait (it offers while a send is under way): the first
// at once, then, after PreviewInterval, the latest one offered meanwhile
// (the others dropped).
func TestPoolSendsTheLatestPreview(t *testing.T) {
	f := newFixture(t, "sqlite:"+t.TempDir()+"/aimg.db")
	src := struct {
		worker.JobSource
		worker.PreviewSink
	}{f.svc, recordingSink{make(chan []byte), make(chan struct{}, 10)}}
	sink := src.PreviewSink.(recordingSink)
	b := previewingBackend{offer: make(chan []byte), done: make(chan struct{})}
	p := newPool(t, src, b, worker.Config{Name: "previews", Concurrency: 1, ModelIDs: []string{"sketch"},
		PollInterval: 10 * time.Millisecond}, nil)
	p.Start(t.Context())
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	f.generate(t)

	b.offer <- []byte("first")
	if got := <-sink.got; string(got) != "first" {
		t.Fatalf("first preview sent: %q", got)
	}
	// Offered while the first is on its way: only the latest goes next.
	b.offer <- []byte("second")
	b.offer <- []byte("third")
	sink.release <- struct{}{}
	if got := <-sink.got; string(got) != "third" {
		t.Fatalf("after the interval: %q, want the latest (third)", got)
	}
	sink.release <- struct{}{}
	close(b.done)
	select {
	case got := <-sink.got:
		t.Fatalf("an extra preview %q was sent", got)
	default:
	}
}
