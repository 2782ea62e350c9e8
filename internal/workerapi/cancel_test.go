package workerapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

// gatedBackend reports progress 0.5, then waits for its gate (or its
// context), then renders with the builtin backend. It records how each
// render ended.
type gatedBackend struct {
	started chan string // the Job id, when a render starts
	gate    chan struct{}
	mu      sync.Mutex
	ended   map[string]error // Job id -> the ctx error the render saw (nil: rendered)
}

func newGated() *gatedBackend {
	return &gatedBackend{started: make(chan string, 10), gate: make(chan struct{}), ended: map[string]error{}}
}

func (b *gatedBackend) Render(ctx context.Context, j worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	progress(0.5)
	b.started <- j.Job.ID
	select {
	case <-ctx.Done():
		b.mu.Lock()
		b.ended[j.Job.ID] = ctx.Err()
		b.mu.Unlock()
		return nil, ctx.Err()
	case <-b.gate:
	}
	b.mu.Lock()
	b.ended[j.Job.ID] = nil
	b.mu.Unlock()
	return builtin.Backend{}.Render(ctx, j, progress)
}

func (b *gatedBackend) endOf(id string) (error, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	err, ok := b.ended[id]
	return err, ok
}

// startPool runs a remote worker (the Client as job source) against srv.
func startPool(t *testing.T, srv *testsupport.Server, name string, b worker.Backend) *workerapi.Client {
	t.Helper()
	_, key := newKey(t, srv, map[string]any{"name": name})
	client := workerapi.NewClient(srv.URL, key, nil)
	client.Wait = time.Second
	testsupport.StartPool(t, client, b, worker.Config{Name: name, Concurrency: 1,
		PollInterval: 10 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond,
		ModelIDs: []string{"f222"}})
	return client
}

type outcome struct {
	ID      string
	Success bool
	Message string
}

func cancelItems(t *testing.T, srv *testsupport.Server, session string, body map[string]any) []outcome {
	t.Helper()
	env := srv.Post(t, "/api/cancelGeneration", session, body)
	testsupport.ExpectOK(t, env)
	var out []outcome
	env.Decode(t, &out)
	return out
}

func itemOf(t *testing.T, srv *testsupport.Server, id string) *aimg.Item {
	t.Helper()
	it, err := srv.App.Store.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Cancelling a queued Item: its Job leaves the queue at once (the next
// claim gets the other Job), the Item fails with reason "cancelled".
// Another user's Item is "not found" and stays as it was.
func TestCancelQueuedGeneration(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		owner := testsupport.SignUp(t, srv, "owner@example.com")
		other := testsupport.SignUp(t, srv, "other@example.com")
		first, second := generate(t, srv, owner.SessionID), generate(t, srv, owner.SessionID)

		out := cancelItems(t, srv, other.SessionID, map[string]any{"imageIDs": []string{first}})
		if len(out) != 1 || out[0].Success || out[0].Message != "Item not found" {
			t.Fatalf("another user's cancel: %+v", out)
		}
		if got := status(t, srv, owner.SessionID, first); got != "queued" {
			t.Fatalf("after another user's cancel the Item is %s", got)
		}

		out = cancelItems(t, srv, owner.SessionID, map[string]any{"imageID": first})
		if len(out) != 1 || !out[0].Success || out[0].ID != first {
			t.Fatalf("cancel: %+v", out)
		}
		if it := itemOf(t, srv, first); it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason {
			t.Fatalf("cancelled Item: %s %q", it.Status, it.Error)
		}
		_, key := newKey(t, srv, map[string]any{"name": "next"})
		c := workerapi.NewClient(srv.URL, key, nil)
		c.Wait = time.Second
		job, err := c.Claim(t.Context(), "next/0", nil)
		if err != nil || job.ItemIDs[0] != second {
			t.Fatalf("the next claim: %+v %v, want the Job of %s", job, err, second)
		}
		// Cancelling it again: answered, nothing to do.
		out = cancelItems(t, srv, owner.SessionID, map[string]any{"imageIDs": first})
		if out[0].Success || !strings.Contains(out[0].Message, "nothing to cancel") {
			t.Fatalf("second cancel: %+v", out)
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/cancelGeneration", owner.SessionID, map[string]any{}), 400, "imageIDs")
	})
}

// Cancelling a Job that a remote worker renders: the worker hears it in
// its next heartbeat and cancels the render's context, nothing completes,
// the Item fails with reason "cancelled"; a complete sent afterwards with
// the old lease is refused and changes nothing.
func TestCancelRunningGenerationOnRemoteWorker(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		b := newGated()
		client := startPool(t, srv, "gpu-cancel", b)
		user := testsupport.SignUp(t, srv, "cancel@example.com")
		id := generate(t, srv, user.SessionID)
		jobID := <-b.started
		out := cancelItems(t, srv, user.SessionID, map[string]any{"imageIDs": []string{id}})
		if !out[0].Success {
			t.Fatalf("cancel: %+v", out)
		}
		// The backend sees its context cancelled (bounded by the test's deadline).
		for {
			if err, ok := b.endOf(jobID); ok {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("the render ended with %v, want its context cancelled", err)
				}
				break
			}
			if t.Context().Err() != nil {
				t.Fatal("the render was never interrupted")
			}
			time.Sleep(10 * time.Millisecond)
		}
		job, err := srv.App.Store.JobByID(context.Background(), jobID)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != aimg.JobFailed || job.Error != aimg.CancelledReason {
			t.Fatalf("job: %s %q", job.Status, job.Error)
		}
		if it := itemOf(t, srv, id); it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason || it.FileID != "" {
			t.Fatalf("item: %s %q %q", it.Status, it.Error, it.FileID)
		}
		// The old lease: heartbeat and complete are told "cancelled".
		lease := job.Lease()
		if err := client.Heartbeat(t.Context(), lease, 0.9); !errors.Is(err, aimg.ErrJobCancelled) {
			t.Fatalf("heartbeat after cancel: %v", err)
		}
		outs, err := builtin.Backend{}.Render(t.Context(), worker.RenderJob{Job: job, Payload: payload(t, job)}, func(float64) {})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Complete(t.Context(), lease, outs); !errors.Is(err, aimg.ErrJobCancelled) {
			t.Fatalf("complete after cancel: %v", err)
		}
		if it := itemOf(t, srv, id); it.Status != aimg.StatusFailed || it.FileID != "" {
			t.Fatalf("a complete after the cancel resurrected the Item: %+v", it)
		}
	})
}

// sseEvent is one event of a getItemEvents stream.
type sseEvent struct {
	Name string // "" for status events, "end" at the end
	Data string
}

// itemStatusEvent is a status event's data.
type itemStatusEvent struct {
	ImageID       string   `json:"imageID"`
	Status        string   `json:"status"`
	Progress      *float64 `json:"progress"`
	QueuePosition *int64   `json:"queuePosition"`
	URL           string   `json:"url"`
	Reason        string   `json:"reason"`
}

// openEvents opens a stream; the events arrive on the channel, which is
// closed when the stream ends.
func openEvents(t *testing.T, base, session, ids string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/getItemEvents?imageIDs="+ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Session-ID", session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sseEvent, 100)
	if resp.StatusCode != http.StatusOK {
		close(ch)
		return ch, resp
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch, resp
}

// next is the next status event (the test's deadline bounds the wait).
func next(t *testing.T, ch <-chan sseEvent) (itemStatusEvent, sseEvent) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended early")
		}
		var s itemStatusEvent
		if ev.Name == "" {
			if err := json.Unmarshal([]byte(ev.Data), &s); err != nil {
				t.Fatalf("event data %q: %v", ev.Data, err)
			}
		}
		return s, ev
	case <-t.Context().Done():
		t.Fatal("no event")
	}
	panic("unreachable")
}

// untilStatus reads events until one shows want (and, for processing,
// progress 0.5).
func untilStatus(t *testing.T, ch <-chan sseEvent, want string) itemStatusEvent {
	t.Helper()
	for {
		s, ev := next(t, ch)
		if ev.Name != "" {
			t.Fatalf("stream ended (%s %s) before status %s", ev.Name, ev.Data, want)
		}
		if s.Status == "failed" && want != "failed" {
			t.Fatalf("item failed: %+v", s)
		}
		if s.Status == want && (want != "processing" || s.Progress != nil && *s.Progress == 0.5) {
			return s
		}
	}
}

// expectEnd reads the end event and the close of the stream.
func expectEnd(t *testing.T, ch <-chan sseEvent, reason string) {
	t.Helper()
	_, ev := next(t, ch)
	if ev.Name != "end" || !strings.Contains(ev.Data, `"reason":"`+reason+`"`) {
		t.Fatalf("got %+v, want the end event (%s)", ev, reason)
	}
	if _, ok := <-ch; ok {
		t.Fatal("the stream goes on after its end event")
	}
}

// A stream shows an Item queued, processing with its worker's progress,
// then completed with its URL, and ends; other users' ids are refused.
func TestItemEventsStream(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		user := testsupport.SignUp(t, srv, "events@example.com")
		other := testsupport.SignUp(t, srv, "nosy@example.com")
		id := generate(t, srv, user.SessionID)

		// Someone else's Item: 404, as if it did not exist; too many: 400.
		if _, resp := openEvents(t, srv.URL, other.SessionID, id); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("another user's stream: %d", resp.StatusCode)
		}
		many := []string{id}
		for i := range 100 {
			many = append(many, fmt.Sprintf("x%d", i))
		}
		if _, resp := openEvents(t, srv.URL, user.SessionID, strings.Join(many, ",")); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("101 ids: %d", resp.StatusCode)
		}

		ch, _ := openEvents(t, srv.URL, user.SessionID, id)
		if s := untilStatus(t, ch, "queued"); s.ImageID != id || s.QueuePosition == nil || *s.QueuePosition != 1 {
			t.Fatalf("first event: %+v", s)
		}
		b := newGated()
		startPool(t, srv, "gpu-events", b)
		<-b.started
		untilStatus(t, ch, "processing") // with the worker's progress 0.5
		close(b.gate)
		if s := untilStatus(t, ch, "completed"); !strings.Contains(s.URL, "/api/getFile") {
			t.Fatalf("completed event: %+v", s)
		}
		expectEnd(t, ch, "final")
		if n := srv.App.Generation.Events().Open(); n != 0 {
			t.Fatalf("%d streams still open after the end", n)
		}
	})
}

// A cancelled Item's stream ends with it failed, reason "cancelled".
func TestItemEventsShowCancel(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	user := testsupport.SignUp(t, srv, "evcancel@example.com")
	id := generate(t, srv, user.SessionID)
	ch, _ := openEvents(t, srv.URL, user.SessionID, id)
	untilStatus(t, ch, "queued")
	cancelItems(t, srv, user.SessionID, map[string]any{"imageIDs": []string{id}})
	if s := untilStatus(t, ch, "failed"); s.Reason != aimg.CancelledReason {
		t.Fatalf("failed event: %+v", s)
	}
	expectEnd(t, ch, "final")
}

// Two replicas on one PostgreSQL database: a stream open at replica A
// follows an Item rendered by a worker of replica B. The streams' own
// re-check is an hour away, so only the notifications (LISTEN/NOTIFY)
// can carry the events.
func TestItemEventsAcrossReplicas(t *testing.T) {
	url := testsupport.FreshPostgres(t)
	slow := func(c *config.Config) { c.Service.Generation.ItemEvents.KeepAlive = time.Hour }
	a := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, slow)
	b := testsupport.NewServer(t, url, testsupport.WithoutRateLimits, slow)
	for _, srv := range []*testsupport.Server{a, b} {
		srv.App.Start(context.Background())
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = srv.App.Stop(ctx)
		})
	}
	user := testsupport.SignUp(t, b, "replica-events@example.com")
	id := generate(t, b, user.SessionID)
	ch, _ := openEvents(t, a.URL, user.SessionID, id)
	untilStatus(t, ch, "queued")
	gb := newGated()
	startPool(t, b, "gpu-replica", gb)
	<-gb.started
	untilStatus(t, ch, "processing")
	close(gb.gate)
	untilStatus(t, ch, "completed")
	expectEnd(t, ch, "final")
}

// The server's write and read timeouts do not cut a healthy stream: with
// both at 200 ms and a keep-alive every 20 ms, thirty keep-alives (which
// take at least 600 ms) arrive on one open stream.
func TestItemEventsOutliveTheServerTimeouts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits, func(c *config.Config) {
		c.Service.Generation.ItemEvents.KeepAlive = 20 * time.Millisecond
		c.Service.HTTP.WriteTimeout = timeout
	})
	hs := httptest.NewUnstartedServer(srv.App.HTTP)
	hs.Config.WriteTimeout, hs.Config.ReadTimeout = timeout, timeout
	hs.Start()
	t.Cleanup(hs.Close)
	user := testsupport.SignUp(t, srv, "timeouts@example.com")
	id := generate(t, srv, user.SessionID)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/api/getItemEvents?imageIDs="+id, nil)
	req.Header.Set("X-Session-ID", user.SessionID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for n < 30 && sc.Scan() {
		if sc.Text() == ": keep-alive" {
			n++
		}
	}
	if n < 30 {
		t.Fatalf("the stream was cut after %d keep-alives: %v", n, sc.Err())
	}
}

// An Admin cancels anyone's Items; batchID names every Item of a batch of
// the caller's, and another user's batch is not found.
func TestCancelByAdminAndByBatch(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	owner := testsupport.SignUp(t, srv, "batch-owner@example.com")
	other := testsupport.SignUp(t, srv, "batch-other@example.com")
	first, second := generate(t, srv, owner.SessionID), generate(t, srv, owner.SessionID)

	env := srv.AdminPost(t, "/api/cancelGeneration", map[string]any{"imageIDs": first})
	testsupport.ExpectOK(t, env)
	if it := itemOf(t, srv, first); it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason {
		t.Fatalf("after the Admin's cancel: %s %q", it.Status, it.Error)
	}
	batch := itemOf(t, srv, second).BatchID
	testsupport.ExpectError(t, srv.Post(t, "/api/cancelGeneration", other.SessionID, map[string]any{"batchID": batch}), 404, "batchID")
	if it := itemOf(t, srv, second); it.Status != aimg.StatusQueued {
		t.Fatalf("another user's batch cancel changed the Item: %s", it.Status)
	}
	out := cancelItems(t, srv, owner.SessionID, map[string]any{"batchID": batch})
	if len(out) != 1 || out[0].ID != second || !out[0].Success {
		t.Fatalf("batch cancel: %+v", out)
	}
}

// Past the per-user budget a new stream is refused with 429; closing one
// gives its slot back.
func TestItemEventsPerUserBudget(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits, func(c *config.Config) {
		c.Service.Generation.ItemEvents.MaxStreamsPerUser = 1
	})
	user := testsupport.SignUp(t, srv, "budget@example.com")
	id := generate(t, srv, user.SessionID)
	ch, first := openEvents(t, srv.URL, user.SessionID, id)
	untilStatus(t, ch, "queued")
	_, second := openEvents(t, srv.URL, user.SessionID, id)
	second.Body.Close()
	if second.StatusCode != http.StatusTooManyRequests || second.Header.Get("Retry-After") == "" {
		t.Fatalf("a second stream: %d (Retry-After %q)", second.StatusCode, second.Header.Get("Retry-After"))
	}
	first.Body.Close()
	for srv.App.Generation.Events().Open() != 0 { // the server sees the close (bounded by the test's deadline)
		if t.Context().Err() != nil {
			t.Fatal("the closed stream's slot was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ch, _ = openEvents(t, srv.URL, user.SessionID, id)
	untilStatus(t, ch, "queued")
}
