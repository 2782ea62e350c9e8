package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"aimg/internal/aimg"
)

// Deleting, restoring and protecting Items. Deletion is soft (deleted_at)
// and clears the Items' tags; item_counts and tags.usage_count follow
// through their triggers (migrations 00006, 00016) in the same transaction.

// ErrChangeItemNotFound is the outcome of an id no Item has.
var ErrChangeItemNotFound = aimg.Errorf(aimg.CodeNotFound, "Item not found")

// maxChangeIDs bounds one named-id call; an OwnerID call is written in
// chunks of it.
const maxChangeIDs = 5000

// ChangeItems applies ch in one transaction and returns each Item's
// outcome: in the order of ch.IDs, or (OwnerID set) of the user's Items by
// id. Items are locked in id order (PostgreSQL), so overlapping calls take
// turns instead of deadlocking; ch.Check sees the locked rows. A deleted
// Item leaves its Folder; a restored one lands in the root Folder. Any
// database error undoes the whole call.
func (s *Store) ChangeItems(ctx context.Context, ch aimg.ItemChange) ([]aimg.ItemChanged, error) {
	switch ch.Op {
	case aimg.ItemDelete, aimg.ItemRestore, aimg.ItemToggleProtect:
	default:
		return nil, aimg.Errorf(aimg.CodeInternal, "unknown Item change %q", ch.Op)
	}
	if ch.OwnerID == "" && len(ch.IDs) > maxChangeIDs {
		return nil, aimg.Errorf(aimg.CodeInternal, "too many ids for one Item change")
	}
	if ch.OwnerID != "" && ch.Op == aimg.ItemToggleProtect {
		return nil, aimg.Errorf(aimg.CodeInternal, "protect takes ids")
	}
	var out []aimg.ItemChanged
	var err error
	for range 3 {
		if out, err = s.changeItems(ctx, ch); !errors.Is(err, errOwnersChanged) {
			break
		}
	}
	return out, err
}

func (s *Store) changeItems(ctx context.Context, ch aimg.ItemChange) ([]aimg.ItemChanged, error) {
	var out []aimg.ItemChanged
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.changeItemsTx(ctx, tx, ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeItemsTx is one try of ChangeItems inside the caller's transaction
// (closeReports deletes the Items of accepted reports in its own, having
// locked the same owners and Items first).
func (s *Store) changeItemsTx(ctx context.Context, tx *sql.Tx, ch aimg.ItemChange) ([]aimg.ItemChanged, error) {
	var out []aimg.ItemChanged
	err := func() error {
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR NO KEY UPDATE"
		}
		// Lock order (PostgreSQL), as in every transaction that moves Items
		// between counts: the owners' rows, then the Items in id order. The
		// owners' rows serialise the item_counts updates of the triggers,
		// which would otherwise deadlock in the order the rows change.
		owners, err := s.changeOwners(ctx, tx, ch)
		if err != nil {
			return err
		}
		if err := lockUsers(ctx, tx, s.dialect, owners...); err != nil {
			return err
		}
		var rows *sql.Rows
		if ch.OwnerID != "" {
			cond := "deleted_at IS NULL"
			if ch.Op == aimg.ItemRestore {
				cond = "deleted_at IS NOT NULL"
			}
			rows, err = tx.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE user_id = $1 AND `+cond+` ORDER BY id`+lock, ch.OwnerID)
		} else {
			if len(ch.IDs) == 0 {
				return nil
			}
			sorted := slices.Clone(ch.IDs)
			slices.Sort(sorted)
			in, args := inList(1, sorted)
			rows, err = tx.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id IN (`+in+`) ORDER BY id`+lock, args...)
		}
		if err != nil {
			return err
		}
		items, err := scanItems(rows)
		if err != nil {
			return err
		}
		for _, it := range items {
			if s.dialect == Postgres && !slices.Contains(owners, it.UserID) { // given to another user meanwhile (migrateLibrary)
				return errOwnersChanged
			}
		}
		deletedOwners, err := deletedUsers(ctx, tx, items)
		if err != nil {
			return err
		}
		byID := make(map[string]*aimg.Item, len(items))
		order := ch.IDs
		if ch.OwnerID != "" {
			order = make([]string, len(items))
		}
		for i, it := range items {
			byID[it.ID] = it
			if ch.OwnerID != "" {
				order[i] = it.ID
			}
		}
		var change []string
		out = make([]aimg.ItemChanged, len(order))
		for i, id := range order {
			it := byID[id]
			out[i].ID = id
			switch {
			case it == nil:
				out[i].Err = ErrChangeItemNotFound
				continue
			case ch.Check != nil:
				out[i].Err = ch.Check(it, deletedOwners[it.UserID])
			}
			out[i].Protected = it.IsProtected
			if out[i].Err == nil {
				change = append(change, id)
				if ch.Op == aimg.ItemToggleProtect {
					out[i].Protected = !it.IsProtected
				}
			}
		}
		if ch.Op == aimg.ItemDelete {
			// Deleting clears the Items' tags (the spec's deleteItems);
			// restoring brings none back.
			if err := clearItemTags(ctx, tx, change); err != nil {
				return err
			}
		}
		var set string
		switch {
		case ch.Op == aimg.ItemDelete && ch.ByReport:
			// An Item its owner deleted already keeps its deletedDate.
			set = `deleted_at = COALESCE(deleted_at, $1), updated_at = $1, folder_id = NULL, folder_added_at = NULL, removed_by_report = TRUE`
		case ch.Op == aimg.ItemDelete:
			set = `deleted_at = $1, updated_at = $1, folder_id = NULL, folder_added_at = NULL`
		case ch.Op == aimg.ItemRestore:
			set = `deleted_at = NULL, updated_at = $1, folder_id = NULL, folder_added_at = NULL, removed_by_report = FALSE`
		case ch.Op == aimg.ItemToggleProtect:
			set = `is_protected = NOT is_protected, updated_at = $1`
		}
		for len(change) > 0 {
			n := min(len(change), 1000)
			in, args := inList(2, change[:n])
			if _, err := tx.ExecContext(ctx, `UPDATE items SET `+set+` WHERE id IN (`+in+`)`,
				append([]any{ms(ch.At)}, args...)...); err != nil {
				return err
			}
			change = change[n:]
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errOwnersChanged: an Item changed hands between reading its owner and
// locking it; ChangeItems starts over.
var errOwnersChanged = aimg.Errorf(aimg.CodeConflict, "The Items changed owner during the call; try again")

// changeOwners are the owners of the Items ch names (before locking).
func (s *Store) changeOwners(ctx context.Context, tx *sql.Tx, ch aimg.ItemChange) ([]string, error) {
	if ch.OwnerID != "" {
		return []string{ch.OwnerID}, nil
	}
	if s.dialect != Postgres || len(ch.IDs) == 0 {
		return nil, nil
	}
	in, args := inList(1, ch.IDs)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT user_id FROM items WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var owners []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		owners = append(owners, id)
	}
	return owners, rows.Err()
}

// deletedUsers tells which owners of items are deleted.
func deletedUsers(ctx context.Context, tx *sql.Tx, items []*aimg.Item) (map[string]bool, error) {
	owners := ownerIDs(items)
	out := map[string]bool{}
	for len(owners) > 0 {
		n := min(len(owners), 1000)
		in, args := inList(1, owners[:n])
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE deleted_at IS NOT NULL AND id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		owners = owners[n:]
	}
	return out, nil
}

// ItemCountsRecount recounts userID's live Items from the items table:
// what item_counts must equal (all, and in the root Folder).
func (s *Store) ItemCountsRecount(ctx context.Context, userID string) (all, root int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN folder_id IS NULL THEN 1 ELSE 0 END), 0)
		FROM items WHERE user_id = $1 AND deleted_at IS NULL`, userID).Scan(&all, &root)
	return all, root, err
}

// ownerIDs lists the distinct owners of items, in first-seen order.
func ownerIDs(items []*aimg.Item) []string {
	var owners []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.UserID] {
			seen[it.UserID] = true
			owners = append(owners, it.UserID)
		}
	}
	return owners
}
