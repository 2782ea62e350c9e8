package library

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// The public side: feeds of publicly visible Items (public and in a Public
// Folder, of users not deleted and below abuse level 2), views, and the
// Admin's getItems and migrateLibrary.

const (
	// SamplePool is how many of the most liked public Items getSampleItems
	// draws from.
	SamplePool = 200
	// DefaultSampleLimit and MaxSampleLimit bound getSampleItems' limit.
	DefaultSampleLimit = 20
	MaxSampleLimit     = 100
	// ViewWindow: one viewer's views of one Item count once per window.
	ViewWindow = time.Hour
	// ViewPurgeInterval is how often RunViewPurger drops expired records.
	ViewPurgeInterval = 10 * time.Minute
)

var errPublicFolderNotFound = aimg.Errorf(aimg.CodeNotFound, "Public Folder not found")

// PublicCreations is getPublicCreations. totalCount follows DECISIONS.md:
// with folderID the Folder's imageCount, with userID the user's
// publicItemCount, else every Item in a Public Folder; never mtype. With a
// tag (the web UI's filter; not the API's), of every user, Total is 0.
func (s *Service) PublicCreations(ctx context.Context, c aimg.Caller, f aimg.PublicFilter, p aimg.Page) (Creations, error) {
	if err := CheckMType(f.MType); err != nil {
		return Creations{}, err
	}
	if f.Tag != "" {
		tags, err := NormalizeTags("tag", []string{f.Tag})
		if err != nil {
			return Creations{}, err
		}
		f.Tag = tags[0]
	}
	var total int64
	switch {
	case f.Tag != "":
		// Not counted: no counter keeps publicly visible Items per tag,
		// and counting them would read every Item the tag is on.
		if f.FolderID != "" || f.UserID != "" {
			return Creations{}, aimg.Invalid("tag", "cannot be combined with folderID or userID")
		}
	case f.FolderID != "":
		if !strings.HasPrefix(f.FolderID, publicFolderPrefix) {
			return Creations{}, aimg.Invalid("folderID", "must be a Public Folder id (p-…)")
		}
		owner, err := s.store.FolderOwner(ctx, f.FolderID)
		if aimg.IsNotFound(err) || err == nil && f.UserID != "" && owner != f.UserID {
			return Creations{}, errPublicFolderNotFound
		}
		if err != nil {
			return Creations{}, err
		}
		if total, err = s.store.CountPublicFolderItems(ctx, f.FolderID); err != nil {
			return Creations{}, err
		}
	case f.UserID != "":
		if _, err := s.userExists(ctx, f.UserID); err != nil {
			return Creations{}, err
		}
		var err error
		if total, err = s.store.CountPublicItems(ctx, f.UserID); err != nil {
			return Creations{}, err
		}
	default:
		var err error
		if total, err = s.store.CountPublicItems(ctx, ""); err != nil {
			return Creations{}, err
		}
	}
	page, err := s.store.ListPublicItems(ctx, f, p)
	if err != nil {
		return Creations{}, err
	}
	out, err := s.creations(ctx, c, page)
	out.Total = total
	return out, err
}

// LatestItems is getLatestItems: publicly visible Items, the latest
// published (put in a Public Folder) first; the index is folder_added_at.
func (s *Service) LatestItems(ctx context.Context, c aimg.Caller, p aimg.Page) (Creations, error) {
	page, err := s.store.ListLatestItems(ctx, p)
	if err != nil {
		return Creations{}, err
	}
	return s.creations(ctx, c, page)
}

// SampleItems is getSampleItems: limit Items drawn at random from the
// SamplePool most liked publicly visible ones.
func (s *Service) SampleItems(ctx context.Context, c aimg.Caller, limit int) ([]View, error) {
	switch {
	case limit == 0:
		limit = DefaultSampleLimit
	case limit < 1 || limit > MaxSampleLimit:
		return nil, aimg.Invalid("limit", "must be 1 to %d", MaxSampleLimit)
	}
	pool, err := s.store.MostLikedPublicItems(ctx, SamplePool)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	pool = pool[:min(limit, len(pool))]
	out, err := s.creations(ctx, c, aimg.ItemPage{Items: pool})
	return out.Items, err
}

// AllItems is getItems (Admins): every user's live Items, or userID's.
func (s *Service) AllItems(ctx context.Context, c aimg.Caller, userID string, f aimg.ItemFilter, p aimg.Page) (Creations, error) {
	if !c.Admin {
		return Creations{}, aimg.ErrAdminRequired
	}
	if err := checkItemFilter(f); err != nil {
		return Creations{}, err
	}
	if userID != "" {
		if _, err := s.userExists(ctx, userID); err != nil {
			return Creations{}, err
		}
	}
	page, err := s.store.ListAllItems(ctx, userID, f, p)
	if err != nil {
		return Creations{}, err
	}
	return s.creations(ctx, c, page)
}

// creations renders a page of Items for c, with c's reactions.
func (s *Service) creations(ctx context.Context, c aimg.Caller, page aimg.ItemPage) (Creations, error) {
	out := Creations{Items: make([]View, len(page.Items)), Next: page.Next}
	views := make([]*View, len(page.Items))
	for i, it := range page.Items {
		out.Items[i] = s.view(c, it)
		views[i] = &out.Items[i]
	}
	return out, s.annotate(ctx, c, views)
}

// countView counts c's view of it (getItem, getItemDetails) when it is
// publicly visible and c is not its owner: once per viewer (account,
// else session, else client address) and Item per ViewWindow. A failure
// to count does not fail the read.
func (s *Service) countView(ctx context.Context, c aimg.Caller, it *aimg.Item) {
	if owns(c, it) || !PubliclyVisible(it) {
		return
	}
	viewer := "ip:" + c.ClientIP
	switch {
	case c.User != nil:
		viewer = "user:" + c.User.ID
	case c.Session != nil:
		viewer = "session:" + c.Session.ID
	}
	now := s.now()
	if counted, err := s.store.AddView(ctx, it.ID, viewer, now.UnixMilli(), now.Add(-ViewWindow).UnixMilli()); err == nil && counted {
		it.ViewCount++
	}
}

// RunViewPurger drops expired view records every ViewPurgeInterval, on
// turn (one replica of several), until ctx ends.
func (s *Service) RunViewPurger(ctx context.Context, turn aimg.Turn) {
	aimg.EveryTurn(ctx, turn, "library.viewPurge", ViewPurgeInterval, func(ctx context.Context) {
		_, _ = s.store.PurgeViews(ctx, s.now().Add(-ViewWindow).UnixMilli())
	})
}

// MigrateLibrary is migrateLibrary (Admins): the live Items and the
// Folders of sourceUserID move to destinationUserID, who must exist and
// not be deleted; the source may be deleted. It returns what moved.
func (s *Service) MigrateLibrary(ctx context.Context, c aimg.Caller, sourceUserID, destinationUserID string) (aimg.LibraryMoved, error) {
	if !c.Admin {
		return aimg.LibraryMoved{}, aimg.ErrAdminRequired
	}
	switch {
	case sourceUserID == "":
		return aimg.LibraryMoved{}, aimg.Invalid("sourceUserID", "is required")
	case destinationUserID == "":
		return aimg.LibraryMoved{}, aimg.Invalid("destinationUserID", "is required")
	case sourceUserID == destinationUserID:
		return aimg.LibraryMoved{}, aimg.Invalid("destinationUserID", "must differ from sourceUserID")
	}
	if _, err := s.userExists(ctx, sourceUserID); err != nil {
		return aimg.LibraryMoved{}, fieldError("sourceUserID", err)
	}
	dst, err := s.userExists(ctx, destinationUserID)
	if err != nil {
		return aimg.LibraryMoved{}, fieldError("destinationUserID", err)
	}
	if dst.DeletedAt != nil || dst.IsGuest {
		return aimg.LibraryMoved{}, &aimg.Error{Code: aimg.CodeConflict, Field: "destinationUserID",
			Message: "destinationUserID: the destination User is disabled or a guest"}
	}
	return s.store.MigrateLibrary(ctx, sourceUserID, destinationUserID, s.now())
}

// fieldError names field in a not-found error about a user.
func fieldError(field string, err error) error {
	if e, ok := err.(*aimg.Error); ok && e.Code == aimg.CodeNotFound {
		return &aimg.Error{Code: aimg.CodeNotFound, Field: field, Message: field + ": User not found"}
	}
	return err
}

// checkItemFilter validates getMyCreations' and getItems' filters.
func checkItemFilter(f aimg.ItemFilter) error {
	if err := CheckMType(f.MType); err != nil {
		return err
	}
	switch f.Approval {
	case "", aimg.ApprovalNone, aimg.ApprovalPending, aimg.ApprovalApproved, aimg.ApprovalRejected:
		return nil
	}
	return aimg.Invalid("publicApprovalStatus", "must be none, pending, approved or rejected")
}
