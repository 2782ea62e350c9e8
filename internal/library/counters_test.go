package library_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/library"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// Thousands of mixed library operations from several goroutines (likes and
// dislikes, deleting and restoring, Folder moves, approval, migrating a
// library back and forth, tags, reporting and accepting or declining
// reports), then every kept counter is compared with a
// recount from the base tables (store.CounterDrift). No operation may fail
// with an internal error (a deadlock, a constraint).
func TestCountersStayExactUnderMixedConcurrentOperations(t *testing.T) {
	const goroutines, opsEach, itemsEach = 4, 500, 40
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		owner, other, admin := w.callers[callerOwner], w.callers[callerOther], w.callers[callerAdmin]
		var ids []string
		var seed []*aimg.Item
		for i := range 2 * itemsEach {
			user := owner.User.ID
			if i%2 == 1 {
				user = other.User.ID
			}
			done := t0.Add(time.Duration(i) * time.Second)
			it := &aimg.Item{ID: uuid.NewString(), UserID: user, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
				MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", FileID: uuid.NewString(),
				PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: done, UpdatedAt: done, CompletedAt: &done}
			if i%7 == 0 {
				it.IsProtected = true
			}
			if i%3 == 0 { // publicly visible: reportable by the other user
				added := done
				it.IsPublic, it.PublicApprovalStatus, it.FolderID, it.FolderAddedAt = true, aimg.ApprovalApproved, w.publicFolder, &added
			}
			seed = append(seed, it)
			ids = append(ids, it.ID)
		}
		if err := st.InsertItems(ctx, seed); err != nil {
			t.Fatal(err)
		}
		folders := []string{w.folders[callerOwner], w.folders[callerOther]}
		users := []aimg.Caller{owner, other}
		reactions := []library.Reaction{library.Like, library.Unlike, library.Dislike, library.Undislike}
		pending, yes, no := aimg.ApprovalPending, true, false

		var reportsMu sync.Mutex
		var reportIDs []string
		statuses := []string{aimg.ReportAccepted, aimg.ReportDeclined}
		// Each user reports the other's public Items first (the mixed
		// operations soon make most Items private or deleted), so that
		// closing them meets deletes, restores and migrations.
		for _, c := range users {
			res, err := w.lib.ReportItems(ctx, c, ids, "", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.ReportID != "" {
					reportIDs = append(reportIDs, r.ReportID)
				}
			}
		}
		seedBase := uint64(time.Now().UnixNano())
		t.Logf("random seed %d", seedBase)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(seedBase, uint64(g)))
				pick := func(n int) []string {
					out := make([]string, 0, n)
					for range n {
						out = append(out, ids[rng.IntN(len(ids))])
					}
					return out
				}
				for range opsEach {
					c := users[rng.IntN(len(users))]
					var err error
					op := rng.IntN(106)
					if rng.IntN(5) == 0 { // tags on an Item or a Folder
						tags := make([]string, 1+rng.IntN(3))
						for i := range tags {
							tags[i] = tagPool[rng.IntN(len(tagPool))]
						}
						folder := ""
						if rng.IntN(3) == 0 {
							folder = folders[rng.IntN(len(folders))]
						}
						_, err = w.lib.ChangeTags(ctx, c, tagOps[rng.IntN(len(tagOps))], pick(1)[0], folder, tags)
						if err != nil && aimg.ErrorCode(err) == aimg.CodeInternal {
							t.Errorf("tags: internal error: %v", err)
						}
						continue
					}
					switch {
					case op >= 103:
						reportsMu.Lock()
						var named []string
						for range 1 + rng.IntN(3) {
							if len(reportIDs) > 0 {
								named = append(named, reportIDs[rng.IntN(len(reportIDs))])
							}
						}
						reportsMu.Unlock()
						if len(named) > 0 {
							_, err = w.lib.CloseReports(ctx, admin, distinct(named), statuses[rng.IntN(2)], "", rng.IntN(2) == 0)
						}
					case op >= 100:
						var res []library.ReportResult
						res, err = w.lib.ReportItems(ctx, c, distinct(pick(1+rng.IntN(4))), "", "")
						reportsMu.Lock()
						for _, r := range res {
							if r.ReportID != "" {
								reportIDs = append(reportIDs, r.ReportID)
							}
						}
						reportsMu.Unlock()
					case op < 40:
						_, err = w.lib.React(ctx, c, reactions[rng.IntN(len(reactions))], distinct(pick(1+rng.IntN(3))))
					case op < 52:
						_, err = w.lib.DeleteItems(ctx, c, distinct(pick(1+rng.IntN(3))), "")
					case op < 62:
						_, err = w.lib.RestoreItems(ctx, admin, distinct(pick(1+rng.IntN(4))), "")
					case op < 75:
						_, err = w.lib.AddToFolder(ctx, c, library.Private, folders[rng.IntN(len(folders))], distinct(pick(1+rng.IntN(5))))
					case op < 83:
						_, err = w.lib.RemoveFromFolder(ctx, c, library.Private, folders[rng.IntN(len(folders))], distinct(pick(1+rng.IntN(5))))
					case op < 88:
						_, err = w.lib.SetItemProperties(ctx, c, pick(1)[0], library.ItemProperties{PublicApprovalStatus: &pending})
					case op < 92:
						_, err = w.lib.SetPublicApprovalStatus(ctx, admin, distinct(pick(3)), aimg.ApprovalApproved)
					case op < 96:
						v := &yes
						if rng.IntN(2) == 0 {
							v = &no
						}
						_, err = w.lib.SetItemProperties(ctx, c, pick(1)[0], library.ItemProperties{IsPublic: v})
					case op < 98:
						_, err = w.lib.DeleteItems(ctx, admin, nil, users[rng.IntN(len(users))].User.ID)
					default:
						from, to := owner.User.ID, other.User.ID
						if rng.IntN(2) == 0 {
							from, to = to, from
						}
						_, err = w.lib.MigrateLibrary(ctx, admin, from, to)
					}
					if err != nil && aimg.ErrorCode(err) == aimg.CodeInternal {
						t.Errorf("operation %d: internal error: %v", op, err)
					}
				}
			})
		}
		wg.Wait()
		drift, err := st.CounterDrift(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range drift {
			t.Error(d)
		}
		// The test did what it says: Items moved, got deleted, got liked.
		var liked, deleted, foldered int
		for _, id := range ids {
			it := stored(t, st, id)
			if it.LikeCount+it.DislikeCount > 0 {
				liked++
			}
			if it.DeletedAt != nil {
				deleted++
			}
			if it.FolderID != "" {
				foldered++
			}
		}
		accepted, err := st.ListReports(ctx, aimg.ReportFilter{Statuses: []string{aimg.ReportAccepted}}, aimg.ReportRules{MinPendingReports: 3}, aimg.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if liked == 0 || deleted == 0 || foldered == 0 || accepted.Total == 0 {
			t.Fatalf("the operations did little: %d liked, %d deleted, %d in a Folder, %d reports accepted", liked, deleted, foldered, accepted.Total)
		}
		usage, err := st.TagUsageRecount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var tagged int64
		for _, u := range usage {
			tagged += u.Stored
		}
		if tagged == 0 {
			t.Fatal("the operations tagged nothing")
		}
	})
}

var (
	tagPool = []string{"a", "b", "c", "d", "e"}
	tagOps  = []string{aimg.TagAdd, aimg.TagRemove, aimg.TagSet}
)

// distinct drops repeated ids (the bulk calls refuse repeats).
func distinct(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
