package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
)

// cancelSeeingBackend blocks until its context ends and records why.
type cancelSeeingBackend struct {
	started chan struct{}
	sawErr  chan error
}

func (b *cancelSeeingBackend) Render(ctx context.Context, _ worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	progress(0.3)
	close(b.started)
	<-ctx.Done()
	b.sawErr <- ctx.Err()
	return nil, ctx.Err()
}

// countingSource counts the completes and fails that reach the source.
type countingSource struct {
	worker.JobSource
	completes, fails atomic.Int32
}

func (c *countingSource) Complete(ctx context.Context, l aimg.Lease, out []aimg.ItemOutput) error {
	c.completes.Add(1)
	return c.JobSource.Complete(ctx, l, out)
}

func (c *countingSource) Fail(ctx context.Context, l aimg.Lease, reason string, retry bool) error {
	c.fails.Add(1)
	return c.JobSource.Fail(ctx, l, reason, retry)
}

// The embedded pool (generation.Service as its job source) hears a cancel
// in its next heartbeat (aimg.ErrJobCancelled): the render's context is
// cancelled, the Job is neither completed nor failed by the worker, and
// the Item stays failed with reason "cancelled".
func TestEmbeddedPoolInterruptsACancelledJob(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		f := newFixture(t, url)
		ctx := context.Background()
		st := f.generate(t)
		b := &cancelSeeingBackend{started: make(chan struct{}), sawErr: make(chan error, 1)}
		src := &countingSource{JobSource: f.svc}
		p := newPool(t, src, b, f.poolConfig("embedded-cancel"), nil)
		p.Start(ctx)
		defer stopSoon(p)
		<-b.started
		res, err := f.svc.Cancel(ctx, aimg.Caller{User: f.user}, []string{st.ImageID}, "")
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("cancel: %+v %v", res, err)
		}
		if err := <-b.sawErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("the backend saw %v, want its context cancelled", err)
		}
		stopSoon(p) // the slot has finished with the Job once Stop returns
		if n, m := src.completes.Load(), src.fails.Load(); n != 0 || m != 0 {
			t.Fatalf("the worker completed %d and failed %d times after the cancel", n, m)
		}
		it := f.item(t, st.ImageID)
		if it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason || f.files.puts.Load() != 0 {
			t.Fatalf("item %s %q, %d files stored", it.Status, it.Error, f.files.puts.Load())
		}
	})
}
