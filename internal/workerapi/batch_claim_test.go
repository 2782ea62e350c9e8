package workerapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

// postClaim sends a raw claim body and returns the status and body.
func postClaim(t *testing.T, base, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+workerapi.Prefix+"claim", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// One batch claim hands out as many Jobs as are queued, at most one per
// slot, the i-th leased to the i-th slot; they complete like any other.
func TestBatchClaimLeasesAJobPerSlot(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		keyID, key := newKey(t, srv, map[string]any{"name": "batch"})
		client := workerapi.NewClient(srv.URL, key, nil)
		client.Wait = 100 * time.Millisecond
		// Two users (a user may have 2 Items of a Model queued at once).
		user, other := testsupport.SignUp(t, srv, "batch@example.com"), testsupport.SignUp(t, srv, "other@example.com")
		ids := map[string]bool{}
		for _, u := range []testsupport.Account{user, user, other} {
			ids[generate(t, srv, u.SessionID)] = true
		}
		sessionOf := func(itemID string) string {
			if it, err := srv.App.Store.ItemByID(ctx, itemID); err == nil && it.UserID == other.UserID {
				return other.SessionID
			}
			return user.SessionID
		}
		slots := []string{"b/0", "b/1", "b/2", "b/3"}
		jobs, err := client.ClaimJobs(ctx, slots, nil)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("batch claim of 4 slots with 3 queued: %d jobs, %v", len(jobs), err)
		}
		for i, job := range jobs {
			if want := keyID + "/" + slots[i]; job.LeaseOwner != want || job.Attempts != 1 || job.LeaseDuration <= 0 {
				t.Fatalf("job %d: owner %q attempt %d lease %v, want owner %q, attempt 1", i, job.LeaseOwner, job.Attempts, job.LeaseDuration, want)
			}
			if !ids[job.ItemIDs[0]] {
				t.Fatalf("job %d is for item %s, not one of the queued ones (or twice)", i, job.ItemIDs[0])
			}
			delete(ids, job.ItemIDs[0])
			if got := status(t, srv, sessionOf(job.ItemIDs[0]), job.ItemIDs[0]); got != "processing" {
				t.Fatalf("claimed item is %s", got)
			}
		}
		for _, job := range jobs {
			if err := client.Complete(ctx, job.Lease(), zeroOutputs(job)); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, srv, sessionOf(job.ItemIDs[0]), job.ItemIDs[0], "completed")
		}
		if _, err := client.ClaimJobs(ctx, slots, nil); !aimg.IsNotFound(err) {
			t.Fatalf("batch claim of an empty queue: %v, want no job", err)
		}
	})
}

// The two request shapes answer in their own shapes, and a bad list of
// slots is a 400 naming workers.
func TestBatchClaimShapesAndRefusals(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	_, key := newKey(t, srv, map[string]any{"name": "shapes"})
	user := testsupport.SignUp(t, srv, "shapes@example.com")
	generate(t, srv, user.SessionID)
	generate(t, srv, user.SessionID)

	code, body := postClaim(t, srv.URL, key, `{"worker": "s/0", "waitMs": 1}`)
	var single map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &single); code != 200 || err != nil || single["job"] == nil || single["jobs"] != nil {
		t.Fatalf("single claim: %d %s", code, body)
	}
	code, body = postClaim(t, srv.URL, key, `{"workers": ["s/1", "s/2"], "waitMs": 1}`)
	var batch struct {
		Job  json.RawMessage
		Jobs []workerapi.Job
	}
	if err := json.Unmarshal([]byte(body), &batch); code != 200 || err != nil || batch.Job != nil || len(batch.Jobs) != 1 {
		t.Fatalf("batch claim: %d %s", code, body)
	}

	many := make([]string, aimg.MaxClaimBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprintf("s/%d", i))
	}
	for _, bad := range []string{
		`{"worker": "s/0", "workers": ["s/1"]}`,
		`{"workers": []}`,
		`{"workers": ["s/1", "s/1"]}`,
		`{"workers": ["s 1"]}`,
		`{"workers": [""]}`,
		`{"workers": [` + strings.Join(many, ",") + `]}`,
	} {
		code, body := postClaim(t, srv.URL, key, bad)
		if code != 400 || !strings.Contains(body, `"message":"workers: `) {
			t.Errorf("%s: %d %s, want 400 naming workers", bad, code, body)
		}
	}
}

// A worker that leaves while its batch claim commits never sees the Jobs:
// the server gives every one of them back, attempts unspent.
func TestCutBatchClaimIsReleased(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	ctx := t.Context()
	_, key := newKey(t, srv, map[string]any{"name": "cut"})
	user := testsupport.SignUp(t, srv, "cut@example.com")
	ids := []string{generate(t, srv, user.SessionID), generate(t, srv, user.SessionID)}
	committed := make(chan struct{})
	jobs := &commitThenWait{Service: srv.App.Generation, committed: committed}
	api := workerapi.NewServer(workerapi.Options{Jobs: jobs, LeaseDuration: time.Minute, Logger: slog.New(slog.DiscardHandler)})
	front := httptest.NewServer(api.Surface().Handler)
	defer front.Close()

	cctx, cancel := context.WithCancel(ctx)
	go func() { <-committed; cancel() }()
	client := workerapi.NewClient(front.URL, key, nil)
	if _, err := client.ClaimJobs(cctx, []string{"c/0", "c/1", "c/2"}, nil); err == nil {
		t.Fatal("the cut claim answered Jobs")
	}
	if jobs.claimed.Load() != 2 {
		t.Fatalf("the claim committed %d jobs, want 2", jobs.claimed.Load())
	}
	front.Close() // waits for the claim's handler to finish
	for _, id := range ids {
		if got := status(t, srv, user.SessionID, id); got != "queued" {
			t.Fatalf("item %s is %s after the cut claim, want queued", id, got)
		}
		it, err := srv.App.Store.ItemByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		job, err := srv.App.Store.JobByID(ctx, it.JobID)
		if err != nil || job.Attempts != 0 || job.Status != aimg.JobQueued {
			t.Fatalf("job after the cut: %+v %v, want queued with no attempt spent", job, err)
		}
	}
}

// commitThenWait commits the claim, then holds its answer until the
// caller has gone (as a claim does whose worker leaves mid-commit).
type commitThenWait struct {
	*generation.Service
	committed chan struct{}
	claimed   atomic.Int32
}

func (c *commitThenWait) ClaimJobs(ctx context.Context, workerIDs, modelIDs []string) ([]*aimg.Job, error) {
	jobs, err := c.Service.ClaimJobs(context.WithoutCancel(ctx), workerIDs, modelIDs)
	c.claimed.Add(int32(len(jobs)))
	close(c.committed)
	<-ctx.Done()
	return jobs, err
}

// An older server (before batch claims) refuses the unknown shape with a
// 400 about the missing worker; the client goes on claiming one slot at a
// time, in the old shape, from then on.
func TestBatchClaimFallsBackOnAnOlderServer(t *testing.T) {
	var batches, singles atomic.Int32
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &in)
		w.Header().Set("Content-Type", "application/json")
		if in["worker"] == nil {
			batches.Add(1)
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":{"code":"invalid","message":"worker: must be 1 to 200 characters without spaces or control characters"}}`))
			return
		}
		singles.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"job": map[string]any{"id": "j1", "modelId": "sketch", "kind": "image",
			"itemIds": []string{"i1"}, "payload": json.RawMessage(`{}`), "attempt": 1, "maxAttempts": 3,
			"leaseOwner": "K/" + in["worker"].(string), "leaseExpiresAt": time.Now().Add(time.Minute), "leaseSeconds": 30}})
	}))
	defer old.Close()
	client := workerapi.NewClient(old.URL, "aimgw_x", nil)
	client.MaxBackoff = time.Millisecond
	for range 2 {
		jobs, err := client.ClaimJobs(t.Context(), []string{"o/0", "o/1"}, nil)
		if err != nil || len(jobs) != 1 || jobs[0].LeaseOwner != "K/o/0" {
			t.Fatalf("claim against an older server: %v %v", jobs, err)
		}
	}
	if batches.Load() != 1 || singles.Load() != 2 {
		t.Fatalf("%d batch and %d single claims sent, want 1 and 2", batches.Load(), singles.Load())
	}
}

// errorCounter is a slog handler that counts the records at Error level.
type errorCounter struct {
	slog.Handler
	errors *atomic.Int32
}

func (h errorCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return nil
}

func (h errorCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h errorCounter) WithAttrs([]slog.Attr) slog.Handler { return h }

// A graceful stop of `aimg worker` cuts its waiting claim (StopWaiting):
// that is the stop, not a failure, and logs no error.
func TestGracefulStopCutsTheClaimQuietly(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	_, key := newKey(t, srv, map[string]any{"name": "quiet"})
	client := workerapi.NewClient(srv.URL, key, nil)
	var errs atomic.Int32
	log := slog.New(errorCounter{Handler: slog.DiscardHandler, errors: &errs})
	p, err := worker.NewPool(client, builtin.Backend{}, worker.Config{Name: "quiet", Concurrency: 2, ModelIDs: []string{"sketch"}}, log)
	if err != nil {
		t.Fatal(err)
	}
	p.Start(t.Context())
	time.Sleep(300 * time.Millisecond) // let the claim reach its long-poll (earlier, the test only passes trivially)
	client.StopWaiting()
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := errs.Load(); n != 0 {
		t.Fatalf("the graceful stop logged %d errors", n)
	}
}
