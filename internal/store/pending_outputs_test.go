package store_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func pendingOf(t *testing.T, st *store.Store, jobID string) int {
	t.Helper()
	var n int
	if err := st.QueryRowForTest(context.Background(), `SELECT COUNT(*) FROM pending_outputs WHERE job_id = $1`, jobID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Completing a Job forgets the pending outputs its Items point at, in the
// same transaction (issue 11); others (file-b: an earlier attempt's,
// whose process died after storing it) stay for the orphan sweeper, and a
// completion refused for a lost lease keeps them all.
func TestCompleteJobForgetsPendingOutputs(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		j := enqueue(t, st, newJob(newUser(t, st).ID, "m", 0, t0))
		c := claim(t, st, "w1", t0, "m")
		if err := st.AddPendingOutputs(ctx, j.ID, []string{"file-a", "file-b"}, t0); err != nil {
			t.Fatal(err)
		}
		res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "file-a"}}
		stale := c.Lease()
		stale.Attempt++
		if err := st.CompleteJob(ctx, stale, res, "", t0.Add(time.Second)); err != aimg.ErrLeaseLost {
			t.Fatalf("complete with a stale lease: %v", err)
		}
		if n := pendingOf(t, st, j.ID); n != 2 {
			t.Fatalf("%d pending outputs after a refused completion, want 2", n)
		}
		if err := st.CompleteJob(ctx, c.Lease(), res, "", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if n := pendingOf(t, st, j.ID); n != 1 {
			t.Fatalf("%d pending outputs after the completion, want 1 (file-b)", n)
		}
	})
}
