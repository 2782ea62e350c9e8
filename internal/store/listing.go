package store

import (
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// keysetList builds the query of one page of a keyset listing (Annex:
// Pagination), in the manner of Miniflux's entry pagination builder: every
// paginated list (creations, public feeds, Folders, tags, reports) adds its
// filters here and gets the same bound, order, limit and count. The key
// column is the reference timestamp (Unix ms, "paginationIndex"); tie
// orders rows of the same key. No OFFSET but skipCount's.
type keysetList struct {
	columns string
	from    string
	key     string
	tie     string
	where   []string
	args    []any
	// sqliteIndex, when set, is named to SQLite with INDEXED BY: without
	// statistics its planner takes any index that gives the order, e.g. the
	// index of every Item for the feed of public ones.
	sqliteIndex string
}

// newKeysetList lists columns from from (a table, or a table and its
// joins), paged on key and ordered by key then tie.
func newKeysetList(columns, from, key, tie string) *keysetList {
	return &keysetList{columns: columns, from: from, key: key, tie: tie}
}

// IndexedBy names the index SQLite must read the pages from (a query it
// cannot answer with it fails, so tests catch a stale name).
func (l *keysetList) IndexedBy(index string) *keysetList {
	l.sqliteIndex = index
	return l
}

// Where adds a condition; each ? in cond takes the next of args.
func (l *keysetList) Where(cond string, args ...any) *keysetList {
	var b strings.Builder
	for _, r := range cond {
		if r == '?' && len(args) > 0 {
			l.args = append(l.args, args[0])
			args = args[1:]
			b.WriteString(placeholder(len(l.args)))
			continue
		}
		b.WriteRune(r)
	}
	l.where = append(l.where, b.String())
	return l
}

// WhereIn adds "col IN (vals)"; no vals matches nothing.
func (l *keysetList) WhereIn(col string, vals []string) *keysetList {
	if len(vals) == 0 {
		return l.Where("1 = 0")
	}
	in, args := inList(len(l.args)+1, vals)
	l.args = append(l.args, args...)
	l.where = append(l.where, col+" IN ("+in+")")
	return l
}

func (l *keysetList) whereSQL(extra ...string) string {
	conds := append(append([]string(nil), l.where...), extra...)
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// Count is the query of the number of rows the filters match (without the
// page's bound), for the lists whose totalCount is exact.
func (l *keysetList) Count() (string, []any) {
	return "SELECT COUNT(*) FROM " + l.from + l.whereSQL(), l.args
}

// Page is the query of page p: key < p.Index newest first, or key >
// p.Index oldest first when p.Reverse; p.Limit+1 rows so that the caller
// (nextIndex) knows whether another page follows.
func (l *keysetList) Page(p aimg.Page, d Dialect) (string, []any) {
	args := append([]any(nil), l.args...)
	var bound []string
	dir := " DESC"
	if p.Reverse {
		dir = ""
	}
	if p.Index > 0 || p.Reverse {
		args = append(args, p.Index)
		op := " < "
		if p.Reverse {
			op = " > "
		}
		bound = append(bound, l.key+op+placeholder(len(args)))
	}
	from := l.from
	if d == SQLite && l.sqliteIndex != "" {
		from += " INDEXED BY " + l.sqliteIndex
	}
	q := "SELECT " + l.columns + " FROM " + from + l.whereSQL(bound...) +
		" ORDER BY " + l.key + dir + ", " + l.tie + dir + " LIMIT " + strconv.Itoa(p.Limit+1)
	if p.Skip > 0 {
		q += " OFFSET " + strconv.Itoa(p.Skip)
	}
	return q, args
}

// nextIndex trims rows (read with Page(p), so up to p.Limit+1) to the page
// and returns nextPaginationIndex: nil when no row follows, else the key of
// the page's last row. Where the key is not unique (public feeds: two
// users' Items of the same millisecond), the rows of the page that share
// the following row's key are left for the next page, whose index is then
// that key + 1 (- 1 reversed): a strict bound on the last key would skip
// them, one past it would repeat them. Only when a whole page shares one
// key is the page kept and the rest of that millisecond skipped.
func nextIndex[T any](rows []T, p aimg.Page, key func(T) int64) ([]T, *int64) {
	if len(rows) <= p.Limit {
		return rows, nil
	}
	following := key(rows[p.Limit])
	page := rows[:p.Limit]
	n := len(page)
	for n > 0 && key(page[n-1]) == following {
		n--
	}
	if n == 0 {
		next := key(page[len(page)-1])
		return page, &next
	}
	if n < len(page) {
		next := following + 1
		if p.Reverse {
			next = following - 1
		}
		return page[:n], &next
	}
	next := key(page[n-1])
	return page, &next
}
