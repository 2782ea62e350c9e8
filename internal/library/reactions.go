package library

import (
	"context"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// MaxReactionItems is the most Items one likeItems (unlikeItems, ...) call
// may name (DECISIONS.md: 1,000 Items per bulk call).
const MaxReactionItems = 1000

// Reaction is one of the four reaction endpoints.
type Reaction struct {
	Kind   string // aimg.ReactionLike or aimg.ReactionDislike
	Remove bool   // unlikeItems, undislikeItems
}

var (
	Like      = Reaction{Kind: aimg.ReactionLike}
	Unlike    = Reaction{Kind: aimg.ReactionLike, Remove: true}
	Dislike   = Reaction{Kind: aimg.ReactionDislike}
	Undislike = Reaction{Kind: aimg.ReactionDislike, Remove: true}
)

var (
	errNotCompleted = aimg.Errorf(aimg.CodeConflict, "Only completed Items can be liked or disliked")
	errDeleted      = aimg.Errorf(aimg.CodeGone, "Item is deleted")
)

// VisibleToUser tells whether the caller, as a user (an Admin's key gives
// nothing extra here), may see the Item: their own Item, or a publicly
// visible one. It is the one rule for acting on someone's Item as a user
// (reactions today; reports and public feeds later); Public Folders extend
// it through PubliclyVisible. Deleted Items are visible only to their
// owner, so that the owner learns why an action has no effect.
func VisibleToUser(c aimg.Caller, it *aimg.Item) bool {
	return owns(c, it) || PubliclyVisible(it)
}

// canReact is the rule of DECISIONS.md for likes and dislikes on one Item,
// checked on the locked row: visible to the caller, not deleted, completed.
// Removing a reaction asks the same, so nobody learns through unlike that a
// private Item exists.
func canReact(c aimg.Caller, it *aimg.Item) error {
	switch {
	case !VisibleToUser(c, it):
		return errItemNotFound
	case it.DeletedAt != nil:
		return errDeleted
	case it.Status != aimg.StatusCompleted:
		return errNotCompleted
	}
	return nil
}

// React is likeItems, unlikeItems, dislikeItems and undislikeItems: ids
// (duplicates collapse to the first) each get an outcome; every change is
// made in one transaction. Errors are for the whole call: no ids, too many,
// a caller at abuse level >= 4 adding a reaction, or the database.
func (s *Service) React(ctx context.Context, c aimg.Caller, r Reaction, ids []string) ([]ItemResult, error) {
	if len(ids) == 0 {
		return nil, aimg.Invalid("imageIDs", "is required: one or more Item ids")
	}
	if len(ids) > MaxReactionItems {
		return nil, aimg.Invalid("imageIDs", "at most %d Items per call (got %d)", MaxReactionItems, len(ids))
	}
	if !r.Remove && c.User != nil && c.User.Abuse >= aimg.AbuseNoReportsOrLikes {
		return nil, aimg.Errorf(aimg.CodeForbidden, "This account cannot like or dislike Items")
	}
	seen := make(map[string]bool, len(ids))
	out := make([]ItemResult, 0, len(ids))
	var query []string
	var at []int // out index of each queried id
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, ItemResult{ID: id})
		// An id no Item can have is not looked up. An anonymous session
		// (no user record) owns nothing and, until Public Folders exist,
		// can see nothing to react to.
		if c.User == nil || len(id) > maxItemIDLen || !utf8.ValidString(id) {
			out[len(out)-1].Err = errItemNotFound
			continue
		}
		query = append(query, id)
		at = append(at, len(out)-1)
	}
	if len(query) == 0 {
		return out, nil
	}
	res, err := s.store.React(ctx, aimg.ReactionChange{
		UserID: c.User.ID, IDs: query, Kind: r.Kind, Remove: r.Remove, At: s.now(),
		Check: func(it *aimg.Item) error { return canReact(c, it) },
	})
	if err != nil {
		return nil, err
	}
	for i, e := range res {
		out[at[i]].Err = e
	}
	return out, nil
}

// maxItemIDLen: Item ids are UUIDs (36 characters); longer ids do not exist.
const maxItemIDLen = 64

// withReactions sets Liked/Disliked on views for the caller.
func (s *Service) withReactions(ctx context.Context, c aimg.Caller, views []*View) error {
	if c.User == nil || len(views) == 0 {
		return nil
	}
	// Only an Item with a like or dislike can have the caller's: its
	// counters are kept in the reaction's transaction (a trigger), so a
	// page without any (most of a user's own) costs no query.
	var ids []string
	for _, v := range views {
		if v.Item.LikeCount > 0 || v.Item.DislikeCount > 0 {
			ids = append(ids, v.Item.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	kinds, err := s.store.Reactions(ctx, c.User.ID, ids)
	if err != nil {
		return err
	}
	for _, v := range views {
		v.Liked = kinds[v.Item.ID] == aimg.ReactionLike
		v.Disliked = kinds[v.Item.ID] == aimg.ReactionDislike
	}
	return nil
}
