package workerapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/blob"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"

	"github.com/google/uuid"
)

// newKey makes a worker key through the admin endpoint.
func newKey(t *testing.T, srv *testsupport.Server, body map[string]any) (id, key string) {
	t.Helper()
	env := srv.AdminPost(t, "/api/createWorkerKey", body)
	testsupport.ExpectOK(t, env)
	var k struct{ KeyID, Key string }
	env.Decode(t, &k)
	if k.KeyID == "" || !strings.HasPrefix(k.Key, "aimgw_") {
		t.Fatalf("createWorkerKey: %s", env.Payload)
	}
	return k.KeyID, k.Key
}

func generate(t *testing.T, srv *testsupport.Server, session string) string {
	t.Helper()
	env := srv.Post(t, "/api/generateImage", session, map[string]any{"prompt": "a red fox in the snow", "seed": 42, "width": 256, "height": 256})
	testsupport.ExpectOK(t, env)
	var out struct{ ImageID string }
	env.Decode(t, &out)
	return out.ImageID
}

func status(t *testing.T, srv *testsupport.Server, session, id string) string {
	t.Helper()
	env := srv.Get(t, "/api/getItemStatus?imageID="+id, session)
	testsupport.ExpectOK(t, env)
	var s struct{ Status string }
	env.Decode(t, &s)
	return s.Status
}

// waitStatus polls until the Item reaches want (the test's deadline bounds it).
func waitStatus(t *testing.T, srv *testsupport.Server, session, id, want string) {
	t.Helper()
	for {
		got := status(t, srv, session, id)
		if got == want {
			return
		}
		if got == "failed" || t.Context().Err() != nil {
			t.Fatalf("item %s is %s, want %s", id, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A remote worker (the Client as the pool's job source, the builtin
// renderer) renders a Job queued through the API, on both databases.
func TestRemoteWorkerRendersAJob(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		_, key := newKey(t, srv, map[string]any{"name": "gpu-1"})
		client := workerapi.NewClient(srv.URL, key, nil)
		models, err := client.Models(t.Context())
		if err != nil || len(models) == 0 {
			t.Fatalf("models: %v %v", models, err)
		}
		testsupport.StartPool(t, client, builtin.Backend{}, worker.Config{Name: "gpu-1", Concurrency: 2, ModelIDs: models,
			PollInterval: 10 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond})
		user := testsupport.SignUp(t, srv, "remote@example.com")
		ids := []string{generate(t, srv, user.SessionID), generate(t, srv, user.SessionID)}
		for _, id := range ids {
			waitStatus(t, srv, user.SessionID, id, "completed")
		}
		// The output is a real PNG, served by the file server.
		env := srv.Get(t, "/api/getItemStatus?imageID="+ids[0], user.SessionID)
		var item struct{ URL string }
		env.Decode(t, &item)
		u, err := neturl.Parse(item.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.URL + u.RequestURI()) // the public URL names the configured address

		if err != nil {
			t.Fatal(err)
		}
		png, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatalf("output: %d, %d bytes", resp.StatusCode, len(png))
		}
		// getWorkerKeys says when the key was last used.
		env = srv.AdminGet(t, "/api/getWorkerKeys")
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"name":"gpu-1"`) || strings.Contains(string(env.Payload), `"lastSeenDate":null`) {
			t.Fatalf("getWorkerKeys: %s", env.Payload)
		}
		if strings.Contains(string(env.Payload), key[len("aimgw_"):]) {
			t.Fatal("getWorkerKeys shows the secret")
		}
	})
}

// A waiting claim is woken by the enqueue: the server's own re-check is
// an hour here, so only the wake-up can deliver the Job within the wait.
func TestClaimLongPollIsWokenByEnqueue(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits, func(c *config.Config) {
		c.Service.Generation.PollInterval = time.Hour
	})
	_, key := newKey(t, srv, map[string]any{"name": "waiter"})
	client := workerapi.NewClient(srv.URL, key, nil)
	user := testsupport.SignUp(t, srv, "wake@example.com")
	got := make(chan *aimg.Job, 1)
	go func() {
		job, err := client.Claim(t.Context(), "waiter/0", nil)
		if err != nil {
			t.Error(err)
		}
		got <- job
	}()
	time.Sleep(100 * time.Millisecond) // let the claim start waiting (if it has not, it finds the Job at once: still a pass)
	id := generate(t, srv, user.SessionID)
	job := <-got
	if job == nil || len(job.ItemIDs) != 1 || job.ItemIDs[0] != id {
		t.Fatalf("claimed %+v, want the Job of %s", job, id)
	}
}

// A wrong key gets 401; a revoked key's calls get 401 at once and the Jobs
// its workers held go back to the queue; a key limited to some Models
// cannot claim others; one key cannot touch another key's lease.
func TestWorkerKeysAuthorizeAndRevoke(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		keyID, key := newKey(t, srv, map[string]any{"name": "a"})
		_, other := newKey(t, srv, map[string]any{"name": "b"})
		user := testsupport.SignUp(t, srv, "keys@example.com")

		for _, bad := range []string{"", "aimgw_nope", key + "x", strings.Replace(key, "aimgw_", "aimgw-", 1)} {
			_, err := workerapi.NewClient(srv.URL, bad, nil).Claim(ctx, "w/0", nil)
			if aimg.ErrorCode(err) != aimg.CodeUnauthorized {
				t.Errorf("key %q: %v, want 401", bad, err)
			}
		}
		testsupport.ExpectError(t, srv.AdminPost(t, "/api/createWorkerKey", map[string]any{"name": "x", "modelIDs": []string{"no-such-model"}}), 400, "modelIDs")
		testsupport.ExpectError(t, srv.Post(t, "/api/createWorkerKey", user.SessionID, map[string]any{"name": "x"}), 403, "")

		id := generate(t, srv, user.SessionID)
		a := workerapi.NewClient(srv.URL, key, nil)
		a.Wait = time.Second
		job, err := a.Claim(ctx, "a/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, srv, user.SessionID, id, "processing")
		// The claim tells the lease's length: the worker's heartbeat comes from it.
		if want := srv.App.Config.Service.Generation.LeaseDuration; job.LeaseDuration != want {
			t.Fatalf("the claim's lease lasts %s, the server grants %s", job.LeaseDuration, want)
		}
		// Another key cannot heartbeat, fail or complete a's lease.
		b := workerapi.NewClient(srv.URL, other, nil)
		if err := b.Fail(ctx, job.Lease(), "stolen", false); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("b failing a's lease: %v", err)
		}
		if err := a.Heartbeat(ctx, job.Lease(), 0.5); err != nil {
			t.Fatal(err)
		}
		// Revoked: the Job is queued again and a's next call is refused.
		env := srv.AdminPost(t, "/api/revokeWorkerKey", map[string]any{"keyID": keyID})
		testsupport.ExpectOK(t, env)
		if !strings.Contains(string(env.Payload), `"releasedJobs":1`) {
			t.Fatalf("revoke: %s", env.Payload)
		}
		if got := status(t, srv, user.SessionID, id); got != "queued" {
			t.Fatalf("after revoke the Item is %s", got)
		}
		if err := a.Heartbeat(ctx, job.Lease(), 0.6); aimg.ErrorCode(err) != aimg.CodeUnauthorized {
			t.Fatalf("heartbeat with a revoked key: %v", err)
		}
		// The other key's worker takes the Job over and finishes it.
		job2, err := b.Claim(ctx, "b/0", nil)
		if err != nil || job2.ID != job.ID {
			t.Fatalf("b's claim: %+v %v", job2, err)
		}
		outs, err := builtin.Backend{}.Render(ctx, worker.RenderJob{Job: job2, Payload: payload(t, job2)}, func(float64) {})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Complete(ctx, job2.Lease(), outs); err != nil {
			t.Fatal(err)
		}
		// A retried complete (its answer lost) is told it is done.
		if err := b.Complete(ctx, job2.Lease(), outs); err != nil {
			t.Fatalf("a repeated complete: %v", err)
		}
		waitStatus(t, srv, user.SessionID, id, "completed")
	})
}

func payload(t *testing.T, j *aimg.Job) aimg.JobPayload {
	t.Helper()
	var p aimg.JobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Two replicas on one PostgreSQL database: a claim waiting at one is woken
// by a Job queued through the other (LISTEN/NOTIFY); each replica's own
// re-check is an hour, so only the notification can deliver it in time.
func TestClaimIsWokenByAnotherReplica(t *testing.T) {
	url := testsupport.FreshPostgres(t)
	slow := func(c *config.Config) { c.Service.Generation.PollInterval = time.Hour }
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
	_, key := newKey(t, a, map[string]any{"name": "replica-waiter"})
	client := workerapi.NewClient(a.URL, key, nil)
	user := testsupport.SignUp(t, b, "replicas@example.com")
	got := make(chan *aimg.Job, 1)
	go func() {
		job, err := client.Claim(t.Context(), "replica-waiter/0", nil)
		if err != nil {
			t.Error(err)
		}
		got <- job
	}()
	time.Sleep(200 * time.Millisecond)
	id := generate(t, b, user.SessionID)
	if job := <-got; job == nil || job.ItemIDs[0] != id {
		t.Fatalf("claimed %+v at replica a, want the Job of %s queued at b", job, id)
	}
}

// A stopping server ends its waiting claims at once with 503, which the
// client takes as "no Job" (nothing was claimed): a drain does not hold
// its workers for a whole long-poll.
func TestStopEndsWaitingClaims(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	_, key := newKey(t, srv, map[string]any{"name": "drained"})
	client := workerapi.NewClient(srv.URL, key, nil)
	client.MaxBackoff = time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := client.Claim(t.Context(), "drained/0", nil)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	srv.App.WorkerAPI.Stop()
	if err := <-done; !aimg.IsNotFound(err) {
		t.Fatalf("claim during the stop: %v, want no Job", err)
	}
	// Later claims are answered at once too: a queued Job stays queued for
	// the replicas that are not stopping.
	user := testsupport.SignUp(t, srv, "drained@example.com")
	id := generate(t, srv, user.SessionID)
	if _, err := client.Claim(t.Context(), "drained/0", nil); !aimg.IsNotFound(err) {
		t.Fatalf("claim after the stop: %v", err)
	}
	if got := status(t, srv, user.SessionID, id); got != "queued" {
		t.Fatalf("a stopping server handed out a Job: it is %s", got)
	}
}

// Files stored for a Job whose worker (or server) died before completing
// it are removed by the sweeper once they are an hour old, on one replica;
// the files of completed Items stay even if their pending rows were left.
func TestOrphanedOutputsAreSwept(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		_, key := newKey(t, srv, map[string]any{"name": "sweeper"})
		c := workerapi.NewClient(srv.URL, key, nil)
		c.Wait = time.Second
		user := testsupport.SignUp(t, srv, "orphans@example.com")

		// A completed Job, whose pending row is put back as if the drop had
		// been lost.
		id := generate(t, srv, user.SessionID)
		job, err := c.Claim(ctx, "sweeper/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := builtin.Backend{}.Render(ctx, worker.RenderJob{Job: job, Payload: payload(t, job)}, func(float64) {})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Complete(ctx, job.Lease(), outs); err != nil {
			t.Fatal(err)
		}
		item, err := srv.App.Store.ItemByID(ctx, id)
		if err != nil || item.FileID == "" {
			t.Fatalf("completed item: %+v %v", item, err)
		}
		// A second Job's output stored, then the process "dies" before completing.
		generate(t, srv, user.SessionID)
		job2, err := c.Claim(ctx, "sweeper/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		const orphan = "orphan-output-1"
		if err := srv.App.Store.AddPendingOutputs(ctx, job2.ID, []aimg.PendingOutput{{FileID: orphan}}, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := srv.App.Store.AddPendingOutputs(ctx, job.ID, []aimg.PendingOutput{{FileID: item.FileID}}, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.App.Files.Put(ctx, files.PutInput{ID: orphan, Name: "o.png", OwnerID: user.UserID, Body: strings.NewReader("\x89PNG left behind")}); err != nil {
			t.Fatal(err)
		}
		// Since issue 11 a completion records its files: a process that dies
		// before completing leaves bytes without a file row, which only the
		// pending row's blob key names.
		unrecorded, err := srv.App.Files.StoreBlob(ctx, files.PutInput{ID: uuid.NewString(), FreshID: true, Name: "u.png",
			OwnerID: user.UserID, Body: strings.NewReader("\x89PNG stored, not recorded")})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.App.Store.AddPendingOutputs(ctx, job2.ID, []aimg.PendingOutput{{FileID: unrecorded.ID, BlobKey: unrecorded.BlobKey}},
			srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Too young: kept.
		if n, err := srv.App.Generation.SweepOrphanedOutputs(ctx); err != nil || n != 0 {
			t.Fatalf("early sweep = %d, %v", n, err)
		}
		srv.Clock.Advance(2 * time.Hour)
		n1, err1 := srv.App.Generation.SweepOrphanedOutputs(ctx)
		n2, err2 := srv.App.Generation.SweepOrphanedOutputs(ctx)
		if err1 != nil || err2 != nil || n1+n2 != 2 {
			t.Fatalf("sweeps = %d %v, %d %v; want two files in all", n1, err1, n2, err2)
		}
		if _, err := srv.App.Blobs.Stat(ctx, unrecorded.BlobKey); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("the unrecorded output's bytes are still there: %v", err)
		}
		if _, err := srv.App.Store.FileByID(ctx, orphan); !aimg.IsNotFound(err) {
			t.Fatalf("the orphan is still there: %v", err)
		}
		if _, err := srv.App.Store.FileByID(ctx, item.FileID); err != nil {
			t.Fatalf("a completed Item's file was swept: %v", err)
		}
	})
}
