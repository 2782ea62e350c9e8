package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"

	"aimg/internal/aimg"
)

// Public approval: items.is_public and public_approval_status (migration
// 00003) changed by setItemProperties and setPublicApprovalStatus.

// SetApproval applies ch in one transaction and returns each id's outcome
// (nil: changed) in the order of ch.IDs. With ch.Owner, that user's row is
// locked first (lockUsers) and their live pending Items are counted after
// the lock, so two concurrent requests of one user cannot both pass the
// limit. Items are locked in id order (PostgreSQL). Each Item changes
// entirely (both columns) or not at all; any database error undoes the
// whole call.
func (s *Store) SetApproval(ctx context.Context, ch aimg.ApprovalChange) ([]error, error) {
	if len(ch.IDs) > maxChangeIDs {
		return nil, aimg.Errorf(aimg.CodeInternal, "too many ids for one approval change")
	}
	if ch.Decide == nil {
		return nil, aimg.Errorf(aimg.CodeInternal, "approval change without Decide")
	}
	var out []error
	var err error
	for range 3 {
		if out, err = s.setApproval(ctx, ch); !errors.Is(err, errOwnersChanged) {
			break
		}
	}
	return out, err
}

func (s *Store) setApproval(ctx context.Context, ch aimg.ApprovalChange) ([]error, error) {
	var out []error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = make([]error, len(ch.IDs))
		if len(ch.IDs) == 0 {
			return nil
		}
		pending := 0
		// The owners' rows first (user → Items, as the Folder calls lock):
		// making an Item private moves it out of its Public Folder, which
		// changes item_counts rows that a concurrent move of the same user
		// changes too.
		owners := []string{ch.Owner}
		if ch.Owner == "" && s.dialect == Postgres {
			var err error
			if owners, err = itemOwners(ctx, tx, ch.IDs); err != nil {
				return err
			}
		}
		slices.Sort(owners)
		for _, u := range owners {
			// An owner without a user row (test data) has nothing to lock.
			if err := lockUsers(ctx, tx, s.dialect, u); err != nil && !aimg.IsNotFound(err) {
				return err
			}
		}
		if ch.Owner != "" {
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE user_id = $1 AND deleted_at IS NULL AND public_approval_status = $2`,
				ch.Owner, aimg.ApprovalPending).Scan(&pending); err != nil {
				return err
			}
		}
		byID, err := lockItems(ctx, tx, s.dialect, ch.IDs)
		if err != nil {
			return err
		}
		for _, it := range byID {
			// The Admin path locked the owners it read; an Item given to
			// another user meanwhile (migrateLibrary) means starting over.
			// (The owner path decides others' Items as not found.)
			if ch.Owner == "" && s.dialect == Postgres && !slices.Contains(owners, it.UserID) {
				return errOwnersChanged
			}
		}
		abuse, err := ownerAbuse(ctx, tx, slices.Collect(maps.Values(byID)))
		if err != nil {
			return err
		}
		for i, id := range ch.IDs {
			it := byID[id]
			if it == nil {
				out[i] = ErrChangeItemNotFound
				continue
			}
			pub, status, err := ch.Decide(it, pending, abuse[it.UserID])
			if err != nil {
				out[i] = err
				continue
			}
			if status != aimg.ApprovalNone && status != aimg.ApprovalPending && status != aimg.ApprovalApproved && status != aimg.ApprovalRejected {
				return aimg.Errorf(aimg.CodeInternal, "unknown approval status %q", status)
			}
			if it.UserID == ch.Owner && it.DeletedAt == nil {
				if it.PublicApprovalStatus == aimg.ApprovalPending {
					pending--
				}
				if status == aimg.ApprovalPending {
					pending++
				}
			}
			if pub == it.IsPublic && status == it.PublicApprovalStatus {
				continue
			}
			// A Public Folder holds only public Items: made private, the
			// Item goes to the root Folder.
			leave := !pub && aimg.IsPublicFolderID(it.FolderID)
			if _, err := tx.ExecContext(ctx, `UPDATE items SET is_public = $1, public_approval_status = $2, updated_at = $3,
				folder_id = CASE WHEN $4 THEN NULL ELSE folder_id END,
				folder_added_at = CASE WHEN $4 THEN NULL ELSE folder_added_at END WHERE id = $5`,
				pub, status, ms(ch.At), leave, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ownerAbuse gives the abuse level of each owner of items.
func ownerAbuse(ctx context.Context, tx *sql.Tx, items []*aimg.Item) (map[string]int, error) {
	owners := ownerIDs(items)
	out := map[string]int{}
	for len(owners) > 0 {
		n := min(len(owners), 1000)
		in, args := inList(1, owners[:n])
		rows, err := tx.QueryContext(ctx, `SELECT id, abuse FROM users WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var level int
			if err := rows.Scan(&id, &level); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = level
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

// itemOwners reads (unlocked) the distinct owners of the Items with ids,
// so that their user rows can be locked before the Items; an Item that
// changed owner before its lock makes SetApproval start over.
func itemOwners(ctx context.Context, tx *sql.Tx, ids []string) ([]string, error) {
	var out []string
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		in, args := inList(1, ids[:n])
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT user_id FROM items WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, id)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}
