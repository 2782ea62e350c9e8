package workerapi_test

import (
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/files"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

// An output left pending by an earlier attempt of a Job (its process died
// between storing the file and completing) stays pending when a later
// attempt completes the Job, so that the sweeper still removes it: the
// completion forgets only its own files. Found by the cluster test
// (internal/cluster), where a killed replica's upload was leaked so.
func TestCompletionKeepsAnEarlierAttemptsPendingOutputs(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		_, key := newKey(t, srv, map[string]any{"name": "retrier"})
		c := workerapi.NewClient(srv.URL, key, nil)
		c.Wait = time.Second
		user := testsupport.SignUp(t, srv, "retrier@example.com")

		id := generate(t, srv, user.SessionID)
		job, err := c.Claim(ctx, "retrier/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		// What the dead attempt left: its pending row and its stored file.
		const leftover = "leftover-output-1"
		if err := srv.App.Store.AddPendingOutputs(ctx, job.ID, []aimg.PendingOutput{{FileID: leftover}}, srv.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.App.Files.Put(ctx, files.PutInput{ID: leftover, Name: "l.png", OwnerID: user.UserID,
			Body: strings.NewReader("\x89PNG left behind")}); err != nil {
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

		srv.Clock.Advance(2 * time.Hour)
		if n, err := srv.App.Generation.SweepOrphanedOutputs(ctx); err != nil || n != 1 {
			t.Fatalf("sweep = %d, %v; want the earlier attempt's file removed", n, err)
		}
		if _, err := srv.App.Store.FileByID(ctx, leftover); !aimg.IsNotFound(err) {
			t.Fatalf("the earlier attempt's file is still there: %v", err)
		}
		if _, err := srv.App.Store.FileByID(ctx, item.FileID); err != nil {
			t.Fatalf("the completed Item's file was swept: %v", err)
		}
	})
}
