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

// Tags (migration 00016): item_tags and folder_tags carry them, tags.usage_count
// follows through triggers. Every writer locks the tags rows it will touch
// in name order (lockTags) after the Item or Folder row, so concurrent tag
// calls and deleteItems take turns instead of deadlocking.

// maxTagNames bounds the names of one call (a set replaces at most 50 with
// at most 50; a filter names at most 100).
const maxTagNames = 1000

// ChangeTags applies ch in one transaction: the Folder's row (ch.FolderID,
// userID's, else ErrFolderNotFound) or the Item's (ch.ItemID, else
// ErrChangeItemNotFound; then ch.Check) is locked first. Add adds the tags
// not carried yet while fewer than ch.Max are; remove removes those
// carried; set makes the carried tags exactly ch.Tags (at most ch.Max).
// Any error leaves everything as it was.
func (s *Store) ChangeTags(ctx context.Context, ch aimg.TagChange) (aimg.TagResult, error) {
	var res aimg.TagResult
	switch {
	case ch.Op != aimg.TagAdd && ch.Op != aimg.TagRemove && ch.Op != aimg.TagSet:
		return res, aimg.Errorf(aimg.CodeInternal, "unknown tag change %q", ch.Op)
	case ch.Max <= 0 || len(ch.Tags) > maxTagNames || (ch.FolderID == "" && ch.Check == nil):
		return res, aimg.Errorf(aimg.CodeInternal, "bad tag change")
	}
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = aimg.TagResult{}
		table, col, key := "item_tags", "item_id", ch.ItemID
		if ch.FolderID != "" {
			table, col, key = "folder_tags", "folder_id", ch.FolderID
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM folders WHERE user_id = $1 AND id = $2`+lock, ch.UserID, ch.FolderID).Scan(&one); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return ErrFolderNotFound
				}
				return err
			}
		} else {
			items, err := lockItems(ctx, tx, s.dialect, []string{ch.ItemID})
			if err != nil {
				return err
			}
			it := items[ch.ItemID]
			if it == nil {
				return ErrChangeItemNotFound
			}
			if err := ch.Check(it); err != nil {
				return err
			}
		}
		current, err := tagsOf(ctx, tx, table, col, []string{key})
		if err != nil {
			return err
		}
		carried := current[key]
		var add, remove []string
		switch ch.Op {
		case aimg.TagAdd:
			room := ch.Max - len(carried)
			for _, t := range ch.Tags {
				switch {
				case slices.Contains(carried, t):
				case len(add) < room:
					add = append(add, t)
				default:
					res.OverLimit = append(res.OverLimit, t)
				}
			}
		case aimg.TagRemove:
			for _, t := range ch.Tags {
				if slices.Contains(carried, t) {
					remove = append(remove, t)
				}
			}
		case aimg.TagSet:
			if len(ch.Tags) > ch.Max {
				return aimg.Errorf(aimg.CodeInternal, "too many tags to set")
			}
			for _, t := range carried {
				if !slices.Contains(ch.Tags, t) {
					remove = append(remove, t)
				}
			}
			for _, t := range ch.Tags {
				if !slices.Contains(carried, t) {
					add = append(add, t)
				}
			}
		}
		if err := lockTags(ctx, tx, append(slices.Clone(add), remove...), ms(ch.At)); err != nil {
			return err
		}
		if len(add) > 0 {
			var sb strings.Builder
			args := []any{key}
			for i, t := range add {
				if i > 0 {
					sb.WriteString(", ")
				}
				args = append(args, t)
				sb.WriteString("($1, $" + strconv.Itoa(len(args)) + ")")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+col+`, tag) VALUES `+sb.String(), args...); err != nil {
				return err
			}
		}
		if len(remove) > 0 {
			in, args := inList(2, remove)
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+col+` = $1 AND tag IN (`+in+`)`,
				append([]any{key}, args...)...); err != nil {
				return err
			}
		}
		res.Modified = append(add, remove...)
		actual := slices.DeleteFunc(slices.Clone(carried), func(t string) bool { return slices.Contains(remove, t) })
		actual = append(actual, add...)
		slices.Sort(actual)
		res.Actual = actual
		return nil
	})
	return res, err
}

// lockTags makes sure a row exists for each name (usage 0, first used at)
// and, on PostgreSQL, locks the rows in name order for the rest of the
// transaction: the upsert's DO UPDATE takes each row's lock as it goes,
// and rows are written in the order given. The triggers' updates of
// usage_count then never wait on another writer that waits on this one.
func lockTags(ctx context.Context, tx *sql.Tx, names []string, at int64) error {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	for len(names) > 0 {
		n := min(len(names), 1000)
		var sb strings.Builder
		args := []any{at}
		for i, t := range names[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			args = append(args, t)
			sb.WriteString("($" + strconv.Itoa(len(args)) + ", 0, $1)")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (name, usage_count, created_at) VALUES `+sb.String()+`
			ON CONFLICT (name) DO UPDATE SET usage_count = tags.usage_count`, args...); err != nil {
			return err
		}
		names = names[n:]
	}
	return nil
}

// clearItemTags removes every tag of the Items ids (deleteItems), inside
// the caller's transaction, after the Items' rows are locked.
func clearItemTags(ctx context.Context, tx *sql.Tx, ids []string) error {
	var names []string
	for rest := ids; len(rest) > 0; {
		n := min(len(rest), 1000)
		byItem, err := tagsOf(ctx, tx, "item_tags", "item_id", rest[:n])
		if err != nil {
			return err
		}
		for _, ts := range byItem {
			names = append(names, ts...)
		}
		rest = rest[n:]
	}
	if len(names) == 0 {
		return nil
	}
	if err := lockTags(ctx, tx, names, 0); err != nil {
		return err
	}
	for rest := ids; len(rest) > 0; {
		n := min(len(rest), 1000)
		in, args := inList(1, rest[:n])
		if _, err := tx.ExecContext(ctx, `DELETE FROM item_tags WHERE item_id IN (`+in+`)`, args...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

// tagsOf reads the tags of each key of table (item_tags by item_id,
// folder_tags by folder_id), by name; keys without tags are absent.
func tagsOf(ctx context.Context, q querier, table, col string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(keys) == 0 {
		return out, nil
	}
	in, args := inList(1, keys)
	rows, err := q.QueryContext(ctx, `SELECT `+col+`, tag FROM `+table+` WHERE `+col+` IN (`+in+`) ORDER BY `+col+`, tag`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, t string
		if err := rows.Scan(&k, &t); err != nil {
			return nil, err
		}
		out[k] = append(out[k], t)
	}
	return out, rows.Err()
}

// ItemTags returns the tags of each of ids (one query), by name; Items
// without tags are absent.
func (s *Store) ItemTags(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		m, err := tagsOf(ctx, s.r, "item_tags", "item_id", ids[:n])
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
		ids = ids[n:]
	}
	return out, nil
}

// ListTags is a page of getTagsList: tags carried by at least one Item or
// Folder, most used first, ties by name; filtered to names when not empty;
// p.Index bounds the tags' first use (created_at < p.Index, > reversed,
// when the order is least used first).
func (s *Store) ListTags(ctx context.Context, names []string, p aimg.Page) (aimg.TagPage, error) {
	var page aimg.TagPage
	if len(names) > maxTagNames {
		return page, aimg.Errorf(aimg.CodeInternal, "too many tag names")
	}
	l := tagsList(names)
	q, args := l.Count()
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	q, args = l.Page(p, s.dialect)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var t aimg.Tag
		var created int64
		if err := rows.Scan(&t.Name, &t.UsageCount, &created); err != nil {
			return page, err
		}
		t.CreatedAt = fromMS(created)
		page.Tags = append(page.Tags, t)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Tags) > p.Limit {
		page.Tags, page.More = page.Tags[:p.Limit], true
	}
	return page, nil
}

// tagsList is getTagsList's listing (index tags_usage): ordered by usage,
// paginationIndex bounds created_at, pages follow by skipCount.
func tagsList(names []string) *keysetList {
	l := newKeysetList("name, usage_count, created_at", "tags", "usage_count", "name").
		TieAscending().BoundOn("created_at").Where("usage_count > 0")
	if len(names) > 0 {
		l.WhereIn("name", names)
	}
	return l
}

// TagUsage is a tag's stored usage_count beside its recount from the base
// tables (live Items and Folders carrying it); tests compare the two.
type TagUsage struct {
	Stored, Recount int64
}

// TagUsageRecount returns every tag's TagUsage.
func (s *Store) TagUsageRecount(ctx context.Context) (map[string]TagUsage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.name, t.usage_count,
		(SELECT COUNT(*) FROM item_tags x JOIN items i ON i.id = x.item_id WHERE x.tag = t.name AND i.deleted_at IS NULL)
		+ (SELECT COUNT(*) FROM folder_tags f JOIN folders d ON d.id = f.folder_id WHERE f.tag = t.name)
		FROM tags t`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]TagUsage{}
	for rows.Next() {
		var name string
		var u TagUsage
		if err := rows.Scan(&name, &u.Stored, &u.Recount); err != nil {
			return nil, err
		}
		out[name] = u
	}
	return out, rows.Err()
}
