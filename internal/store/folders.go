package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// Private Folders (migration 00009); Item counts per Folder come from
// item_counts (00006), whose triggers follow items.folder_id.

// ErrFolderNotFound is a Folder that does not exist or is not the caller's.
var ErrFolderNotFound = aimg.Errorf(aimg.CodeNotFound, "Folder not found")

// CreateFolder stores f (ID, UserID, Name, Description, CreatedAt).
func (s *Store) CreateFolder(ctx context.Context, f *aimg.Folder) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO folders (id, user_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		f.ID, f.UserID, f.Name, f.Description, ms(f.CreatedAt))
	return err
}

// FolderByID returns userID's Folder id with its count and samples, or
// ErrFolderNotFound (also when it is another user's).
func (s *Store) FolderByID(ctx context.Context, userID, id string) (*aimg.Folder, error) {
	fs, err := s.folders(ctx, s.r, `SELECT `+folderColumns+` FROM folders WHERE user_id = $1 AND id = $2`, []any{userID, id})
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, ErrFolderNotFound
	}
	return fs[0], nil
}

// ListFolders returns a page of userID's Folders, newest first (p.Reverse:
// oldest first), filtered to ids when not empty, and their total count.
func (s *Store) ListFolders(ctx context.Context, userID string, ids []string, p aimg.Page) (aimg.FolderPage, error) {
	l := foldersList(userID, ids)
	var page aimg.FolderPage
	q, args := l.Count()
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	q, args = l.Page(p, s.dialect)
	fs, err := s.folders(ctx, s.r, q, args)
	if err != nil {
		return page, err
	}
	page.Folders, page.Next = nextIndex(fs, p, func(f *aimg.Folder) int64 { return ms(f.CreatedAt) })
	return page, nil
}

// foldersList is getSelfFolders' listing (index folders_user_created).
func foldersList(userID string, ids []string) *keysetList {
	l := newKeysetList(folderColumns, "folders", "created_at", "id").Where("user_id = ?", userID)
	if len(ids) > 0 {
		l.WhereIn("id", ids)
	}
	return l
}

func placeholder(n int) string { return "$" + strconv.Itoa(n) }

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// folderColumns are the columns folders scans: the row and its imageCount.
const folderColumns = `id, user_id, name, description, created_at, updated_at,
	COALESCE((SELECT n FROM item_counts c WHERE c.user_id = folders.user_id AND c.folder_key = folders.id), 0)`

// folders runs query (of folderColumns) and reads each Folder's samples
// and Thumbnails.
func (s *Store) folders(ctx context.Context, q querier, query string, args []any) ([]*aimg.Folder, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []*aimg.Folder
	for rows.Next() {
		f := &aimg.Folder{}
		var created, updated int64
		if err := rows.Scan(&f.ID, &f.UserID, &f.Name, &f.Description, &created, &updated, &f.ImageCount); err != nil {
			rows.Close()
			return nil, err
		}
		f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
		out = append(out, f)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, f := range out {
		r, err := q.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE user_id = $1 AND folder_id = $2 AND deleted_at IS NULL
			ORDER BY created_at DESC, id DESC LIMIT 4`, f.UserID, f.ID)
		if err != nil {
			return nil, err
		}
		if f.Samples, err = scanItems(r); err != nil {
			return nil, err
		}
		if f.Thumbnails, err = thumbnailItems(ctx, q, f.UserID, f.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// thumbnailItems are the Folder's Thumbnails whose Items are still live
// inside it, in the order added.
func thumbnailItems(ctx context.Context, q querier, userID, folderID string) ([]*aimg.Item, error) {
	r, err := q.QueryContext(ctx, `SELECT `+prefixed("items.", itemColumns)+` FROM folder_thumbnails t JOIN items ON items.id = t.item_id
		WHERE t.folder_id = $1 AND items.user_id = $2 AND items.folder_id = $1 AND items.deleted_at IS NULL
		ORDER BY t.position, t.item_id`, folderID, userID)
	if err != nil {
		return nil, err
	}
	return scanItems(r)
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// ChangeThumbnails applies ch to userID's Folder in one transaction, the
// Folder's row locked first: Thumbnails whose Items left the Folder are
// dropped, then ids are added (up to ch.Max), removed, or set (replacing
// the list). ErrFolderNotFound when the Folder is not userID's.
func (s *Store) ChangeThumbnails(ctx context.Context, userID string, ch aimg.ThumbnailChange) (aimg.ThumbnailResult, error) {
	var res aimg.ThumbnailResult
	if len(ch.IDs) > maxChangeIDs || ch.Check == nil || ch.Max <= 0 {
		return res, aimg.Errorf(aimg.CodeInternal, "bad thumbnail change")
	}
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = aimg.ThumbnailResult{Outcomes: make([]error, len(ch.IDs))}
		if err := lockUsers(ctx, tx, s.dialect, userID); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM folders WHERE user_id = $1 AND id = $2`+lock, userID, ch.FolderID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrFolderNotFound
			}
			return err
		}
		current, err := thumbnailItems(ctx, tx, userID, ch.FolderID)
		if err != nil {
			return err
		}
		var actual []string
		for _, it := range current {
			actual = append(actual, it.ID)
		}
		// Drop rows of Items no longer inside.
		if len(actual) == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM folder_thumbnails WHERE folder_id = $1`, ch.FolderID)
		} else {
			in, args := inList(2, actual)
			_, err = tx.ExecContext(ctx, `DELETE FROM folder_thumbnails WHERE folder_id = $1 AND item_id NOT IN (`+in+`)`,
				append([]any{ch.FolderID}, args...)...)
		}
		if err != nil {
			return err
		}
		items, err := lockItems(ctx, tx, s.dialect, ch.IDs)
		if err != nil {
			return err
		}
		if ch.Op == aimg.ThumbSet {
			if _, err := tx.ExecContext(ctx, `DELETE FROM folder_thumbnails WHERE folder_id = $1`, ch.FolderID); err != nil {
				return err
			}
			actual = nil
		}
		for i, id := range ch.IDs {
			it := items[id]
			has := slices.Contains(actual, id)
			switch {
			case it == nil:
				res.Outcomes[i] = ErrChangeItemNotFound
			case ch.Op == aimg.ThumbRemove:
				if !has {
					res.Outcomes[i] = errNotThumbnail
					continue
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM folder_thumbnails WHERE folder_id = $1 AND item_id = $2`, ch.FolderID, id); err != nil {
					return err
				}
				actual = slices.DeleteFunc(actual, func(x string) bool { return x == id })
				res.Modified = append(res.Modified, id)
			default:
				if err := ch.Check(it); err != nil {
					res.Outcomes[i] = err
					continue
				}
				if has {
					res.Outcomes[i] = errAlreadyThumbnail
					continue
				}
				if len(actual) >= ch.Max {
					res.Outcomes[i] = errThumbnailsFull
					continue
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO folder_thumbnails (folder_id, item_id, position)
					VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM folder_thumbnails WHERE folder_id = $1))`, ch.FolderID, id); err != nil {
					return err
				}
				actual = append(actual, id)
				res.Modified = append(res.Modified, id)
			}
		}
		res.Actual = actual
		if len(res.Modified) > 0 || ch.Op == aimg.ThumbSet {
			_, err = tx.ExecContext(ctx, `UPDATE folders SET updated_at = $1 WHERE id = $2`, ms(ch.At), ch.FolderID)
		}
		return err
	})
	return res, err
}

var (
	errNotThumbnail     = aimg.Errorf(aimg.CodeConflict, "Item is not a Thumbnail of this Folder")
	errAlreadyThumbnail = aimg.Errorf(aimg.CodeConflict, "Item is already a Thumbnail of this Folder")
	errThumbnailsFull   = aimg.Errorf(aimg.CodeConflict, "The Folder already has 4 Thumbnails")
)

// UpdateFolder changes name and/or description (nil = keep) of userID's
// Folder id.
func (s *Store) UpdateFolder(ctx context.Context, userID, id string, name, description *string, at int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE folders SET name = COALESCE($1, name), description = COALESCE($2, description), updated_at = $3
		WHERE user_id = $4 AND id = $5`, name, description, at, userID, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrFolderNotFound
	}
	return nil
}

// DeleteFolder deletes userID's Folder id and moves its Items (deleted ones
// too) to the root Folder, in one transaction, the user's row locked first
// as in MoveItems.
func (s *Store) DeleteFolder(ctx context.Context, userID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockUsers(ctx, tx, s.dialect, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM folders WHERE user_id = $1 AND id = $2`, userID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrFolderNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM folder_thumbnails WHERE folder_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE items SET folder_id = NULL, folder_added_at = NULL WHERE user_id = $1 AND folder_id = $2`, userID, id)
		return err
	})
}

// MoveItems moves the Items of m into m.To (adding) or out of m.From into
// the root (m.To ""), in one transaction. Locks (PostgreSQL), in the order
// user → Folder → Items: the user's row serialises the user's Folder
// calls (two moves between Folders A and B would otherwise update
// item_counts rows in opposite orders and deadlock), the Folder's row
// keeps it from being deleted meanwhile, the Items are locked in id order. It returns each id's outcome (nil = moved).
func (s *Store) MoveItems(ctx context.Context, userID string, m aimg.FolderMove) ([]error, error) {
	if len(m.IDs) > maxChangeIDs || m.Check == nil {
		return nil, aimg.Errorf(aimg.CodeInternal, "bad folder move")
	}
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	folder := m.To
	if folder == "" {
		folder = m.From
	}
	var out []error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockUsers(ctx, tx, s.dialect, userID); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM folders WHERE user_id = $1 AND id = $2`+lock, userID, folder).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrFolderNotFound
			}
			return err
		}
		out = make([]error, len(m.IDs))
		if len(m.IDs) == 0 {
			return nil
		}
		byID, err := lockItems(ctx, tx, s.dialect, m.IDs)
		if err != nil {
			return err
		}
		var move []string
		for i, id := range m.IDs {
			it := byID[id]
			if it == nil {
				out[i] = ErrChangeItemNotFound
				continue
			}
			if out[i] = m.Check(it); out[i] == nil {
				move = append(move, id)
			}
		}
		for len(move) > 0 {
			n := min(len(move), 1000)
			in, args := inList(3, move[:n])
			var to any
			var added any
			if m.To != "" {
				to, added = m.To, ms(m.At)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE items SET folder_id = $1, folder_added_at = $2 WHERE id IN (`+in+`)`,
				append([]any{to, added}, args...)...); err != nil {
				return err
			}
			move = move[n:]
		}
		_, err = tx.ExecContext(ctx, `UPDATE folders SET updated_at = $1 WHERE id = $2`, ms(m.At), folder)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FolderItemsRecount counts the live Items in folderID from the items
// table (tests compare imageCount, from item_counts, with it).
func (s *Store) FolderItemsRecount(ctx context.Context, folderID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE folder_id = $1 AND deleted_at IS NULL`, folderID).Scan(&n)
	return n, err
}
