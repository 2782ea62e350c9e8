package store_test

import (
	"context"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// SetApproval writes both columns of each allowed Item and nothing of a
// refused or unknown one; Decide sees the Owner's live pending count
// (deleted Items and other users' Items excluded) and the owner's abuse
// level.
func TestSetApproval(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, other := newItemsUser(t, st, false), newItemsUser(t, st, false)
		a, b, p, gone, theirs := testItem(u, 0), testItem(u, time.Second), testItem(u, 2*time.Second), testItem(u, 3*time.Second), testItem(other, 0)
		p.PublicApprovalStatus, gone.PublicApprovalStatus, theirs.PublicApprovalStatus = aimg.ApprovalPending, aimg.ApprovalPending, aimg.ApprovalPending
		del := itemsBase.Add(time.Hour)
		gone.DeletedAt = &del
		insertItems(t, st, a, b, p, gone, theirs)
		mustExec(t, st, `UPDATE users SET abuse = 2 WHERE id = $1`, u)

		refused := aimg.Errorf(aimg.CodeConflict, "refused")
		at := itemsBase.Add(2 * time.Hour)
		var seenPending, seenAbuse []int
		out, err := st.SetApproval(ctx, aimg.ApprovalChange{
			IDs: []string{b.ID, "no-such-item", a.ID}, Owner: u, At: at,
			Decide: func(it *aimg.Item, pending, abuse int) (bool, string, error) {
				seenPending, seenAbuse = append(seenPending, pending), append(seenAbuse, abuse)
				if it.ID == b.ID {
					return false, "", refused
				}
				return true, aimg.ApprovalApproved, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, out[0], "refused")
		wantOutcome(t, out[1], "Item not found")
		wantOutcome(t, out[2], "")
		if len(seenPending) != 2 || seenPending[0] != 1 || seenPending[1] != 1 || seenAbuse[0] != 2 {
			t.Fatalf("Decide saw pending %v abuse %v, want [1 1] (only the live pending Item of u) and abuse 2", seenPending, seenAbuse)
		}
		got, _ := st.ItemByID(ctx, a.ID)
		if !got.IsPublic || got.PublicApprovalStatus != aimg.ApprovalApproved || !got.UpdatedAt.Equal(at) {
			t.Fatalf("changed Item: isPublic %v status %s updated %v", got.IsPublic, got.PublicApprovalStatus, got.UpdatedAt)
		}
		if got, _ := st.ItemByID(ctx, b.ID); got.IsPublic || got.PublicApprovalStatus != aimg.ApprovalNone || !got.UpdatedAt.Equal(b.UpdatedAt) {
			t.Fatalf("refused Item changed: isPublic %v status %s", got.IsPublic, got.PublicApprovalStatus)
		}
		// An unknown status is a programming error and undoes the call.
		if _, err := st.SetApproval(ctx, aimg.ApprovalChange{IDs: []string{b.ID}, At: at,
			Decide: func(*aimg.Item, int, int) (bool, string, error) { return true, "public", nil }}); err == nil {
			t.Fatal("an unknown status was written")
		}
		if got, _ := st.ItemByID(ctx, b.ID); got.IsPublic {
			t.Fatal("the refused call changed the Item")
		}
	})
}
