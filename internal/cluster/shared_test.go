package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/cluster"
	"aimg/internal/workerapi"
)

// Scenario 3: state the replicas share (PostgreSQL, Redis) behaves as one
// server's would.
func TestClusterSharedState(t *testing.T) {
	// A waiting claim looks again only every minute (longer than a claim
	// waits): a claim answered with a Job was woken by the enqueue.
	c := cluster.Start(t, cluster.Options{Config: "generation: {pollInterval: 1m}"})
	a, b, cc := 0, 1, 2
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	t.Run("rate limits hold across replicas", func(t *testing.T) {
		// requestOTP:email allows a burst of 3 (cluster.BaseConfig): one
		// request through each replica, then the fourth is refused
		// wherever it goes. With per-process limits each replica would
		// allow three.
		email := "otp-" + uuid.NewString()[:12] + "@example.com"
		for i, replica := range []int{a, b, cc, a, b} {
			env, err := c.DoOn(ctx, replica, cluster.Req{Path: "/api/requestOTP", Body: map[string]any{"email": email, "signUp": true}})
			if err != nil {
				t.Fatal(err)
			}
			if i < 3 && env.Err() != nil {
				t.Fatalf("request %d through replica-%d: %v", i+1, replica, env.Err())
			}
			if i >= 3 && env.Status != http.StatusTooManyRequests {
				t.Fatalf("request %d through replica-%d: %d %s, want 429 (the email's burst of 3 is spent)", i+1, replica, env.Status, env.Raw)
			}
		}
	})

	user := newUserOn(t, c, a)
	t.Run("a session made on one replica works on the others", func(t *testing.T) {
		env, err := c.DoOn(ctx, a, cluster.Req{Path: "/api/authenticateUser", Body: map[string]any{"email": user.Email, "password": cluster.Password}})
		if err != nil {
			t.Fatal(err)
		}
		var signedIn struct{ SessionID string }
		if err := env.Decode(&signedIn); err != nil {
			t.Fatal(err)
		}
		for _, replica := range []int{b, cc} {
			env, err := c.DoOn(ctx, replica, cluster.Req{Path: "/api/getSelfUser", Session: signedIn.SessionID})
			if err != nil {
				t.Fatal(err)
			}
			var self struct {
				UserID          string
				IsAuthenticated bool
			}
			if err := env.Decode(&self); err != nil {
				t.Fatal(err)
			}
			if self.UserID != user.UserID || !self.IsAuthenticated {
				t.Fatalf("replica-%d: the session made on replica-%d is user %q (authenticated %v), want %s", replica, a, self.UserID, self.IsAuthenticated, user.UserID)
			}
		}
		// Signed out through one replica: refused through the others.
		env, err = c.DoOn(ctx, b, cluster.Req{Path: "/api/signOutUser", Body: map[string]any{}, Session: signedIn.SessionID})
		if err != nil || env.Err() != nil {
			t.Fatalf("signOutUser: %v %v", err, env)
		}
		env, err = c.DoOn(ctx, cc, cluster.Req{Path: "/api/getSelfUser", Session: signedIn.SessionID})
		if err != nil {
			t.Fatal(err)
		}
		var self struct {
			UserID          string
			IsAuthenticated bool
		}
		if env.Err() == nil {
			_ = env.Decode(&self)
		}
		if self.UserID == user.UserID && self.IsAuthenticated {
			t.Fatalf("replica-%d still takes the session signed out through replica-%d", cc, b)
		}
	})

	wc := func(replica int) *workerapi.Client {
		cl := workerapi.NewClient(c.Replicas[replica].URL, c.WorkerKey, nil)
		cl.MaxBackoff = time.Second
		return cl
	}
	manual := []string{cluster.ManualModel}

	t.Run("an event stream on B follows a Job enqueued on A and worked through C", func(t *testing.T) {
		id := generateOn(t, c, a, user)
		events := make(chan cluster.Event, 64)
		streamDone := make(chan error, 1)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go func() {
			defer close(events)
			reason, err := c.Events(sctx, b, user.SessionID, []string{id}, func(ev cluster.Event) bool {
				events <- ev
				return true
			})
			if err == nil && reason != "final" {
				err = errors.New("the stream ended " + reason)
			}
			streamDone <- err
		}()
		waitEvent(t, events, "the first state", func(ev cluster.Event) bool { return ev.Status == "queued" })

		job, err := wc(cc).Claim(ctx, "test/0", manual)
		if err != nil || job == nil || job.ItemIDs[0] != id {
			t.Fatalf("claim through replica-%d: %v, Items %v (want %s)", cc, err, itemsOf(job), id)
		}
		waitEvent(t, events, "processing", func(ev cluster.Event) bool { return ev.Status == "processing" })
		if err := wc(cc).Heartbeat(ctx, job.Lease(), 0.5); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, events, "progress 0.5", func(ev cluster.Event) bool { return ev.Progress != nil && *ev.Progress == 0.5 })
		if err := wc(a).Complete(ctx, job.Lease(), outputs(t, job)); err != nil {
			t.Fatal(err)
		}
		done := waitEvent(t, events, "completed", func(ev cluster.Event) bool { return ev.Status == "completed" })
		if done.URL == "" {
			t.Errorf("the completed event has no url: %+v", done)
		}
		if err := <-streamDone; err != nil {
			t.Fatalf("the stream on replica-%d: %v", b, err)
		}
	})

	t.Run("a worker long-polling B is woken by an enqueue on A", func(t *testing.T) {
		type claimed struct {
			job *aimg.Job
			err error
		}
		got := make(chan claimed, 1)
		go func() {
			job, err := wc(b).Claim(ctx, "test/1", manual) // waits up to workerapi.MaxWait
			got <- claimed{job, err}
		}()
		// Let the claim reach its wait; should the enqueue come first,
		// the claim finds the Job at once and the test proves less, but
		// it does not fail.
		time.Sleep(time.Second)
		id := generateOn(t, c, a, user)
		r := <-got
		if r.err != nil || r.job == nil {
			t.Fatalf("the claim waiting on replica-%d ended with %v (no Job): the enqueue on replica-%d did not wake it", b, r.err, a)
		}
		if r.job.ItemIDs[0] != id {
			t.Fatalf("claimed Item %v, want %s", r.job.ItemIDs, id)
		}
		if err := wc(b).Complete(ctx, r.job.Lease(), outputs(t, r.job)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a cancel through C stops a Job claimed through A", func(t *testing.T) {
		id := generateOn(t, c, b, user)
		job, err := wc(a).Claim(ctx, "test/2", manual)
		if err != nil || job == nil || job.ItemIDs[0] != id {
			t.Fatalf("claim through replica-%d: %v, Items %v (want %s)", a, err, itemsOf(job), id)
		}
		env, err := c.DoOn(ctx, cc, cluster.Req{Path: "/api/cancelGeneration", Body: map[string]any{"imageIDs": []string{id}}, Session: user.SessionID})
		if err != nil {
			t.Fatal(err)
		}
		var answers []struct {
			ID      string
			Success bool
			Message string
		}
		if err := env.Decode(&answers); err != nil {
			t.Fatal(err)
		}
		if len(answers) != 1 || !answers[0].Success {
			t.Fatalf("cancelGeneration through replica-%d: %s", cc, env.Raw)
		}
		if err := wc(a).Heartbeat(ctx, job.Lease(), 0.3); !errors.Is(err, aimg.ErrJobCancelled) {
			t.Fatalf("the worker's heartbeat through replica-%d after the cancel: %v, want %v", a, err, aimg.ErrJobCancelled)
		}
		if err := wc(a).Complete(ctx, job.Lease(), outputs(t, job)); err == nil {
			t.Fatal("a cancelled Job was completed")
		}
		env, err = c.DoOn(ctx, b, cluster.Req{Path: "/api/getItemStatus?imageID=" + id, Session: user.SessionID})
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Status string }
		if err := env.Decode(&st); err != nil {
			t.Fatal(err)
		}
		if st.Status != "failed" {
			t.Fatalf("the cancelled Item is %q through replica-%d, want failed", st.Status, b)
		}
	})
}

func newUserOn(t *testing.T, c *cluster.Cluster, replica int) *cluster.User {
	t.Helper()
	email := "shared-" + uuid.NewString()[:12] + "@example.com"
	env, err := c.DoOn(t.Context(), replica, cluster.Req{Path: "/api/createUser", Body: map[string]any{"email": email, "password": cluster.Password}})
	if err != nil {
		t.Fatal(err)
	}
	var u cluster.User
	if err := env.Decode(&u); err != nil {
		t.Fatal(err)
	}
	u.Email = email
	return &u
}

// generateOn queues one Item of the ManualModel through replica i.
func generateOn(t *testing.T, c *cluster.Cluster, replica int, u *cluster.User) string {
	t.Helper()
	env, err := c.DoOn(t.Context(), replica, cluster.Req{Path: "/api/generateImage", Session: u.SessionID,
		Body: map[string]any{"prompt": "a shared lighthouse", "modelName": cluster.ManualModel, "steps": 1}})
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ ImageID string }
	if err := env.Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.ImageID
}

// waitEvent reads events until one matches (a stream that ends or stays
// silent for 30 s fails the test).
func waitEvent(t *testing.T, events <-chan cluster.Event, what string, match func(cluster.Event) bool) cluster.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event in 30 s", what)
		}
	}
}

// outputs is one small PNG per Item of the Job, as a worker uploads them.
func outputs(t *testing.T, job *aimg.Job) []aimg.ItemOutput {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 128, 128))); err != nil {
		t.Fatal(err)
	}
	var out []aimg.ItemOutput
	for _, id := range job.ItemIDs {
		out = append(out, aimg.ItemOutput{ItemID: id, Files: []aimg.OutputFile{
			{Name: "image.png", ContentType: "image/png", Role: aimg.OutputImage, Data: buf.Bytes()}}})
	}
	return out
}

func itemsOf(job *aimg.Job) []string {
	if job == nil {
		return nil
	}
	return job.ItemIDs
}
