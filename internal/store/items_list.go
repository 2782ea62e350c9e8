package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"aimg/internal/aimg"
)

// ListCreations returns one page of the user's non-deleted Items of every
// status (queued, processing, failed and completed: the front end shows
// progress and failures in the same list), newest first unless p.Reverse.
// The Items are summaries (see itemSummaryColumns): what an Image shows,
// without prompts, parameters or frames.
//
// The keyset is (user_id, created_at): created_at is unique per user (see
// assignCreatedAt), so a strict comparison with the last Item of a page
// neither loses nor repeats an Item.
func (s *Store) ListCreations(ctx context.Context, userID string, f aimg.ItemFilter, p aimg.Page) (aimg.ItemPage, error) {
	if p.Limit < 1 {
		return aimg.ItemPage{}, fmt.Errorf("list creations: limit %d < 1", p.Limit)
	}
	return s.itemPage(ctx, creationsList(userID, f), p, func(it *aimg.Item) int64 { return ms(it.CreatedAt) })
}

// creationsList is getMyCreations' listing (index items_user_created or
// items_user_folder_created).
func creationsList(userID string, f aimg.ItemFilter) *keysetList {
	l := newKeysetList(itemSummaryColumns, "items", "created_at", "id").
		Where("user_id = ?", userID).Where("deleted_at IS NULL")
	return filterItems(l, f)
}

// filterItems adds getMyCreations' filters (also getItems') to l.
func filterItems(l *keysetList, f aimg.ItemFilter) *keysetList {
	switch f.FolderID {
	case "":
	case aimg.RootFolder:
		l.Where("folder_id IS NULL")
	default:
		l.Where("folder_id = ?", f.FolderID)
	}
	if f.MType != "" {
		l.Where("mtype = ?", f.MType)
	}
	if f.IsPublic != nil {
		l.Where("is_public = ?", *f.IsPublic)
	}
	if f.Approval != "" {
		l.Where("public_approval_status = ?", f.Approval)
	}
	return l
}

// itemPage reads page p of the Item listing l (of itemSummaryColumns),
// whose key column key reads back.
func (s *Store) itemPage(ctx context.Context, l *keysetList, p aimg.Page, key func(*aimg.Item) int64) (aimg.ItemPage, error) {
	q, args := l.Page(p, s.dialect)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return aimg.ItemPage{}, err
	}
	items, err := scanItemSummaries(rows)
	if err != nil {
		return aimg.ItemPage{}, err
	}
	var page aimg.ItemPage
	page.Items, page.Next = nextIndex(items, p, key)
	return page, nil
}

// itemSummaryColumns are the columns of a listed Item: the spec's Image
// fields and what the view's rules read (status, deleted_at), the keyset's
// created_at, and tag_count (00036) so that a page of untagged Items needs
// no tags query. Leaving out the prompts and the JSON columns (and their
// decoding) makes a page of 100 several times cheaper to read; leaving out
// job_id, model_id, is_protected and updated_at, which no listing shows,
// cut a page's scan by a fifth on SQLite (docs/performance.md). A summary
// Item has those fields zero: read the Item (ItemByID) for them.
const itemSummaryColumns = `id, user_id, batch_id, mtype, media_type, status, file_id, folder_id,
	folder_added_at, is_public, public_approval_status, view_count, like_count, dislike_count,
	created_at, completed_at, deleted_at, tag_count`

func scanItemSummaries(rows *sql.Rows) ([]*aimg.Item, error) {
	defer rows.Close()
	var items []*aimg.Item
	for rows.Next() {
		var (
			it                              aimg.Item
			status                          string
			folderID                        sql.NullString
			folderAdded, completed, deleted sql.NullInt64
			created, tagCount               int64
		)
		if err := rows.Scan(&it.ID, &it.UserID, &it.BatchID, &it.MType, &it.MediaType, &status,
			&it.FileID, &folderID, &folderAdded, &it.IsPublic, &it.PublicApprovalStatus, &it.ViewCount,
			&it.LikeCount, &it.DislikeCount, &created, &completed, &deleted, &tagCount); err != nil {
			return nil, err
		}
		it.Status = aimg.ItemStatus(status)
		it.FolderID = folderID.String
		it.FolderAddedAt = fromNullMS(folderAdded)
		it.CreatedAt = fromMS(created)
		it.CompletedAt, it.DeletedAt = fromNullMS(completed), fromNullMS(deleted)
		it.Untagged = tagCount == 0
		items = append(items, &it)
	}
	return items, rows.Err()
}

// LastCompleted returns the user's most recently completed, non-deleted
// Item of mtype ("" = image or video).
func (s *Store) LastCompleted(ctx context.Context, userID, mtype string) (*aimg.Item, error) {
	q := `SELECT ` + itemColumns + ` FROM items WHERE user_id = $1 AND status = 'completed' AND deleted_at IS NULL`
	args := []any{userID}
	if mtype != "" {
		q += ` AND mtype = $2`
		args = append(args, mtype)
	}
	q += ` ORDER BY completed_at DESC, created_at DESC LIMIT 1`
	it, err := scanItem(s.r.QueryRowContext(ctx, q, args...))
	if aimg.IsNotFound(err) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "No completed Item")
	}
	return it, err
}

// BatchItems returns the non-deleted Items of a batch in creation order;
// userID "" means any owner (admins), else only that user's Items.
func (s *Store) BatchItems(ctx context.Context, userID, batchID string) ([]*aimg.Item, error) {
	q := `SELECT ` + itemColumns + ` FROM items WHERE batch_id = $1 AND deleted_at IS NULL`
	args := []any{batchID}
	if userID != "" {
		q += ` AND user_id = $2`
		args = append(args, userID)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	return scanItems(rows)
}

// CountItems is SelfUser.itemCount: the user's non-deleted Items of every
// status. It reads the trigger-kept item_counts table, never the items.
func (s *Store) CountItems(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM item_counts WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}

// CountRootItems is SelfUser.rootFolderItemCount: the user's non-deleted
// Items outside any Folder.
func (s *Store) CountRootItems(ctx context.Context, userID string) (int64, error) {
	return s.CountFolderItems(ctx, userID, "")
}

// CountFolderItems counts the user's non-deleted Items in folderID ("" or
// "root" = the root Folder).
func (s *Store) CountFolderItems(ctx context.Context, userID, folderID string) (int64, error) {
	if folderID == aimg.RootFolder {
		folderID = ""
	}
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT n FROM item_counts WHERE user_id = $1 AND folder_key = $2`,
		userID, folderID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
