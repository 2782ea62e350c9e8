package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"aimg/internal/aimg"
)

// The public side of the library: feeds of publicly visible Items, the
// Admin's listing of every Item, views and library migration.

// publiclyVisible is an Item anyone may see (DECISIONS.md "Public
// approval": public and in a Public Folder), as the partial indexes of
// migration 00014 spell it.
const publiclyVisible = `is_public AND folder_id LIKE 'p-%' AND deleted_at IS NULL`

// ownerListed: the feeds leave out Items of deleted users and of users at
// abuse level >= 2 (DECISIONS.md "Abuse levels"). A scalar subquery, a
// lookup by primary key per row, keeps the feed in its index's order and
// stops at the LIMIT: PostgreSQL turns NOT EXISTS into an anti join, and
// with few users it estimated that join to keep ~1 row and read all 1M
// public Items with a sort instead (3.3 s instead of 8 ms per page).
const ownerListed = `(SELECT u.deleted_at IS NULL AND u.abuse < 2 FROM users u WHERE u.id = items.user_id)`

// publicList is getPublicCreations' listing: by user, by Public Folder or
// every publicly visible Item, newest first.
func publicList(f aimg.PublicFilter) *keysetList {
	l := newKeysetList(itemSummaryColumns, "items", "created_at", "id").Where(publiclyVisible).Where(ownerListed)
	switch {
	case f.FolderID != "":
		l.Where("folder_id = ?", f.FolderID).IndexedBy("items_folder_created")
		if f.UserID != "" {
			l.Where("user_id = ?", f.UserID)
		}
	case f.UserID != "":
		l.Where("user_id = ?", f.UserID).IndexedBy("items_public_user_created")
	default:
		l.IndexedBy("items_public_created")
	}
	if f.MType != "" {
		l.Where("mtype = ?", f.MType)
	}
	if f.Tag != "" {
		// A common tag: a primary-key lookup per Item read in the feed's order.
		l.Where("EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = items.id AND t.tag = ?)", f.Tag)
	}
	return l
}

// rareTagUsage is the most Items and Folders a tag may carry for its
// public feed to be read from the tag's own rows (at most that many, by
// primary key, then sorted) instead of walking the public feed's index.
const rareTagUsage = 1000

// rareTagList is the public feed of a rarely used tag: its Items first.
func rareTagList(f aimg.PublicFilter) *keysetList {
	return newKeysetList(itemSummaryColumns, "items", "created_at", "id").Where(publiclyVisible).Where(ownerListed).
		Where("id IN (SELECT t.item_id FROM item_tags t WHERE t.tag = ?)", f.Tag)
}

// latestList is getLatestItems' listing: publicly visible Items by the
// time they were published (put in their Public Folder), newest first.
func latestList() *keysetList {
	return newKeysetList(itemSummaryColumns, "items", "folder_added_at", "id").Where(publiclyVisible).Where(ownerListed).
		IndexedBy("items_public_published")
}

// ListPublicItems is one page of getPublicCreations.
// With a tag (only without UserID and FolderID), the tag's usage count
// picks the plan: none, an empty page; a few, the tag's rows; else the feed.
func (s *Store) ListPublicItems(ctx context.Context, f aimg.PublicFilter, p aimg.Page) (aimg.ItemPage, error) {
	l := publicList(f)
	if f.Tag != "" {
		var usage int64
		err := s.r.QueryRowContext(ctx, `SELECT usage_count FROM tags WHERE name = $1`, f.Tag).Scan(&usage)
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && usage == 0:
			return aimg.ItemPage{}, nil
		case err != nil:
			return aimg.ItemPage{}, err
		case usage <= rareTagUsage:
			l = rareTagList(f)
		}
	}
	return s.itemPage(ctx, l, p, func(it *aimg.Item) int64 { return ms(it.CreatedAt) })
}

// ListLatestItems is one page of getLatestItems; Next is a folder_added_at.
func (s *Store) ListLatestItems(ctx context.Context, p aimg.Page) (aimg.ItemPage, error) {
	return s.itemPage(ctx, latestList(), p, func(it *aimg.Item) int64 { return ms(*it.FolderAddedAt) })
}

// MostLikedPublicItems returns the n most liked publicly visible Items
// (getSampleItems draws from them).
func (s *Store) MostLikedPublicItems(ctx context.Context, n int) ([]*aimg.Item, error) {
	from := "items"
	if s.dialect == SQLite {
		from += " INDEXED BY items_public_liked"
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+itemSummaryColumns+` FROM `+from+` WHERE `+publiclyVisible+` AND `+ownerListed+`
		ORDER BY like_count DESC, id DESC LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	return scanItemSummaries(rows)
}

// allItemsList is getItems' listing (Admins): every user's live Items, or
// one user's, with getMyCreations' filters.
func allItemsList(userID string, f aimg.ItemFilter) *keysetList {
	if userID != "" {
		return creationsList(userID, f)
	}
	l := newKeysetList(itemSummaryColumns, "items", "created_at", "id").Where("deleted_at IS NULL")
	return filterItems(l, f)
}

// ListAllItems is one page of getItems; userID "" = every user.
func (s *Store) ListAllItems(ctx context.Context, userID string, f aimg.ItemFilter, p aimg.Page) (aimg.ItemPage, error) {
	return s.itemPage(ctx, allItemsList(userID, f), p, func(it *aimg.Item) int64 { return ms(it.CreatedAt) })
}

// CountPublicItems is getPublicCreations' totalCount by user ("" = every
// user): the live Items in Public Folders of users the feeds list, summed
// from item_counts (one row per user and Folder), not counted from items.
func (s *Store) CountPublicItems(ctx context.Context, userID string) (int64, error) {
	q := `SELECT COALESCE(SUM(c.n), 0) FROM item_counts c JOIN users u ON u.id = c.user_id
		WHERE c.folder_key LIKE 'p-%' AND u.deleted_at IS NULL AND u.abuse < 2`
	var args []any
	if userID != "" {
		q, args = q+` AND c.user_id = $1`, append(args, userID)
	}
	var n int64
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// CountPublicFolderItems is a Public Folder's totalCount: its imageCount,
// or 0 when the feeds do not list its owner.
func (s *Store) CountPublicFolderItems(ctx context.Context, folderID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(c.n), 0) FROM item_counts c JOIN users u ON u.id = c.user_id
		WHERE c.folder_key = $1 AND u.deleted_at IS NULL AND u.abuse < 2`, folderID).Scan(&n)
	return n, err
}

// FolderOwner returns the owner of Folder id, or ErrFolderNotFound.
func (s *Store) FolderOwner(ctx context.Context, id string) (string, error) {
	var owner string
	err := s.r.QueryRowContext(ctx, `SELECT user_id FROM folders WHERE id = $1`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrFolderNotFound
	}
	return owner, err
}

// AddView counts one view of Item id by viewer, unless viewer already
// viewed it since `since` (Unix ms). It reports whether the view counted.
func (s *Store) AddView(ctx context.Context, id, viewer string, at, since int64) (bool, error) {
	counted := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO item_views (item_id, viewer, viewed_at) VALUES ($1, $2, $3)
			ON CONFLICT (item_id, viewer) DO UPDATE SET viewed_at = excluded.viewed_at WHERE item_views.viewed_at < $4`,
			id, viewer, at, since)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		counted = true
		_, err = tx.ExecContext(ctx, `UPDATE items SET view_count = view_count + 1 WHERE id = $1`, id)
		return err
	})
	return counted, err
}

// PurgeViews drops the view records older than before (Unix ms): they no
// longer keep a view from counting twice.
func (s *Store) PurgeViews(ctx context.Context, before int64) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM item_views WHERE viewed_at < $1`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MigrateLibrary moves sourceUserID's live Items and Folders (with their
// Thumbnails) to destinationUserID in one transaction; item_counts follows
// by trigger. Deleted Items stay with the source.
func (s *Store) MigrateLibrary(ctx context.Context, sourceUserID, destinationUserID string, at time.Time) (aimg.LibraryMoved, error) {
	var moved aimg.LibraryMoved
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		moved = aimg.LibraryMoved{}
		n, err := moveItemsToUser(ctx, tx, s.dialect, sourceUserID, destinationUserID, true)
		if err != nil {
			return err
		}
		moved.Items = n
		if err := followReportAuthors(ctx, tx, sourceUserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE folders SET user_id = $2, updated_at = $3 WHERE user_id = $1`,
			sourceUserID, destinationUserID, ms(at))
		if err != nil {
			return err
		}
		moved.Folders, err = res.RowsAffected()
		return err
	})
	return moved, err
}
