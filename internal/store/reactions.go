package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// Reactions are likes and dislikes: one row per (user, Item) in reactions,
// with items.like_count and dislike_count kept by triggers in the same
// transaction (migration 00008).

// Outcomes of one Item that did not change, besides Check's errors.
var (
	ErrReactionItemNotFound = aimg.Errorf(aimg.CodeNotFound, "Item not found")
	errAlready              = map[string]*aimg.Error{
		aimg.ReactionLike:    aimg.Errorf(aimg.CodeConflict, "Item is already liked"),
		aimg.ReactionDislike: aimg.Errorf(aimg.CodeConflict, "Item is already disliked"),
	}
	errNotReacted = map[string]*aimg.Error{
		aimg.ReactionLike:    aimg.Errorf(aimg.CodeConflict, "Item is not liked"),
		aimg.ReactionDislike: aimg.Errorf(aimg.CodeConflict, "Item is not disliked"),
	}
)

// maxReactionIDs bounds one call: 4 bound parameters per row stay under
// SQLite's 32766.
const maxReactionIDs = 5000

// React applies ch in one transaction and returns each id's outcome (nil:
// changed) in the order of ch.IDs, which must not repeat. Adding a kind
// replaces the user's other kind on that Item. Items are locked in id order
// (PostgreSQL), so concurrent calls on overlapping Items take turns instead
// of deadlocking, and the counters stay exact. Any database error undoes
// the whole call.
func (s *Store) React(ctx context.Context, ch aimg.ReactionChange) ([]error, error) {
	if ch.Kind != aimg.ReactionLike && ch.Kind != aimg.ReactionDislike {
		return nil, aimg.Errorf(aimg.CodeInternal, "unknown reaction kind %q", ch.Kind)
	}
	if len(ch.IDs) > maxReactionIDs {
		return nil, aimg.Errorf(aimg.CodeInternal, "too many ids for one reaction call")
	}
	out := make([]error, len(ch.IDs))
	if len(ch.IDs) == 0 {
		return out, nil
	}
	sorted := slices.Clone(ch.IDs)
	slices.Sort(sorted)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		byID, err := lockItems(ctx, tx, s.dialect, sorted)
		if err != nil {
			return err
		}
		have, err := reactionsOf(ctx, tx, ch.UserID, sorted)
		if err != nil {
			return err
		}
		var change []string
		for i, id := range ch.IDs {
			it := byID[id]
			var denied error
			if it != nil && ch.Check != nil {
				denied = ch.Check(it)
			}
			switch {
			case it == nil:
				out[i] = ErrReactionItemNotFound
			case denied != nil:
				out[i] = denied
			case ch.Remove && have[id] != ch.Kind:
				out[i] = errNotReacted[ch.Kind]
			case !ch.Remove && have[id] == ch.Kind:
				out[i] = errAlready[ch.Kind]
			default:
				change = append(change, id)
			}
		}
		if len(change) == 0 {
			return nil
		}
		if ch.Remove {
			in, args := inList(3, change)
			_, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE user_id = $1 AND kind = $2 AND item_id IN (`+in+`)`,
				append([]any{ch.UserID, ch.Kind}, args...)...)
			return err
		}
		var sb strings.Builder
		sb.WriteString(`INSERT INTO reactions (user_id, item_id, kind, created_at) VALUES `)
		args := make([]any, 0, 3+len(change))
		args = append(args, ch.UserID, ch.Kind, ms(ch.At))
		for i, id := range change {
			if i > 0 {
				sb.WriteString(", ")
			}
			args = append(args, id)
			sb.WriteString("($1, $" + strconv.Itoa(len(args)) + ", $2, $3)")
		}
		sb.WriteString(` ON CONFLICT (user_id, item_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at`)
		_, err = tx.ExecContext(ctx, sb.String(), args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reactions returns userID's reaction kind for each of itemIDs that has one.
func (s *Store) Reactions(ctx context.Context, userID string, itemIDs []string) (map[string]string, error) {
	if userID == "" || len(itemIDs) == 0 {
		return map[string]string{}, nil
	}
	return reactionsOf(ctx, s.r, userID, itemIDs)
}

func reactionsOf(ctx context.Context, q queryer, userID string, itemIDs []string) (map[string]string, error) {
	in, args := inList(2, itemIDs)
	rows, err := q.QueryContext(ctx, `SELECT item_id, kind FROM reactions WHERE user_id = $1 AND item_id IN (`+in+`)`,
		append([]any{userID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return nil, err
		}
		out[id] = kind
	}
	return out, rows.Err()
}

// ReactionCounts recounts an Item's likes and dislikes from the reactions
// table (what items.like_count and dislike_count must equal).
func (s *Store) ReactionCounts(ctx context.Context, itemID string) (likes, dislikes int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN kind = 'like' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kind = 'dislike' THEN 1 ELSE 0 END), 0)
		FROM reactions WHERE item_id = $1`, itemID).Scan(&likes, &dislikes)
	return likes, dislikes, err
}

// moveGuestReactions hands the guest's reactions to userID inside the
// account merge's transaction. Where both reacted to the same Item, the
// account's reaction stays and the guest's goes (the triggers take its
// count back).
func moveGuestReactions(ctx context.Context, tx *sql.Tx, guestUserID, userID string) error {
	if guestUserID == userID {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE user_id = $1
		AND item_id IN (SELECT item_id FROM reactions WHERE user_id = $2)`, guestUserID, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE reactions SET user_id = $2 WHERE user_id = $1`, guestUserID, userID)
	return err
}

// inList is "$first, $first+1, ..." for ids, with ids as arguments.
func inList(first int, ids []string) (string, []any) {
	var sb strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("$" + strconv.Itoa(first+i))
		args[i] = id
	}
	return sb.String(), args
}
