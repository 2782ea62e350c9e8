package workerapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

// A worker killed mid-Job (it stops heartbeating): its lease expires, the
// reaper puts the Job back, another worker completes it, and the dead
// worker's late upload is refused: the Item is completed once.
func TestKilledWorkerJobIsCompletedByAnother(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		_, key := newKey(t, srv, map[string]any{"name": "pair"})
		dead, alive := workerapi.NewClient(srv.URL, key, nil), workerapi.NewClient(srv.URL, key, nil)
		dead.Wait, alive.Wait = time.Second, time.Second
		user := testsupport.SignUp(t, srv, "killed@example.com")
		id := generate(t, srv, user.SessionID)

		job, err := dead.Claim(ctx, "dead/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := builtin.Backend{}.Render(ctx, worker.RenderJob{Job: job, Payload: payload(t, job)}, func(float64) {})
		if err != nil {
			t.Fatal(err)
		}
		// No heartbeat for longer than the lease: the reaper takes it back.
		srv.Clock.Advance(time.Minute)
		srv.App.Generation.ReapOnce(ctx)
		if got := status(t, srv, user.SessionID, id); got != "queued" {
			t.Fatalf("after the lease expired the Item is %s", got)
		}
		job2, err := alive.Claim(ctx, "alive/0", nil)
		if err != nil || job2.ID != job.ID || job2.Attempts != 2 {
			t.Fatalf("second claim: %+v %v", job2, err)
		}
		if err := alive.Complete(ctx, job2.Lease(), outs); err != nil {
			t.Fatal(err)
		}
		// The dead worker comes back and uploads: refused, nothing changes.
		if err := dead.Complete(ctx, job.Lease(), outs); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("the dead worker's upload: %v, want lease lost", err)
		}
		item, err := srv.App.Store.ItemByID(ctx, id)
		if err != nil || item.Status != aimg.StatusCompleted {
			t.Fatalf("item: %+v %v", item, err)
		}
		first := item.FileID
		env := srv.Get(t, "/api/getMyCreations?limit=10", user.SessionID)
		var list []struct{ ImageID string }
		env.Decode(t, &list)
		if len(list) != 1 {
			t.Fatalf("%d Items after the retry, want 1", len(list))
		}
		if again, _ := srv.App.Store.ItemByID(ctx, id); again.FileID != first {
			t.Fatal("the Item's file changed after it completed")
		}
	})
}

// switchable is a reverse proxy in front of "the server": it can be down
// (connection refused, as while a server restarts) or point at another
// server process sharing the database.
type switchable struct {
	target atomic.Pointer[url.URL]
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := s.target.Load()
	if u == nil {
		// The server is down: drop the connection without an answer.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}

// blockingBackend renders with the builtin renderer once release is closed.
type blockingBackend struct {
	started chan struct{}
	release chan struct{}
}

func (b blockingBackend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	select {
	case b.started <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return builtin.Backend{}.Render(ctx, job, progress)
}

// The server goes away while a remote worker renders (a restart: the
// worker's calls fail for a while) and comes back as another process on
// the same database: the worker's heartbeats and upload get through once
// it is back, and the Job completes, once.
func TestRemoteWorkerSurvivesServerRestart(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		before := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		after := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		proxy := &switchable{}
		u, _ := url.Parse(before.URL)
		proxy.target.Store(u)
		front := httptest.NewServer(proxy)
		t.Cleanup(front.Close)

		_, key := newKey(t, before, map[string]any{"name": "survivor"})
		client := workerapi.NewClient(front.URL, key, nil)
		client.MaxBackoff = 20 * time.Millisecond
		backend := blockingBackend{started: make(chan struct{}, 1), release: make(chan struct{})}
		testsupport.StartPool(t, client, backend, worker.Config{Name: "survivor", ModelIDs: []string{"f222", "sketch", "deluxe", "model3"},
			PollInterval: 10 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond})
		user := testsupport.SignUp(t, before, "restart@example.com")
		id := generate(t, before, user.SessionID)
		<-backend.started

		proxy.target.Store(nil) // the server is down; the worker keeps rendering
		time.Sleep(100 * time.Millisecond)
		u2, _ := url.Parse(after.URL)
		proxy.target.Store(u2) // back, as another process
		close(backend.release)
		waitStatus(t, after, user.SessionID, id, "completed")
		item, err := after.App.Store.ItemByID(t.Context(), id)
		if err != nil || item.FileID == "" {
			t.Fatalf("item: %+v %v", item, err)
		}
	})
}
