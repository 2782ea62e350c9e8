package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// A preview is stored only by the lease holder for one of its processing
// Items, replaced by the next (version + 1), dropped when it comes sooner
// than the rate bound after the Job's last one, and gone when the Job ends.
func TestItemPreviews(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newUser(t, st)
		enqueue(t, st, twoItemJob(u.ID, "m", t0))
		j := claim(t, st, "w", t0.Add(time.Second), "m")
		a, b := j.ItemIDs[0], j.ItemIDs[1]
		put := func(l aimg.Lease, item string, data string, at time.Time) (int64, bool, error) {
			return st.PutItemPreview(ctx, l, aimg.ItemPreview{ItemID: item, ContentType: "image/png", Data: []byte(data)}, at, time.Second)
		}
		at := t0.Add(2 * time.Second)
		if v, ok, err := put(j.Lease(), a, "one", at); err != nil || !ok || v != 1 {
			t.Fatalf("first preview: %d %v %v", v, ok, err)
		}
		// Sooner than a second after the Job's last preview: dropped, also for its other Item.
		if _, ok, err := put(j.Lease(), b, "early", at.Add(500*time.Millisecond)); err != nil || ok {
			t.Fatalf("early preview: stored %v %v", ok, err)
		}
		if v, ok, err := put(j.Lease(), a, "two", at.Add(1100*time.Millisecond)); err != nil || !ok || v != 2 {
			t.Fatalf("second preview: %d %v %v", v, ok, err)
		}
		p, err := st.ItemPreview(ctx, a)
		if err != nil || string(p.Data) != "two" || p.ContentType != "image/png" || p.Version != 2 {
			t.Fatalf("stored preview: %+v %v", p, err)
		}
		if v, err := st.ItemPreviewVersion(ctx, b); err != nil || v != 0 {
			t.Fatalf("no preview of b: %d %v", v, err)
		}
		// Another lease, or an Item of another Job, stores nothing.
		other := j.Lease()
		other.WorkerID = "intruder"
		if _, _, err := put(other, a, "x", at.Add(3*time.Second)); !errors.Is(err, aimg.ErrLeaseLost) {
			t.Fatalf("foreign lease: %v", err)
		}
		stranger := enqueue(t, st, newJob(u.ID, "m", 0, t0))
		if _, _, err := put(j.Lease(), stranger.ItemIDs[0], "x", at.Add(3*time.Second)); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("an Item of another Job: %v", err)
		}
		// Completing the Job drops its previews.
		res := []aimg.ItemResult{{ItemID: a, FileID: "fa"}, {ItemID: b, FileID: "fb"}}
		if err := st.CompleteJob(ctx, j.Lease(), res, "", at.Add(4*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ItemPreview(ctx, a); !aimg.IsNotFound(err) {
			t.Fatalf("preview after completion: %v", err)
		}
		// Failing (and so cancelling, releasing, requeueing) drops them too.
		k := claim(t, st, "w", at.Add(5*time.Second), "m")
		if _, ok, err := put(k.Lease(), k.ItemIDs[0], "k", at.Add(6*time.Second)); err != nil || !ok {
			t.Fatalf("preview of the next job: %v %v", ok, err)
		}
		if _, err := st.FailJob(ctx, k.Lease(), "boom", false, at.Add(7*time.Second)); err != nil {
			t.Fatal(err)
		}
		if v, err := st.ItemPreviewVersion(ctx, k.ItemIDs[0]); err != nil || v != 0 {
			t.Fatalf("preview after failure: %d %v", v, err)
		}
	})
}
