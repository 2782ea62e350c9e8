package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func allowAll(*aimg.Item) error { return nil }

// twoItemJob is newJob with two Items rendered together (a batch).
func twoItemJob(userID, modelID string, now time.Time) aimg.NewJob {
	nj := newJob(userID, modelID, 0, now)
	it := *nj.Items[0]
	it.ID = uuid.NewString()
	nj.Items = append(nj.Items, &it)
	return nj
}

func itemOf(t *testing.T, st *store.Store, id string) *aimg.Item {
	t.Helper()
	it, err := st.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// A queued Job leaves its queue at once: the next claim gets the next Job,
// and both Items of the cancelled Job fail with reason "cancelled", also
// the one not named.
func TestCancelQueuedJob(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		a := enqueue(t, st, twoItemJob(u.ID, "m", t0))
		b := enqueue(t, st, newJob(u.ID, "m", 0, t0.Add(time.Second)))
		out, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: []string{a.ItemIDs[0]}, At: t0.Add(2 * time.Second), Check: allowAll})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].Err != nil || out[0].JobID != a.ID || out[0].WasRunning {
			t.Fatalf("cancel: %+v", out)
		}
		for _, id := range a.ItemIDs {
			if it := itemOf(t, st, id); it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason {
				t.Fatalf("item %s: %s %q, want failed cancelled", id, it.Status, it.Error)
			}
		}
		if n, err := st.QueueLength(ctx, a.QueueID); err != nil || n != 1 {
			t.Fatalf("queue length %d %v, want 1", n, err)
		}
		if got := claim(t, st, "w/0", t0.Add(3*time.Second), "m"); got.ID != b.ID {
			t.Fatalf("claimed %s, want the other Job %s", got.ID, b.ID)
		}
		// Cancelling again: nothing to cancel.
		out, err = st.CancelItems(ctx, aimg.CancelRequest{IDs: []string{a.ItemIDs[1]}, At: t0.Add(4 * time.Second), Check: allowAll})
		if err != nil || !errors.Is(out[0].Err, aimg.ErrItemFinished) {
			t.Fatalf("second cancel: %+v %v", out, err)
		}
		// No earlier owner of a queued Job is told "cancelled".
		if c, err := st.JobCancelledUnder(ctx, aimg.Lease{JobID: a.ID, WorkerID: "", Attempt: 0}); err != nil || c {
			t.Fatalf("a queued Job's empty lease: cancelled=%v %v", c, err)
		}
	})
}

// A running Job: the worker's heartbeat, complete and fail are refused,
// the lease is known as cancelled, and nothing brings the Job back (the
// reaper, a late complete).
func TestCancelRunningJob(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		j := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		job := claim(t, st, "k/w/0", t0, "m")
		l := job.Lease()
		out, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: j.ItemIDs, At: t0.Add(time.Second), Check: allowAll})
		if err != nil || out[0].Err != nil || !out[0].WasRunning {
			t.Fatalf("cancel: %+v %v", out, err)
		}
		if err := st.Heartbeat(ctx, l, 0.5, t0.Add(2*time.Second), t0.Add(time.Minute)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("heartbeat after cancel: %v", err)
		}
		if c, err := st.JobCancelledUnder(ctx, l); err != nil || !c {
			t.Fatalf("cancelled under the lease: %v %v", c, err)
		}
		if c, _ := st.JobCancelledUnder(ctx, aimg.Lease{JobID: l.JobID, WorkerID: "other", Attempt: l.Attempt}); c {
			t.Fatal("another owner's lease is told cancelled")
		}
		err = st.CompleteJob(ctx, l, []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "f"}}, "", t0.Add(3*time.Second))
		if !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("complete after cancel: %v", err)
		}
		if _, err := st.FailJob(ctx, l, "boom", true, t0.Add(3*time.Second)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("fail after cancel: %v", err)
		}
		if rq, failed, err := st.RequeueExpired(ctx, t0.Add(time.Hour)); err != nil || rq+failed != 0 {
			t.Fatalf("reaper touched a cancelled Job: %d %d %v", rq, failed, err)
		}
		it := itemOf(t, st, j.ItemIDs[0])
		if it.Status != aimg.StatusFailed || it.Error != aimg.CancelledReason || it.FileID != "" {
			t.Fatalf("item: %+v", it)
		}
		got, err := st.JobByID(ctx, j.ID)
		if err != nil || got.Status != aimg.JobFailed || got.Error != aimg.CancelledReason {
			t.Fatalf("job: %+v %v", got, err)
		}
	})
}

// An Item the check refuses (another user's) and an unknown id change
// nothing; only the named Item's Job is cancelled.
func TestCancelOnlyWhatTheCheckAllows(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, v := newUser(t, st), newUser(t, st)
		mine := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		theirs := enqueue(t, st, newJob(v.ID, "m", 0, t0))
		notFound := aimg.Errorf(aimg.CodeNotFound, "Item not found")
		out, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: []string{theirs.ItemIDs[0], "no-such-item", mine.ItemIDs[0]},
			At: t0, Check: func(it *aimg.Item) error {
				if it.UserID != u.ID {
					return notFound
				}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if !aimg.IsNotFound(out[0].Err) || !aimg.IsNotFound(out[1].Err) || out[2].Err != nil {
			t.Fatalf("outcomes: %+v", out)
		}
		if s := itemStatus(t, st, theirs.ItemIDs[0]); s != aimg.StatusQueued {
			t.Fatalf("the other user's Item is %s", s)
		}
		if s := itemStatus(t, st, mine.ItemIDs[0]); s != aimg.StatusFailed {
			t.Fatalf("the named Item is %s", s)
		}
	})
}

// Cancels that span several queues, run at once in opposite orders (and
// with the reaper's bulk requeue), never deadlock: every multi-Job change
// locks Jobs by seq, then the queues' counters by queue.
func TestConcurrentCancelsAcrossQueuesDoNotDeadlock(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		const rounds = 20
		for r := range rounds {
			var x, y []string // Items of queue f222 and of queue sketch
			for range 3 {
				x = append(x, enqueue(t, st, newJob(u.ID, "f222", 0, t0)).ItemIDs...)
				y = append(y, enqueue(t, st, newJob(u.ID, "sketch", 0, t0)).ItemIDs...)
			}
			claim(t, st, "w/0", t0, "f222", "sketch") // one running Job too
			errs := make(chan error, 3)
			at := t0.Add(time.Duration(r) * time.Second)
			go func() {
				_, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: append(slices.Clone(x), y...), At: at, Check: allowAll})
				errs <- err
			}()
			go func() {
				_, err := st.CancelItems(ctx, aimg.CancelRequest{IDs: append(slices.Clone(y), x...), At: at, Check: allowAll})
				errs <- err
			}()
			go func() {
				_, err := st.ReleaseWorkerJobs(ctx, "w/0", at)
				errs <- err
			}()
			for range 3 {
				if err := <-errs; err != nil {
					t.Fatalf("round %d: %v", r, err)
				}
			}
		}
		if drift, err := st.CounterDrift(ctx); err != nil || len(drift) != 0 {
			t.Fatalf("counters after the cancels: %v %v", drift, err)
		}
	})
}
