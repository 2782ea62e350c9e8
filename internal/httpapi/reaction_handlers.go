package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Reactions: likeItems, unlikeItems, dislikeItems, undislikeItems.

type reactionInput struct {
	Auth
	Body struct {
		ImageIDs StringList `json:"imageIDs" required:"true" doc:"The Items' ids (at most 1,000), as a JSON array or one comma-separated string."`
	}
}

// ItemOutcome is one Item's entry in a bulk Item call's answer.
type ItemOutcome struct {
	ID      string `json:"id" doc:"The Item's id, as sent."`
	Success bool   `json:"success" doc:"Whether the call changed this Item."`
	Message string `json:"message,omitempty" doc:"Why nothing changed for this Item, when success is false."`
}

func (s *Server) reactionHandler(r library.Reaction) func(context.Context, aimg.Caller, *reactionInput) (*Response[[]ItemOutcome], error) {
	return func(ctx context.Context, c aimg.Caller, in *reactionInput) (*Response[[]ItemOutcome], error) {
		res, err := s.Library.React(ctx, c, r, in.Body.ImageIDs)
		if err != nil {
			return nil, err
		}
		out := make([]ItemOutcome, len(res))
		for i, o := range res {
			out[i] = ItemOutcome{ID: o.ID, Success: o.Err == nil}
			if o.Err != nil {
				out[i].Message = o.Message()
			}
		}
		return reply(out)
	}
}
