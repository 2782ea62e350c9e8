package library

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// MaxChangeItems is the most Items one deleteItems, restoreItems or
// setProtected call may name (DECISIONS.md: 1,000 Items per bulk call).
const MaxChangeItems = 1000

// MinTierDeleteAll: users whose PRO tier is above 2 may delete all their
// Items at once (deleteItems with userID), as the spec says.
const MinTierDeleteAll = 3

// ItemResult is one Item's entry in a deleteItems, restoreItems or
// setProtected answer.
type ItemResult struct {
	ID string
	// Err is why nothing changed for this Item (nil = success); its
	// message is safe to show.
	Err error
	// Protected is the Item's protected status after the call.
	Protected bool
}

// Message is why nothing changed, safe to show ("" on success).
func (r ItemResult) Message() string {
	var e *aimg.Error
	switch {
	case r.Err == nil:
		return ""
	case errors.As(r.Err, &e):
		return e.Message
	}
	return "Item not changed"
}

// ProtectedText is setProtected's success message: the new status as text.
func (r ItemResult) ProtectedText() string { return strconv.FormatBool(r.Protected) }

var (
	errNotOwner     = aimg.Errorf(aimg.CodeForbidden, "Only the Item's owner can delete it")
	errNotDeleted   = aimg.Errorf(aimg.CodeConflict, "Item is not deleted")
	errOwnerDeleted = aimg.Errorf(aimg.CodeConflict, "The Item's owner is deleted: restore the owner first")
	errAdminOnly    = aimg.Errorf(aimg.CodeForbidden, "This operation requires a valid X-Administration-Key")
	errUserNotFound = aimg.Errorf(aimg.CodeNotFound, "User not found")
	// errRemovedByReport: restoreItems by userID leaves such an Item deleted.
	errRemovedByReport = aimg.Errorf(aimg.CodeConflict, "Item was removed by an accepted report: restore it by its id")
	errDeleteAllOther  = &aimg.Error{Code: aimg.CodeForbidden, Field: "userID",
		Message: "userID: only Admins may delete another user's Items"}
)

// canDelete is DECISIONS.md's rule for deleting one Item, checked on the
// locked row. Someone else's Item the caller cannot see is "not found", so
// nobody learns that a private Item exists.
func canDelete(c aimg.Caller, it *aimg.Item) error {
	switch {
	case c.Admin:
	case owns(c, it):
	case PubliclyVisible(it):
		return errNotOwner
	default:
		return errItemNotFound
	}
	return it.DeleteBlocker()
}

// DeleteItems is deleteItems: the Items ids, or, with userID, every live
// Item of that user (then ids is ignored, as the spec says). userID is the
// caller's own id unless the caller is an Admin, and needs a PRO tier above
// 2; Admins may delete anyone's Items. Protected, queued, generating and
// already deleted Items stay as they are, with the reason.
func (s *Service) DeleteItems(ctx context.Context, c aimg.Caller, ids []string, userID string) ([]ItemResult, error) {
	check := func(it *aimg.Item, _ bool) error { return canDelete(c, it) }
	if userID != "" {
		switch {
		case c.Admin:
			if _, err := s.userExists(ctx, userID); err != nil {
				return nil, err
			}
		case c.User == nil || c.User.ID != userID:
			return nil, errDeleteAllOther
		case c.User.EffectiveTier(s.now()) < MinTierDeleteAll:
			return nil, &aimg.Error{Code: aimg.CodeForbidden, Field: "userID",
				Message: "userID: deleting all Items at once needs a PRO tier above 2"}
		}
		return s.changeAll(ctx, aimg.ItemChange{Op: aimg.ItemDelete, OwnerID: userID, Check: check})
	}
	return s.changeIDs(ctx, c, aimg.ItemChange{Op: aimg.ItemDelete, Check: check}, ids, "imageIDs: is required: one or more Item ids, or userID")
}

// RestoreItems is restoreItems (Admins only): the Items ids, or, with
// userID, every deleted Item of that user (ids is then ignored). An Item is
// restored only if it is deleted and its owner is not; it lands in the
// root Folder. An Item removed by an accepted report is restored only when
// named by id (DECISIONS.md); the userID form skips it with the reason.
func (s *Service) RestoreItems(ctx context.Context, c aimg.Caller, ids []string, userID string) ([]ItemResult, error) {
	if !c.Admin {
		return nil, errAdminOnly
	}
	check := func(byID bool) func(it *aimg.Item, ownerDeleted bool) error {
		return func(it *aimg.Item, ownerDeleted bool) error {
			switch {
			case it.DeletedAt == nil:
				return errNotDeleted
			case ownerDeleted:
				return errOwnerDeleted
			case it.RemovedByReport && !byID:
				return errRemovedByReport
			}
			return nil
		}
	}
	if userID != "" {
		if _, err := s.userExists(ctx, userID); err != nil {
			return nil, err
		}
		return s.changeAll(ctx, aimg.ItemChange{Op: aimg.ItemRestore, OwnerID: userID, Check: check(false)})
	}
	return s.changeIDs(ctx, c, aimg.ItemChange{Op: aimg.ItemRestore, Check: check(true)}, ids, "imageIDs: is required: one or more Item ids, or userID")
}

// SetProtected is setProtected (Admins only): it toggles each Item's
// protected status; deleted Items too, so that an Admin can protect an
// Item before restoring it.
func (s *Service) SetProtected(ctx context.Context, c aimg.Caller, ids []string) ([]ItemResult, error) {
	if !c.Admin {
		return nil, errAdminOnly
	}
	return s.changeIDs(ctx, c, aimg.ItemChange{Op: aimg.ItemToggleProtect}, ids, "imageIDs: is required: one or more Item ids")
}

func (s *Service) userExists(ctx context.Context, id string) (*aimg.User, error) {
	if len(id) > maxItemIDLen || !utf8.ValidString(id) {
		return nil, errUserNotFound
	}
	u, err := s.store.UserByID(ctx, id)
	if aimg.IsNotFound(err) {
		return nil, errUserNotFound
	}
	return u, err
}

func (s *Service) changeAll(ctx context.Context, ch aimg.ItemChange) ([]ItemResult, error) {
	ch.At = s.now()
	res, err := s.store.ChangeItems(ctx, ch)
	if err != nil {
		return nil, err
	}
	out := make([]ItemResult, len(res))
	for i, r := range res {
		out[i] = ItemResult{ID: r.ID, Err: r.Err, Protected: r.Protected}
	}
	return out, nil
}

// changeIDs applies ch to ids (duplicates collapse to the first; ids no
// Item can have are "Item not found" without a look-up).
func (s *Service) changeIDs(ctx context.Context, c aimg.Caller, ch aimg.ItemChange, ids []string, required string) ([]ItemResult, error) {
	if len(ids) == 0 {
		return nil, &aimg.Error{Code: aimg.CodeInvalid, Field: "imageIDs", Message: required}
	}
	if len(ids) > MaxChangeItems {
		return nil, aimg.Invalid("imageIDs", "at most %d Items per call (got %d)", MaxChangeItems, len(ids))
	}
	seen := make(map[string]bool, len(ids))
	out := make([]ItemResult, 0, len(ids))
	var query []string
	var at []int
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, ItemResult{ID: id})
		// An anonymous session (no user record) owns nothing.
		if (c.User == nil && !c.Admin) || len(id) > maxItemIDLen || !utf8.ValidString(id) {
			out[len(out)-1].Err = errItemNotFound
			continue
		}
		query = append(query, id)
		at = append(at, len(out)-1)
	}
	if len(query) == 0 {
		return out, nil
	}
	ch.IDs, ch.At = query, s.now()
	res, err := s.store.ChangeItems(ctx, ch)
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		out[at[i]].Err, out[at[i]].Protected = r.Err, r.Protected
	}
	return out, nil
}
