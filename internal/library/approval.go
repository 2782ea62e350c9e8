package library

import (
	"context"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// Public approval (DECISIONS.md "Public approval", spec "Annex: Public
// Items Approval Workflow"): the owner moves an Item between none and
// pending and, once an Admin approved it, toggles isPublic; Admins approve
// (isPublic true) or reject (isPublic false), and may reject an approved
// Item later.

// MaxPendingApprovals is how many live Items one user may have pending
// approval at once (DECISIONS.md).
const MaxPendingApprovals = 50

// MaxApprovalItems is the most Items one setPublicApprovalStatus call may
// name (DECISIONS.md: 1,000 Items per bulk call).
const MaxApprovalItems = 1000

var (
	errApprovalNotCompleted = aimg.Errorf(aimg.CodeConflict, "Only completed Items can be made public")
	errApprovalFinal        = &aimg.Error{Code: aimg.CodeConflict, Field: "publicApprovalStatus",
		Message: "publicApprovalStatus: the Item is already approved or rejected, which only an Admin can change"}
	errPendingLimit = &aimg.Error{Code: aimg.CodeConflict, Field: "publicApprovalStatus",
		Message: "publicApprovalStatus: at most 50 Items may be pending approval at once"}
	errNoApprovalRequests = &aimg.Error{Code: aimg.CodeForbidden, Field: "publicApprovalStatus",
		Message: "publicApprovalStatus: this account cannot submit Items for approval"}
	errGuestApproval = &aimg.Error{Code: aimg.CodeForbidden, Field: "publicApprovalStatus",
		Message: "publicApprovalStatus: sign in to submit Items for approval"}
	errNotApproved = &aimg.Error{Code: aimg.CodeConflict, Field: "isPublic",
		Message: "isPublic: only an approved Item can be made public"}
	errNoPublic = &aimg.Error{Code: aimg.CodeForbidden, Field: "isPublic",
		Message: "isPublic: this account cannot make Items public"}
	errNotOwnerChange  = aimg.Errorf(aimg.CodeForbidden, "Only the Item's owner can change it")
	errAlreadyApproved = aimg.Errorf(aimg.CodeConflict, "Item is already approved")
	errAlreadyRejected = aimg.Errorf(aimg.CodeConflict, "Item is already rejected")
	errNotSubmitted    = aimg.Errorf(aimg.CodeConflict, "Item was not submitted for approval")
)

// ItemProperties is setItemProperties' body: nil = leave as is.
type ItemProperties struct {
	IsPublic             *bool
	PublicApprovalStatus *string
}

// ownerTransition is the owner's rule for one Item, on the locked row:
// the new isPublic and status, or why not. pending is the owner's live
// pending count before this change; abuse the owner's stored level.
func ownerTransition(c aimg.Caller, it *aimg.Item, p ItemProperties, pending, abuse int) (bool, string, error) {
	switch {
	case !owns(c, it) && PubliclyVisible(it):
		return false, "", errNotOwnerChange
	case !owns(c, it):
		return false, "", errItemNotFound
	case it.DeletedAt != nil:
		return false, "", errDeleted
	case it.Status != aimg.StatusCompleted:
		return false, "", errApprovalNotCompleted
	}
	pub, status := it.IsPublic, it.PublicApprovalStatus
	if p.PublicApprovalStatus != nil {
		to := *p.PublicApprovalStatus
		switch {
		case status == aimg.ApprovalApproved || status == aimg.ApprovalRejected:
			return false, "", errApprovalFinal
		case to == aimg.ApprovalPending && status == aimg.ApprovalNone:
			switch {
			case c.User.IsGuest:
				return false, "", errGuestApproval
			case abuse >= aimg.AbuseNoApprovalRequests:
				return false, "", errNoApprovalRequests
			case pending >= MaxPendingApprovals:
				return false, "", errPendingLimit
			}
		}
		status = to
	}
	if p.IsPublic != nil {
		switch {
		case !*p.IsPublic:
			pub = false
		case status != aimg.ApprovalApproved:
			return false, "", errNotApproved
		case abuse >= aimg.AbuseNoPublic:
			return false, "", errNoPublic
		default:
			pub = true
		}
	}
	return pub, status, nil
}

// SetItemProperties is setItemProperties: the owner changes isPublic and
// publicApprovalStatus (none or pending) of one of their Items; both
// changes are made together or not at all. It answers the Item as getItem
// does.
func (s *Service) SetItemProperties(ctx context.Context, c aimg.Caller, id string, p ItemProperties) (View, error) {
	if id == "" {
		return View{}, aimg.Invalid("imageID", "is required")
	}
	if p.IsPublic == nil && p.PublicApprovalStatus == nil {
		return View{}, aimg.Invalid("isPublic", "at least one of isPublic or publicApprovalStatus is required")
	}
	if p.PublicApprovalStatus != nil {
		switch *p.PublicApprovalStatus {
		case aimg.ApprovalNone, aimg.ApprovalPending:
		case aimg.ApprovalApproved, aimg.ApprovalRejected:
			return View{}, aimg.Invalid("publicApprovalStatus", "only Admins approve or reject Items (setPublicApprovalStatus); owners may set none or pending")
		default:
			return View{}, aimg.Invalid("publicApprovalStatus", "must be none or pending")
		}
	}
	// An anonymous session (no user record) owns nothing.
	if c.User == nil || len(id) > maxItemIDLen || !utf8.ValidString(id) {
		return View{}, errItemNotFound
	}
	res, err := s.store.SetApproval(ctx, aimg.ApprovalChange{
		IDs: []string{id}, Owner: c.User.ID, At: s.now(),
		Decide: func(it *aimg.Item, pending, abuse int) (bool, string, error) {
			// The session's abuse level may be older than the stored one;
			// the stricter counts.
			return ownerTransition(c, it, p, pending, max(abuse, c.User.Abuse))
		},
	})
	if err != nil {
		return View{}, err
	}
	if res[0] != nil {
		return View{}, res[0]
	}
	it, err := s.store.ItemByID(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := s.view(c, it)
	return v, s.annotate(ctx, c, []*View{&v})
}

// adminTransition is the Admin's rule for one Item: approve a pending (or
// rejected) Item, making it public unless its owner's abuse level forbids
// public Items; reject a pending or approved Item, making it private.
func adminTransition(it *aimg.Item, to string, abuse int) (bool, string, error) {
	switch {
	case it.DeletedAt != nil:
		return false, "", errDeleted
	case it.Status != aimg.StatusCompleted:
		return false, "", errApprovalNotCompleted
	case it.PublicApprovalStatus == to && to == aimg.ApprovalApproved:
		return false, "", errAlreadyApproved
	case it.PublicApprovalStatus == to:
		return false, "", errAlreadyRejected
	case it.PublicApprovalStatus == aimg.ApprovalNone:
		return false, "", errNotSubmitted
	case to == aimg.ApprovalRejected:
		return false, to, nil
	}
	return abuse < aimg.AbuseNoPublic, to, nil
}

// SetPublicApprovalStatus is setPublicApprovalStatus (Admins only): ids
// (duplicates collapse to the first) each get an outcome.
func (s *Service) SetPublicApprovalStatus(ctx context.Context, c aimg.Caller, ids []string, status string) ([]ItemResult, error) {
	if !c.Admin {
		return nil, errAdminOnly
	}
	if len(ids) == 0 {
		return nil, aimg.Invalid("imageIDs", "is required: one or more Item ids")
	}
	if len(ids) > MaxApprovalItems {
		return nil, aimg.Invalid("imageIDs", "at most %d Items per call (got %d)", MaxApprovalItems, len(ids))
	}
	switch status {
	case aimg.ApprovalApproved, aimg.ApprovalRejected:
	case "":
		return nil, aimg.Invalid("publicApprovalStatus", "is required: approved or rejected")
	default:
		return nil, aimg.Invalid("publicApprovalStatus", "must be approved or rejected")
	}
	query, at, out := distinctItemIDs(ids)
	if len(query) == 0 {
		return out, nil
	}
	res, err := s.store.SetApproval(ctx, aimg.ApprovalChange{
		IDs: query, At: s.now(),
		Decide: func(it *aimg.Item, _, abuse int) (bool, string, error) { return adminTransition(it, status, abuse) },
	})
	if err != nil {
		return nil, err
	}
	for i, e := range res {
		out[at[i]].Err = e
	}
	return out, nil
}
