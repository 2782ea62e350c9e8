package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// deleteItems, restoreItems, setProtected.

type deleteItemsInput struct {
	Auth
	ImageIDs string `query:"imageIDs" doc:"A comma-separated list of Item ids (at most 1,000). At least one of imageIDs or userID must be given."`
	UserID   string `query:"userID" doc:"Delete every Item of this User (imageIDs is then ignored): the caller's own id with a PRO tier above 2, or any User for Admins. Protected Items are never deleted."`
}

func (s *Server) deleteItems(ctx context.Context, c aimg.Caller, in *deleteItemsInput) (*Response[[]ItemOutcome], error) {
	res, err := s.Library.DeleteItems(ctx, c, SplitCommaList(in.ImageIDs), in.UserID)
	if err != nil {
		return nil, err
	}
	return reply(outcomes(res))
}

type restoreItemsInput struct {
	Auth
	Body struct {
		ImageIDs StringList `json:"imageIDs,omitempty" doc:"The Items' ids (at most 1,000), as a JSON array or one comma-separated string. At least one of imageIDs or userID must be given."`
		UserID   string     `json:"userID,omitempty" doc:"Restore every deleted Item of this User (imageIDs is then ignored)."`
	}
}

func (s *Server) restoreItems(ctx context.Context, c aimg.Caller, in *restoreItemsInput) (*Response[[]ItemOutcome], error) {
	res, err := s.Library.RestoreItems(ctx, c, in.Body.ImageIDs, in.Body.UserID)
	if err != nil {
		return nil, err
	}
	return reply(outcomes(res))
}

func outcomes(res []library.ItemResult) []ItemOutcome {
	out := make([]ItemOutcome, len(res))
	for i, o := range res {
		out[i] = ItemOutcome{ID: o.ID, Success: o.Err == nil, Message: o.Message()}
	}
	return out
}

type setProtectedInput struct {
	Auth
	Body struct {
		ImageIDs StringList `json:"imageIDs" required:"true" doc:"The Items' ids (at most 1,000), as a JSON array or one comma-separated string."`
	}
}

// ProtectOutcome is one Item's entry in setProtected's answer.
type ProtectOutcome struct {
	ID      string `json:"id" doc:"The Item's id, as sent."`
	Success bool   `json:"success" doc:"Whether the Item's protected status was toggled."`
	Message string `json:"message" doc:"On success the new protected status as text (\"true\" or \"false\"); else why nothing changed."`
}

func (s *Server) setProtected(ctx context.Context, c aimg.Caller, in *setProtectedInput) (*Response[[]ProtectOutcome], error) {
	res, err := s.Library.SetProtected(ctx, c, in.Body.ImageIDs)
	if err != nil {
		return nil, err
	}
	out := make([]ProtectOutcome, len(res))
	for i, o := range res {
		out[i] = ProtectOutcome{ID: o.ID, Success: o.Err == nil, Message: o.Message()}
		if o.Err == nil {
			out[i].Message = o.ProtectedText()
		}
	}
	return reply(out)
}
