package library_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/library"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// The visibility table: every caller (owner, another user, a guest, an
// anonymous session, an Admin) against the owner's Items in every state,
// for every read and every write of the library, on a real store. A read
// either shows the Item or says "not found"; a write either changes it or
// leaves it exactly as it was.

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type fileURLs struct{}

func (fileURLs) URL(id string) string { return "http://files.test/" + id }

// Item states, each an Item of the owner.
const (
	statePrivate   = "private"
	statePending   = "pending"
	stateApproved  = "approved, public, not in a Public Folder"
	stateRejected  = "rejected"
	statePublished = "public in a Public Folder"
	stateDeleted   = "deleted"
	stateProtected = "protected"
	stateQueued    = "queued"
)

var states = []string{statePrivate, statePending, stateApproved, stateRejected, statePublished, stateDeleted, stateProtected, stateQueued}

// Callers.
const (
	callerOwner = "owner"
	callerOther = "other user"
	callerGuest = "guest"
	callerAnon  = "anonymous"
	callerAdmin = "Admin"
)

var callers = []string{callerOwner, callerOther, callerGuest, callerAnon, callerAdmin}

type world struct {
	st      *store.Store
	lib     *library.Service
	callers map[string]aimg.Caller
	owner   *aimg.User
	// publicFolder is the owner's Public Folder; folders each caller's own
	// Private Folder (signed-in callers only).
	publicFolder string
	folders      map[string]string
}

func newWorld(t *testing.T, st *store.Store) *world {
	ctx := context.Background()
	w := &world{st: st, lib: library.New(st, fileURLs{}, nil, func() time.Time { return t0.Add(time.Hour) }),
		callers: map[string]aimg.Caller{}, folders: map[string]string{}}
	svc, err := config.LoadService("")
	if err != nil {
		t.Fatal(err)
	}
	w.lib.SetReports(svc.Reports)
	user := func(name string, guest bool) *aimg.User {
		u := &aimg.User{ID: uuid.NewString(), Domain: "localhost", Email: name + "@example.com", Username: name,
			IsGuest: guest, Roles: []string{aimg.RoleUser}, CreatedAt: t0, UpdatedAt: t0}
		if guest {
			u.Email, u.Username = "", ""
		}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	session := func(u *aimg.User, signedIn bool) *aimg.Session {
		s := &aimg.Session{ID: uuid.NewString(), Authenticated: signedIn, CreatedAt: t0, LastSeenAt: t0}
		if u != nil {
			s.UserID = u.ID
		}
		return s
	}
	w.owner = user("owner", false)
	other, guest := user("other", false), user("guest", true)
	w.callers[callerOwner] = aimg.Caller{Session: session(w.owner, true), User: w.owner, Domain: "localhost", ClientIP: "192.0.2.1"}
	w.callers[callerOther] = aimg.Caller{Session: session(other, true), User: other, Domain: "localhost", ClientIP: "192.0.2.2"}
	w.callers[callerGuest] = aimg.Caller{Session: session(guest, false), User: guest, Domain: "localhost", ClientIP: "192.0.2.3"}
	w.callers[callerAnon] = aimg.Caller{Session: session(nil, false), Domain: "localhost", ClientIP: "192.0.2.4"}
	w.callers[callerAdmin] = aimg.Caller{Admin: true, Domain: "localhost", ClientIP: "192.0.2.5"}
	w.publicFolder = "p-" + uuid.NewString()
	if err := st.CreateFolder(ctx, &aimg.Folder{ID: w.publicFolder, UserID: w.owner.ID, Name: "gallery", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{callerOwner, callerOther} {
		id := uuid.NewString()
		if err := st.CreateFolder(ctx, &aimg.Folder{ID: id, UserID: w.callers[name].User.ID, Name: "mine", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		w.folders[name] = id
	}
	return w
}

var itemSeq time.Duration

// items stores one fresh Item of the owner per state.
func (w *world) items(t *testing.T) map[string]*aimg.Item {
	t.Helper()
	out := map[string]*aimg.Item{}
	var all []*aimg.Item
	for _, state := range states {
		itemSeq += time.Second
		done := t0.Add(itemSeq)
		it := &aimg.Item{ID: uuid.NewString(), UserID: w.owner.ID, BatchID: uuid.NewString(), MType: aimg.MTypeImage,
			MediaType: "StaticImage", Status: aimg.StatusCompleted, ModelID: "f222", Prompt: "a fox", FileID: uuid.NewString(),
			PublicApprovalStatus: aimg.ApprovalNone, CreatedAt: done, UpdatedAt: done, CompletedAt: &done}
		switch state {
		case statePending:
			it.PublicApprovalStatus = aimg.ApprovalPending
		case stateApproved:
			it.PublicApprovalStatus, it.IsPublic = aimg.ApprovalApproved, true
		case stateRejected:
			it.PublicApprovalStatus = aimg.ApprovalRejected
		case statePublished:
			it.PublicApprovalStatus, it.IsPublic, it.FolderID, it.FolderAddedAt = aimg.ApprovalApproved, true, w.publicFolder, &done
		case stateDeleted:
			it.DeletedAt = &done
		case stateProtected:
			it.IsProtected = true
		case stateQueued:
			it.Status, it.CompletedAt, it.FileID = aimg.StatusQueued, nil, ""
		}
		out[state] = it
		all = append(all, it)
	}
	if err := w.st.InsertItems(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	return out
}

// mayRead: Admins read everything, owners their live Items, everyone else
// only publicly visible ones.
func mayRead(caller, state string) bool {
	switch caller {
	case callerAdmin:
		return true
	case callerOwner:
		return state != stateDeleted
	}
	return state == statePublished
}

func TestVisibilityTable(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		items := w.items(t)

		t.Run("reads", func(t *testing.T) {
			for _, caller := range callers {
				c := w.callers[caller]
				feed, err := w.lib.PublicCreations(ctx, c, aimg.PublicFilter{}, aimg.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				mine, err := w.lib.MyCreations(ctx, c, aimg.ItemFilter{}, aimg.Page{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				for _, state := range states {
					it := items[state]
					want := mayRead(caller, state)
					_, err := w.lib.GetItem(ctx, c, it.ID)
					check(t, caller, state, "getItem", want, err)
					_, err = w.lib.GetItemDetails(ctx, c, it.ID)
					check(t, caller, state, "getItemDetails", want, err)
					if got := listed(feed.Items, it.ID); got != (state == statePublished) {
						t.Errorf("%s / %s: in getPublicCreations = %v", caller, state, got)
					}
					if got := listed(mine.Items, it.ID); got != (caller == callerOwner && state != stateDeleted) {
						t.Errorf("%s / %s: in the caller's getMyCreations = %v", caller, state, got)
					}
				}
			}
		})

		// Each write runs per caller on fresh Items; where the rule says no,
		// the stored Item must be exactly as before.
		writes := []struct {
			name string
			may  func(caller, state string) bool
			// noop, when set, names the allowed calls that change nothing
			// (the state asked for is already the Item's).
			noop func(caller, state string) bool
			do   func(c aimg.Caller, caller string, it *aimg.Item) error
			// changed tells the write took effect on the stored Item.
			changed func(before, after snapshot) bool
		}{
			{
				name: "likeItems",
				may: func(caller, state string) bool {
					return caller != callerAnon && caller != callerAdmin && mayRead(caller, state) && state != stateQueued
				},
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					return onlyItem(w.lib.React(ctx, c, library.Like, []string{it.ID}))
				},
				changed: func(b, a snapshot) bool { return a.LikeCount == b.LikeCount+1 },
			},
			{
				name: "deleteItems",
				may: func(caller, state string) bool {
					return (caller == callerOwner || caller == callerAdmin) &&
						!slices.Contains([]string{stateDeleted, stateProtected, stateQueued}, state)
				},
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					return onlyItem(w.lib.DeleteItems(ctx, c, []string{it.ID}, ""))
				},
				changed: func(b, a snapshot) bool { return b.DeletedAt == nil && a.DeletedAt != nil },
			},
			{
				name: "setItemProperties (request approval)",
				may: func(caller, state string) bool {
					return caller == callerOwner && slices.Contains([]string{statePrivate, stateProtected, statePending}, state)
				},
				noop: func(caller, state string) bool { return state == statePending },
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					pending := aimg.ApprovalPending
					_, err := w.lib.SetItemProperties(ctx, c, it.ID, library.ItemProperties{PublicApprovalStatus: &pending})
					return err
				},
				changed: func(b, a snapshot) bool { return a.PublicApprovalStatus != b.PublicApprovalStatus },
			},
			{
				name: "setItemProperties (make private)",
				may: func(caller, state string) bool {
					return caller == callerOwner && !slices.Contains([]string{stateDeleted, stateQueued}, state)
				},
				noop: func(caller, state string) bool { return state != stateApproved && state != statePublished },
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					no := false
					_, err := w.lib.SetItemProperties(ctx, c, it.ID, library.ItemProperties{IsPublic: &no})
					return err
				},
				changed: func(b, a snapshot) bool { return b.IsPublic && !a.IsPublic },
			},
			{
				name: "addImagesToSelfFolder (the caller's own Folder)",
				may: func(caller, state string) bool {
					return caller == callerOwner && !slices.Contains([]string{stateDeleted, stateQueued}, state)
				},
				do: func(c aimg.Caller, caller string, it *aimg.Item) error {
					res, err := w.lib.AddToFolder(ctx, c, library.Private, w.folders[caller], []string{it.ID})
					if err != nil {
						return err
					}
					return res.Items[0].Err
				},
				changed: func(b, a snapshot) bool { return a.FolderID != b.FolderID },
			},
			{
				name: "setPublicApprovalStatus (approve)",
				may: func(caller, state string) bool {
					return caller == callerAdmin && (state == statePending || state == stateRejected)
				},
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					return onlyItem(w.lib.SetPublicApprovalStatus(ctx, c, []string{it.ID}, aimg.ApprovalApproved))
				},
				changed: func(b, a snapshot) bool { return a.PublicApprovalStatus != b.PublicApprovalStatus },
			},
			{
				name: "setProtected",
				may:  func(caller, state string) bool { return caller == callerAdmin },
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					return onlyItem(w.lib.SetProtected(ctx, c, []string{it.ID}))
				},
				changed: func(b, a snapshot) bool { return a.IsProtected != b.IsProtected },
			},
		}
		writes = append(writes, []struct {
			name    string
			may     func(caller, state string) bool
			noop    func(caller, state string) bool
			do      func(c aimg.Caller, caller string, it *aimg.Item) error
			changed func(before, after snapshot) bool
		}{
			{
				name: "addTagsToItem",
				may: func(caller, state string) bool {
					return caller == callerOwner && state != stateDeleted && state != stateQueued
				},
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					_, err := w.lib.ChangeTags(ctx, c, aimg.TagAdd, it.ID, "", []string{"fox"})
					return err
				},
				changed: func(b, a snapshot) bool { return len(a.Tags) == len(b.Tags)+1 },
			},
			{
				name: "reportItems",
				may:  func(caller, state string) bool { return caller == callerOther && state == statePublished },
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					res, err := w.lib.ReportItems(ctx, c, []string{it.ID}, "", "")
					if err != nil {
						return err
					}
					return res[0].Err
				},
				changed: func(b, a snapshot) bool { return a.Reports == b.Reports+1 },
			},
			{
				name: "addImagesToPublicFolder (the owner's Public Folder)",
				may:  func(caller, state string) bool { return caller == callerOwner && state == stateApproved },
				do: func(c aimg.Caller, _ string, it *aimg.Item) error {
					res, err := w.lib.AddToFolder(ctx, c, library.Public, w.publicFolder, []string{it.ID})
					if err != nil {
						return err
					}
					return res.Items[0].Err
				},
				changed: func(b, a snapshot) bool { return a.FolderID == w.publicFolder && b.FolderID == "" },
			},
			{
				name: "moveItemsBetweenFolders (root to the caller's own Folder)",
				may: func(caller, state string) bool {
					return caller == callerOwner && !slices.Contains([]string{stateDeleted, stateQueued, statePublished}, state)
				},
				do: func(c aimg.Caller, caller string, it *aimg.Item) error {
					res, err := w.lib.MoveBetweenFolders(ctx, c, "", w.folders[caller], []string{it.ID})
					if err != nil {
						return err
					}
					return res.Items[0].Err
				},
				changed: func(b, a snapshot) bool { return a.FolderID != b.FolderID },
			},
		}...)
		for _, wr := range writes {
			t.Run(wr.name, func(t *testing.T) {
				for _, caller := range callers {
					fresh := w.items(t)
					for _, state := range states {
						it := fresh[state]
						before := w.snapshot(t, it.ID)
						err := wr.do(w.callers[caller], caller, it)
						after := w.snapshot(t, it.ID)
						want := wr.may(caller, state)
						noop := want && wr.noop != nil && wr.noop(caller, state)
						switch {
						case want && err != nil:
							t.Errorf("%s / %s: refused: %v", caller, state, err)
						case want && !noop && !wr.changed(before, after):
							t.Errorf("%s / %s: allowed but nothing changed", caller, state)
						case noop && before.String() != after.String():
							t.Errorf("%s / %s: a no-op changed the Item", caller, state)
						case !want && err == nil:
							t.Errorf("%s / %s: allowed, want refused", caller, state)
						case !want && before.String() != after.String():
							t.Errorf("%s / %s: refused but the Item changed:\n%s\n%s", caller, state, before, after)
						}
						if !want && err != nil && aimg.ErrorCode(err) == aimg.CodeInternal {
							t.Errorf("%s / %s: internal error %v", caller, state, err)
						}
					}
				}
			})
		}
	})
}

// snapshot is what a write may change: the stored Item, its tags and its
// reports.
type snapshot struct {
	*aimg.Item
	Tags    []string
	Reports int
}

func (s snapshot) String() string {
	return fmt.Sprintf("%+v tags %v reports %d", *s.Item, s.Tags, s.Reports)
}

func (w *world) snapshot(t *testing.T, id string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{Item: stored(t, w.st, id)}
	tags, err := w.st.ItemTags(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	s.Tags = tags[id]
	reports, err := w.lib.Reports(ctx, w.callers[callerAdmin], library.ReportQuery{AuthorID: s.UserID}, aimg.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports.Reports {
		if r.ItemID == id {
			s.Reports++
		}
	}
	return s
}

func check(t *testing.T, caller, state, op string, want bool, err error) {
	t.Helper()
	switch {
	case want && err != nil:
		t.Errorf("%s / %s: %s: %v", caller, state, op, err)
	case !want && err == nil:
		t.Errorf("%s / %s: %s shows the Item", caller, state, op)
	case !want && !aimg.IsNotFound(err):
		t.Errorf("%s / %s: %s: %v, want not found (nobody learns it exists)", caller, state, op, err)
	}
}

func listed(views []library.View, id string) bool {
	return slices.ContainsFunc(views, func(v library.View) bool { return v.Item.ID == id })
}

func stored(t *testing.T, st *store.Store, id string) *aimg.Item {
	t.Helper()
	it, err := st.ItemByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// onlyItem is the one Item's outcome of a bulk call (or the call's error).
func onlyItem(res []library.ItemResult, err error) error {
	if err != nil {
		return err
	}
	return res[0].Err
}
