package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"aimg/internal/aimg"
)

// PreviewSink is a JobSource that takes live previews: the generation
// service in process, the worker API client remotely. A Pool whose source
// is one hands its backends' previews over (RenderJob.ShowPreview).
type PreviewSink interface {
	// Preview sends the latest preview image of the Job's item-th Item.
	// The server checks the budgets (at most 256 KiB, PNG/JPEG/WebP, a
	// bounded number of pixels) and drops previews that come too often.
	Preview(ctx context.Context, l aimg.Lease, item int, image []byte) error
}

// PreviewInterval is the least time between two previews a slot sends for
// one Job; the backend may offer more, only the latest is kept.
const PreviewInterval = time.Second

type preview struct {
	item  int
	image []byte
}

// previews wires rj.Preview to the source, when it takes previews: one
// goroutine sends the latest offered preview, at most one per
// PreviewInterval, so a backend never waits on the network. The returned
// func stops it (the render is over) and waits for it.
func (p *Pool) previews(ctx context.Context, l aimg.Lease, rj *RenderJob, log *slog.Logger) (stop func()) {
	sink, ok := p.src.(PreviewSink)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var latest atomic.Pointer[preview]
	ready := make(chan struct{}, 1)
	rj.Preview = func(item int, image []byte) {
		latest.Store(&preview{item: item, image: image})
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ready:
			}
			pv := latest.Swap(nil)
			if pv == nil {
				continue
			}
			cctx, ccancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
			err := sink.Preview(cctx, l, pv.item, pv.image)
			ccancel()
			switch {
			case err == nil, ctx.Err() != nil, errors.Is(err, aimg.ErrLeaseLost), errors.Is(err, aimg.ErrJobCancelled):
				// The heartbeat tells the render about a lost lease.
			default:
				log.Warn("send a live preview", "item", pv.item, "err", err)
			}
			t := time.NewTimer(PreviewInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}
