package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// Row locks on users and items are FOR NO KEY UPDATE: they serialise our
// writers with each other but not with the foreign-key checks (FOR KEY
// SHARE) of an INSERT into reactions or an UPDATE of items.user_id, which
// FOR UPDATE would block and turn into deadlocks.

// lockUsers locks the users' rows, in id order so that concurrent inserts
// cannot deadlock, for the rest of the transaction: PostgreSQL only (on
// SQLite the single writer already serialises). Every inserter of Items
// calls it once, before its checks and assignCreatedAt. An unknown user is
// a not-found error.
func lockUsers(ctx context.Context, tx *sql.Tx, dialect Dialect, userIDs ...string) error {
	if dialect != Postgres {
		return nil
	}
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		var got string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&got); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return aimg.Errorf(aimg.CodeNotFound, "User not found")
			}
			return err
		}
	}
	return nil
}

// lockItems reads the Items with these ids, keyed by id (unknown ids are
// absent), locked for the rest of the transaction on PostgreSQL in id order
// so that overlapping bulk calls cannot deadlock; on SQLite the single
// writer already serialises.
func lockItems(ctx context.Context, tx *sql.Tx, dialect Dialect, ids []string) (map[string]*aimg.Item, error) {
	byID := make(map[string]*aimg.Item, len(ids))
	if len(ids) == 0 {
		return byID, nil
	}
	lock := ""
	if dialect == Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	in, args := inList(1, sorted)
	rows, err := tx.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id IN (`+in+`) ORDER BY id`+lock, args...)
	if err != nil {
		return nil, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		byID[it.ID] = it
	}
	return byID, nil
}

// assignCreatedAt is the insert rule for Items: inside the inserting
// transaction, before inserting, it sets each Item's CreatedAt to
// max(its CreatedAt, the previous created_at of the same user + 1 ms), in
// slice order. created_at is therefore unique and increasing per user (the
// unique index items_user_created_unique rejects anything else), which keeps
// keyset pagination exact. The caller has locked the users' rows
// (lockUsers), so two concurrent inserts for one user take turns.
func assignCreatedAt(ctx context.Context, tx *sql.Tx, items []*aimg.Item) error {
	next := map[string]int64{} // user id -> smallest free created_at
	for _, it := range items {
		if _, ok := next[it.UserID]; ok {
			continue
		}
		var last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(created_at) FROM items WHERE user_id = $1`, it.UserID).Scan(&last); err != nil {
			return err
		}
		next[it.UserID] = math.MinInt64
		if last.Valid {
			next[it.UserID] = last.Int64 + 1
		}
	}
	for _, it := range items {
		c := max(ms(it.CreatedAt), next[it.UserID])
		it.CreatedAt = fromMS(c)
		next[it.UserID] = c + 1
	}
	return nil
}

// itemsPerInsert keeps a multi-row INSERT under SQLite's 32766 and
// PostgreSQL's 65535 bound parameters (32 columns per row).
const itemsPerInsert = 500

// InsertItems inserts Items in one transaction with multi-row INSERTs,
// following the created_at rule (assignCreatedAt); each Item's CreatedAt is
// updated to the value stored. It serves tests, the seed command and bulk
// imports; generation inserts its Items with its Job.
func (s *Store) InsertItems(ctx context.Context, items []*aimg.Item) error {
	if len(items) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		users := make([]string, len(items))
		for i, it := range items {
			users[i] = it.UserID
		}
		if err := lockUsers(ctx, tx, s.dialect, users...); err != nil {
			return err
		}
		if err := assignCreatedAt(ctx, tx, items); err != nil {
			return err
		}
		for start := 0; start < len(items); start += itemsPerInsert {
			if err := insertItemRows(ctx, tx, s.dialect, items[start:min(start+itemsPerInsert, len(items))]); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertItemRows writes items with one INSERT statement.
func insertItemRows(ctx context.Context, q queryer, dialect Dialect, items []*aimg.Item) error {
	const cols = 33
	var sb strings.Builder
	sb.WriteString(`INSERT INTO items (` + itemColumns + `) VALUES `)
	args := make([]any, 0, len(items)*cols)
	for i, it := range items {
		row, err := itemRow(it)
		if err != nil {
			return err
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteByte(',')
			}
			if dialect == SQLite {
				// SQLite resolves each $N by a linear search of the names seen so
				// far: quadratic over thousands of parameters; "?" is not.
				sb.WriteByte('?')
				continue
			}
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(len(args) + j + 1))
		}
		sb.WriteByte(')')
		args = append(args, row...)
	}
	_, err := q.ExecContext(ctx, sb.String(), args...)
	if isUniqueViolation(err) {
		return &aimg.Error{Code: aimg.CodeConflict, Message: "Item already exists", Err: err}
	}
	return err
}

// moveGuestItems hands every Item (deleted ones too) and Job of the guest
// record to userID inside the caller's transaction (so the account merge,
// MoveGuestData, can run it with its own UPDATEs). Moving twice is a no-op.
// A guest Item whose
// created_at is already used by one of the account's Items moves to the
// next free millisecond, keeping created_at unique per user.
func moveGuestItems(ctx context.Context, tx *sql.Tx, dialect Dialect, guestUserID, userID string) error {
	if guestUserID == userID {
		return nil
	}
	if _, err := moveItemsToUser(ctx, tx, dialect, guestUserID, userID, false); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET user_id = $2 WHERE user_id = $1`, guestUserID, userID); err != nil {
		return err
	}
	// A request retried after signing in with the key it had as a guest still
	// returns the first result; a key the account already used stays its own.
	_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET user_id = $2 WHERE user_id = $1
		AND key NOT IN (SELECT key FROM idempotency_keys WHERE user_id = $2)`, guestUserID, userID)
	return err
}

// moveItemsToUser gives from's Items (liveOnly: only those not deleted)
// to to, keeping created_at unique per user (items_user_created_unique):
// an Item whose created_at the receiver already has takes the next free
// millisecond. It returns how many moved.
func moveItemsToUser(ctx context.Context, tx *sql.Tx, dialect Dialect, from, to string, liveOnly bool) (int64, error) {
	if dialect == Postgres {
		// Both users' rows, in id order, so concurrent merges and inserts cannot deadlock.
		if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id IN ($1, $2) ORDER BY id FOR NO KEY UPDATE`,
			from, to); err != nil {
			return 0, err
		}
	}
	type moved struct {
		id      string
		created int64
	}
	// The Items are locked in id order, as every other writer locks Items
	// (a reaction holding one while this waits for another would
	// otherwise deadlock), then moved in created_at order.
	q := `SELECT id, created_at FROM items WHERE user_id = $1`
	if liveOnly {
		q += ` AND deleted_at IS NULL`
	}
	q += ` ORDER BY id`
	if dialect == Postgres {
		q += ` FOR NO KEY UPDATE`
	}
	rows, err := tx.QueryContext(ctx, q, from)
	if err != nil {
		return 0, err
	}
	var items []moved
	for rows.Next() {
		var m moved
		if err := rows.Scan(&m.id, &m.created); err != nil {
			rows.Close()
			return 0, err
		}
		items = append(items, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(items) == 0 {
		return 0, err
	}
	slices.SortFunc(items, func(a, b moved) int { return cmp.Compare(a.created, b.created) })
	taken, err := createdAtTaken(ctx, tx, to, items[0].created)
	if err != nil {
		return 0, err
	}
	prev := int64(math.MinInt64)
	for _, m := range items {
		c := max(m.created, prev+1)
		for taken[c] {
			c++
		}
		taken[c], prev = true, c
		if _, err := tx.ExecContext(ctx, `UPDATE items SET user_id = $2, created_at = $3 WHERE id = $1`,
			m.id, to, c); err != nil {
			return 0, err
		}
	}
	return int64(len(items)), nil
}

// createdAtTaken returns the account's created_at values from since on.
// Guest sessions are short-lived, so this is the account's recent Items.
func createdAtTaken(ctx context.Context, tx *sql.Tx, userID string, since int64) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT created_at FROM items WHERE user_id = $1 AND created_at >= $2`, userID, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	taken := map[int64]bool{}
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		taken[c] = true
	}
	return taken, rows.Err()
}
