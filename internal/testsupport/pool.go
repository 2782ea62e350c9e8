package testsupport

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"aimg/internal/worker"
)

// StartPool starts a worker pool on src for the test and stops it at
// cleanup, ending a waiting claim first when src can (workerapi.Client),
// so that the stop does not wait out a long poll.
func StartPool(t testing.TB, src worker.JobSource, backend worker.Backend, cfg worker.Config) *worker.Pool {
	t.Helper()
	pool, err := worker.NewPool(src, backend, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pool.Start(context.Background()) // until the cleanup stops it
	t.Cleanup(func() {
		if w, ok := src.(interface{ StopWaiting() }); ok {
			w.StopWaiting()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = pool.Stop(ctx)
	})
	return pool
}
