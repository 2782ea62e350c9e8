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

// Completing a Job records its unrecorded output files and forgets the
// pending outputs its Items point at, in the same transaction (issue 11);
// others (file-b: an earlier attempt's,
// whose process died after storing it) stay for the orphan sweeper, and a
// completion refused for a lost lease keeps them all.
func TestCompleteJobForgetsPendingOutputs(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		j := enqueue(t, st, newJob(newUser(t, st).ID, "m", 0, t0))
		c := claim(t, st, "w1", t0, "m")
		if err := st.AddPendingOutputs(ctx, j.ID, []aimg.PendingOutput{{FileID: "file-a", BlobKey: "files/file-a/original"},
			{FileID: "file-b", BlobKey: "files/file-b/original"}}, t0); err != nil {
			t.Fatal(err)
		}
		fileA := &aimg.File{ID: "file-a", Name: "a.png", ContentType: "image/png", Size: 1, Checksum: "00",
			ChecksumAlgorithm: aimg.ChecksumSHA256, OwnerID: j.UserID, BlobKey: "files/file-a/original", CreatedAt: t0}
		res := []aimg.ItemResult{{ItemID: j.ItemIDs[0], FileID: "file-a", Files: []*aimg.File{fileA}}}
		stale := c.Lease()
		stale.Attempt++
		if err := st.CompleteJob(ctx, stale, res, "", t0.Add(time.Second)); err != aimg.ErrLeaseLost {
			t.Fatalf("complete with a stale lease: %v", err)
		}
		if n := pendingOf(t, st, j.ID); n != 2 {
			t.Fatalf("%d pending outputs after a refused completion, want 2", n)
		}
		if _, err := st.FileByID(ctx, "file-a"); !aimg.IsNotFound(err) {
			t.Fatalf("a refused completion recorded its file: %v", err)
		}
		if err := st.CompleteJob(ctx, c.Lease(), res, "", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if n := pendingOf(t, st, j.ID); n != 1 {
			t.Fatalf("%d pending outputs after the completion, want 1 (file-b)", n)
		}
		if f, err := st.FileByID(ctx, "file-a"); err != nil || f.BlobKey != fileA.BlobKey || f.OwnerID != j.UserID {
			t.Fatalf("the completion's file: %+v, %v", f, err)
		}
		// file-b is claimed by the sweeper with the blob key it was stored at.
		orphans, err := st.ClaimOrphanedOutputs(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(orphans) != 1 || orphans[0] != (aimg.PendingOutput{FileID: "file-b", BlobKey: "files/file-b/original"}) {
			t.Fatalf("orphans = %+v, %v; want file-b with its blob key", orphans, err)
		}
	})
}
