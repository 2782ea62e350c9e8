package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
)

// cacheOf returns the caching connection behind db's only connection.
func cacheOf(t *testing.T, db *sql.DB) *cachingConn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cc *cachingConn
	if err := conn.Raw(func(dc any) error { cc = dc.(*cachingConn); return nil }); err != nil {
		t.Fatal(err)
	}
	return cc
}

func TestSQLiteStatementsAreReused(t *testing.T) {
	ctx := context.Background()
	db := openCachedSQLite("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)")
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, i, "x"); err != nil {
			t.Fatal(err)
		}
	}
	cc := cacheOf(t, db)
	if _, ok := cc.idle[`INSERT INTO t (id, v) VALUES ($1, $2)`]; !ok {
		t.Fatalf("the insert was not kept: %d kept, idle %v", cc.kept, cc.idle)
	}
	kept := cc.kept
	if _, err := db.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, 10, "y"); err != nil {
		t.Fatal(err)
	}
	if cc.kept != kept {
		t.Fatalf("the same text compiled again: %d kept, was %d", cc.kept, kept)
	}

	// The same text while its rows are still open: a second statement,
	// and both read their own rows.
	const q = `SELECT id FROM t WHERE id >= $1 ORDER BY id`
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for outer.Next() {
		var id int
		if err := outer.Scan(&id); err != nil {
			t.Fatal(err)
		}
		var inner int
		if err := tx.QueryRowContext(ctx, q, id).Scan(&inner); err != nil || inner != id {
			t.Fatalf("inner query at %d: %d, %v", id, inner, err)
		}
		n++
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n != 11 {
		t.Fatalf("outer rows: %d, want 11", n)
	}

	// A kept statement follows a schema change.
	const sel = `SELECT * FROM t WHERE id = $1`
	var id int
	var v string
	if err := db.QueryRowContext(ctx, sel, 1).Scan(&id, &v); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'`); err != nil {
		t.Fatal(err)
	}
	var w string
	if err := db.QueryRowContext(ctx, sel, 1).Scan(&id, &v, &w); err != nil || w != "new" {
		t.Fatalf("after ALTER: %q, %v", w, err)
	}

	// Past the bound, the idle statements are dropped, not kept forever.
	for i := range maxCachedStatements + 10 {
		if _, err := db.ExecContext(ctx, `SELECT `+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if cc := cacheOf(t, db); cc.kept > maxCachedStatements {
		t.Fatalf("%d statements kept, bound %d", cc.kept, maxCachedStatements)
	}
}
