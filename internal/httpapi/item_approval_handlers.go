package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// setItemProperties, setPublicApprovalStatus (Annex: Public Items Approval
// Workflow).

type setItemPropertiesInput struct {
	Auth
	Body struct {
		ImageID              string  `json:"imageID" required:"true" doc:"The Item's id; it must be the caller's own, completed and not deleted."`
		IsPublic             *bool   `json:"isPublic,omitempty" doc:"Whether the Item is public. true is accepted only once an Admin approved the Item (publicApprovalStatus approved); false is always accepted. At least one of isPublic or publicApprovalStatus must be given."`
		PublicApprovalStatus *string `json:"publicApprovalStatus,omitempty" doc:"none or pending: pending submits the Item for approval (at most 50 pending Items per User), none withdraws the request. Refused once the Item is approved or rejected."`
	}
}

func (s *Server) setItemProperties(ctx context.Context, c aimg.Caller, in *setItemPropertiesInput) (*Response[Image], error) {
	v, err := s.Library.SetItemProperties(ctx, c, in.Body.ImageID, library.ItemProperties{
		IsPublic: in.Body.IsPublic, PublicApprovalStatus: in.Body.PublicApprovalStatus,
	})
	if err != nil {
		return nil, err
	}
	return reply(toImage(v))
}

type setPublicApprovalStatusInput struct {
	Auth
	Body struct {
		ImageIDs             StringList `json:"imageIDs" required:"true" doc:"The Items' ids (at most 1,000), as one comma-separated string or a JSON array."`
		PublicApprovalStatus string     `json:"publicApprovalStatus" required:"true" doc:"approved (the Item becomes public, unless its owner's abuse level forbids public Items) or rejected (the Item becomes private; an approved Item may be rejected later)."`
	}
}

func (s *Server) setPublicApprovalStatus(ctx context.Context, c aimg.Caller, in *setPublicApprovalStatusInput) (*Response[[]ItemOutcome], error) {
	res, err := s.Library.SetPublicApprovalStatus(ctx, c, in.Body.ImageIDs, in.Body.PublicApprovalStatus)
	if err != nil {
		return nil, err
	}
	return reply(outcomes(res))
}
