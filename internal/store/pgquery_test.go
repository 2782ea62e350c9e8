package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func rowsJSON(t *testing.T, r *store.RawResult) string {
	t.Helper()
	b, err := json.Marshal(r.Rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRawQuery(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ro := store.RawQueryOptions{ReadOnly: true, Timeout: 10 * time.Second, MaxRows: 3}
		rw := store.RawQueryOptions{Timeout: 10 * time.Second, MaxRows: 3}

		if _, err := st.RawQuery(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)", nil, ro); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("DDL read-only: %v, want invalid", err)
		}
		res, err := st.RawQuery(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)", nil, rw)
		if err != nil || res.Command != "CREATE" || res.RowCount != nil {
			t.Fatalf("create: %+v %v", res, err)
		}
		res, err = st.RawQuery(ctx, "INSERT INTO t (id, name, score) VALUES ($1, $2, $3), ($4, $5, $6)",
			[]any{json.Number("1"), "one", json.Number("1.5"), json.Number("2"), "two", nil}, rw)
		if err != nil || res.Command != "INSERT" || res.RowCount == nil || *res.RowCount != 2 {
			t.Fatalf("insert: %+v %v", res, err)
		}
		_, err = st.RawQuery(ctx, "INSERT INTO t (id, name) VALUES (3, 'three')", nil, ro)
		if aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), "queryText") {
			t.Fatalf("read-only insert: %v, want invalid", err)
		}
		res, err = st.RawQuery(ctx, "SELECT id, name, score FROM t WHERE id >= $1 ORDER BY id", []any{json.Number("1")}, ro)
		if err != nil || res.Command != "SELECT" || *res.RowCount != 2 || len(res.Fields) != 3 || res.Fields[1].Name != "name" {
			t.Fatalf("select: %+v %v", res, err)
		}
		if got := rowsJSON(t, res); got != `[[1,"one",1.5],[2,"two",null]]` {
			t.Fatalf("rows = %s", got)
		}
		if st.Dialect() == store.Postgres && (res.Fields[0].DataTypeID != 23 || res.Fields[1].DataTypeID != 25) {
			t.Fatalf("fields = %+v", res.Fields)
		}

		// The row cap truncates but still counts.
		for i := 3; i <= 5; i++ {
			if _, err := st.RawQuery(ctx, "INSERT INTO t (id, name) VALUES ($1, $2)", []any{json.Number(fmt.Sprint(i)), "n"}, rw); err != nil {
				t.Fatal(err)
			}
		}
		res, err = st.RawQuery(ctx, "SELECT id FROM t ORDER BY id", nil, ro)
		if err != nil || !res.Truncated || len(res.Rows) != 3 || *res.RowCount != 5 {
			t.Fatalf("capped: %+v %v", res, err)
		}

		res, err = st.RawQuery(ctx, "UPDATE t SET name = $1 WHERE id > $2", []any{"big", json.Number("3")}, rw)
		if err != nil || res.Command != "UPDATE" || *res.RowCount != 2 {
			t.Fatalf("update: %+v %v", res, err)
		}
		if _, err := st.RawQuery(ctx, "SELEKT 1", nil, ro); aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), "syntax") {
			t.Fatalf("syntax error: %v", err)
		}
		if _, err := st.RawQuery(ctx, "INSERT INTO t (id) VALUES (1)", nil, rw); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("duplicate key: %v", err)
		}
		// A failed statement left nothing behind, and the connection is usable.
		res, err = st.RawQuery(ctx, "SELECT count(*) AS n, true AS yes FROM t", nil, ro)
		if err != nil {
			t.Fatal(err)
		}
		want := `[[5,1]]`
		if st.Dialect() == store.Postgres {
			want = `[["5",true]]` // node-postgres gives int8 as a string
		}
		if got := rowsJSON(t, res); got != want {
			t.Fatalf("count = %s, want %s", got, want)
		}
	})
}

func TestRawQueryReadOnlyCannotBeTurnedOff(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ro := store.RawQueryOptions{ReadOnly: true, Timeout: 10 * time.Second}
		rw := store.RawQueryOptions{Timeout: 10 * time.Second}
		if _, err := st.RawQuery(ctx, "CREATE TABLE t (id INTEGER)", nil, rw); err != nil {
			t.Fatal(err)
		}
		escape := "PRAGMA query_only = 0"
		if st.Dialect() == store.Postgres {
			escape = "SET TRANSACTION READ WRITE"
		}
		for range 3 {
			_, _ = st.RawQuery(ctx, escape, nil, ro)
			_, _ = st.RawQuery(ctx, "INSERT INTO t (id) VALUES (1)", nil, ro)
		}
		res, err := st.RawQuery(ctx, "SELECT id FROM t", nil, ro)
		if err != nil || len(res.Rows) != 0 {
			t.Fatalf("rows after read-only writes: %+v %v", res, err)
		}
	})
}

func TestRawQueryTimeout(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		q := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
		_, err := st.RawQuery(context.Background(), q, nil, store.RawQueryOptions{ReadOnly: true, Timeout: 300 * time.Millisecond})
		if aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("endless query: %v, want invalid", err)
		}
		t.Log(err)
	})
}

// seedUser writes one user row with tier 0 and returns a function that
// fails the test unless that row is still exactly as written.
func seedUser(t *testing.T, st *store.Store) func() {
	t.Helper()
	ctx := context.Background()
	rw := store.RawQueryOptions{Timeout: 10 * time.Second}
	if _, err := st.RawQuery(ctx, "INSERT INTO users (id, domain, email, tier, created_at, updated_at) VALUES ('u1', 'localhost', 'a@example.com', 0, 1, 1)", nil, rw); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		res, err := st.RawQuery(ctx, "SELECT id, tier, email FROM users", nil, rw)
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsJSON(t, res); got != `[["u1",0,"a@example.com"]]` {
			t.Fatalf("users after the attacks = %s", got)
		}
	}
}

// attackDir is a directory the database server can write (PostgreSQL runs
// as its own OS user), where an attack that worked would leave a file.
func attackDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "aimg-pgquery-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func expectNoFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("an attack created %s", filepath.Join(dir, e.Name()))
	}
}

// Every statement below must be refused in readonly mode (a 400 naming
// queryText), and none may change the database or create a file.
func TestRawQueryReadOnlyRefusesAttacks(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ro := store.RawQueryOptions{ReadOnly: true, Timeout: 10 * time.Second}
		unchanged := seedUser(t, st)
		dir := attackDir(t)
		f := func(name string) string { return filepath.Join(dir, name) }
		common := []string{
			"SELECT 1; UPDATE users SET tier = 2",
			"COMMIT; UPDATE users SET tier = 2",
			"UPDATE users SET tier = 2",
			"WITH x AS (SELECT 1) UPDATE users SET tier = 2",
			"DELETE FROM users",
			"BEGIN", "COMMIT", "ROLLBACK", "END", "SAVEPOINT s", "RELEASE s",
			"CREATE TEMP TABLE tmp AS SELECT 1 AS x",
			"CREATE TABLE t (x INTEGER)",
			"VACUUM", "ANALYZE", "REINDEX",
			"EXPLAIN ANALYZE UPDATE users SET tier = 2", // (a plain EXPLAIN runs nothing)
		}
		var attacks []string
		if st.Dialect() == store.SQLite {
			attacks = []string{
				"COMMIT; PRAGMA query_only = 0; UPDATE users SET tier = 2 WHERE id = 'u1'",
				"PRAGMA query_only = 0", "pragma QUERY_ONLY=false", "/* c */ PRAGMA writable_schema = 1",
				"PRAGMA writable_schema=1", "PRAGMA journal_mode = DELETE", "PRAGMA table_info(users)",
				"ATTACH DATABASE '" + f("attach.db") + "' AS x",
				"attach 'file:" + f("attach2.db") + "?mode=rwc' as y",
				"-- comment\nATTACH '" + f("attach3.db") + "' AS z",
				"DETACH DATABASE main",
				"VACUUM INTO '" + f("vacuum.db") + "'",
				"SELECT load_extension('" + f("nothing.so") + "')",
				"SELECT 1;\nATTACH '" + f("attach4.db") + "' AS w",
				"REPLACE INTO users (id, domain, created_at, updated_at) VALUES ('u2', 'x', 0, 0)",
				"SELECT * FROM pragma_query_only", "SELECT * FROM pragma_writable_schema",
				"SELECT * FROM pragma_journal_mode('delete')",
			}
		} else {
			attacks = []string{
				"COMMIT; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; UPDATE users SET tier = 2",
				"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
				"SELECT set_config('default_transaction_read_only', 'off', false)",
				"COPY (SELECT 1) TO PROGRAM 'touch " + f("program") + "'",
				"/* a /* nested */ comment */ COPY (SELECT 1) TO PROGRAM 'touch " + f("program2") + "'",
				"copy users TO '" + f("copy.txt") + "'",
				"DO $$BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch " + f("do") + "'''; END$$",
				"SELECT pg_read_file('/etc/hostname')",
				`SELECT "pg_read_file"('/etc/hostname')`,
				"SELECT pg_catalog.PG_READ_BINARY_FILE('/etc/hostname')",
				`SELECT U&"pg\005fread\005ffile"('/etc/hostname')`,
				"SELECT * FROM pg_ls_dir('/')",
				"SELECT lo_import('/etc/hostname')",
				"SELECT lo_export(0, '" + f("lo") + "')",
				"SELECT pg_advisory_lock(4242)",
				"SELECT pg_try_advisory_lock(4242)",
				"SELECT pg_terminate_backend(0)",
				"SELECT query_to_xml('SELECT 1', true, true, '')",
				"SELECT dblink_exec('dbname=test', 'UPDATE users SET tier = 2')",
				"WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d",
				"SELECT * INTO copied FROM users",
				"SET ROLE NONE", "RESET ALL", "LISTEN x", "NOTIFY x", "LOCK TABLE users",
				"PREPARE p AS SELECT 1", "CALL nothing()", "CHECKPOINT",
			}
		}
		for _, q := range append(common, attacks...) {
			_, err := st.RawQuery(ctx, q, nil, ro)
			if aimg.ErrorCode(err) != aimg.CodeInvalid || errField(err) != "queryText" {
				t.Errorf("%s: %v, want a 400 naming queryText", q, err)
			}
		}
		unchanged()
		expectNoFiles(t, dir)
		if st.Dialect() == store.SQLite {
			// Pragmas that describe the schema can be read as tables.
			res, err := st.RawQuery(ctx, "SELECT name FROM pragma_table_info('users') WHERE name = 'tier'", nil, ro)
			if err != nil || rowsJSON(t, res) != `[["tier"]]` {
				t.Fatalf("pragma_table_info: %+v %v", res, err)
			}
		}
		if st.Dialect() == store.Postgres {
			res, err := st.RawQuery(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242", nil, ro)
			if err != nil || rowsJSON(t, res) != `[["0"]]` {
				t.Fatalf("advisory locks left behind: %+v %v", res, err)
			}
		}
		if _, err := st.RawQuery(ctx, "EXPLAIN SELECT tier FROM users", nil, ro); err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		// Ordinary reads still work, comments and parentheses included.
		for _, q := range []string{"SELECT tier FROM users", "/* c */ -- d\n select tier from users;", "WITH u AS (SELECT tier FROM users) SELECT tier FROM u", "VALUES (0)"} {
			res, err := st.RawQuery(ctx, q, nil, ro)
			if err != nil || rowsJSON(t, res) != `[[0]]` {
				t.Errorf("%s: %+v %v", q, res, err)
			}
		}
	})
}

// One statement per call in readwrite mode too, and what a readwrite
// statement changes about its connection does not outlive the call.
func TestRawQueryReadWriteOneStatementNoLeftovers(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rw := store.RawQueryOptions{Timeout: 10 * time.Second}
		ro := store.RawQueryOptions{ReadOnly: true, Timeout: 10 * time.Second}
		unchanged := seedUser(t, st)
		for _, q := range []string{"UPDATE users SET tier = 2; SELECT 1", "SELECT 1; UPDATE users SET tier = 2", "SELECT 1;;SELECT 2"} {
			if _, err := st.RawQuery(ctx, q, nil, rw); aimg.ErrorCode(err) != aimg.CodeInvalid || errField(err) != "queryText" {
				t.Errorf("%s: %v, want a 400 naming queryText", q, err)
			}
		}
		unchanged()
		// Trailing semicolons and comments are not a second statement.
		if _, err := st.RawQuery(ctx, "SELECT 1; -- done\n;", nil, rw); err != nil {
			t.Fatal(err)
		}
		if st.Dialect() == store.SQLite {
			// A trigger body holds semicolons but is one statement.
			if _, err := st.RawQuery(ctx, "CREATE TABLE log (x TEXT)", nil, rw); err != nil {
				t.Fatal(err)
			}
			trig := "CREATE TRIGGER tr AFTER INSERT ON log BEGIN SELECT 1; SELECT ';'; END;"
			if _, err := st.RawQuery(ctx, trig, nil, rw); err != nil {
				t.Fatalf("trigger: %v", err)
			}
			// Connection state set by one call is gone in the next.
			if _, err := st.RawQuery(ctx, "PRAGMA query_only = 1", nil, rw); err != nil {
				t.Fatal(err)
			}
			if _, err := st.RawQuery(ctx, "INSERT INTO log (x) VALUES ('after query_only')", nil, rw); err != nil {
				t.Fatalf("the writer stayed query-only: %v", err)
			}
			if _, err := st.RawQuery(ctx, "PRAGMA foreign_keys = 0", nil, rw); err != nil {
				t.Fatal(err)
			}
			res, err := st.RawQuery(ctx, "PRAGMA foreign_keys", nil, rw)
			if err != nil || rowsJSON(t, res) != `[[1]]` {
				t.Fatalf("foreign_keys after a call turned it off: %+v %v", res, err)
			}
		} else {
			for _, q := range []string{"SELECT pg_advisory_lock(4343)", "SET search_path TO pg_catalog", "SET default_transaction_read_only = on"} {
				if _, err := st.RawQuery(ctx, q, nil, rw); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			res, err := st.RawQuery(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343", nil, ro)
			if err != nil || rowsJSON(t, res) != `[["0"]]` {
				t.Fatalf("advisory lock left on a pooled connection: %+v %v", res, err)
			}
		}
		// The service's own queries still see its tables and can write.
		for range 5 {
			if _, err := st.RawQuery(ctx, "UPDATE users SET tier = 0 WHERE id = 'u1'", nil, rw); err != nil {
				t.Fatalf("write after the calls above: %v", err)
			}
		}
		unchanged()
	})
}

func TestRawQueryByteBudget(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		blob := "hex(randomblob(1000))" // 2,000 characters
		if st.Dialect() == store.Postgres {
			blob = "repeat('ab', 1000)"
		}
		q := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT x, " + blob + " AS b FROM c"
		for _, ro := range []bool{true, false} {
			o := store.RawQueryOptions{ReadOnly: ro, Timeout: 10 * time.Second, MaxRows: 1000, MaxBytes: 20_000}
			res, err := st.RawQuery(ctx, q, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			size := len(rowsJSON(t, res))
			if !res.Truncated || len(res.Rows) < 5 || len(res.Rows) >= 10 || size > 20_000 {
				t.Fatalf("readonly=%v: truncated=%v rows=%d size=%d, want truncated under 20,000 bytes", ro, res.Truncated, len(res.Rows), size)
			}
			// Under the budget nothing is truncated.
			o.MaxBytes = 1 << 20
			if res, err = st.RawQuery(ctx, q, nil, o); err != nil || res.Truncated || len(res.Rows) != 100 {
				t.Fatalf("readonly=%v, 1 MiB budget: %v %v", ro, res, err)
			}
		}
		// One value larger than the whole budget is refused, not built.
		huge := "SELECT randomblob(30000000)"
		if st.Dialect() == store.Postgres {
			huge = "SELECT repeat('x', 30000000)"
		}
		for _, ro := range []bool{true, false} {
			o := store.RawQueryOptions{ReadOnly: ro, Timeout: 10 * time.Second, MaxBytes: 1 << 20}
			res, err := st.RawQuery(ctx, huge, nil, o)
			if err == nil && (!res.Truncated || len(res.Rows) != 0) {
				t.Fatalf("readonly=%v: a 30 MB value under a 1 MiB budget: %d rows, truncated=%v", ro, len(res.Rows), res.Truncated)
			}
			if err != nil && aimg.ErrorCode(err) != aimg.CodeInvalid {
				t.Fatalf("readonly=%v: %v, want invalid", ro, err)
			}
			if _, err := st.RawQuery(ctx, "SELECT 1", nil, o); err != nil {
				t.Fatalf("after the huge value: %v", err)
			}
		}
	})
}

func TestRawQueryMissingParameter(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, ro := range []bool{true, false} {
			o := store.RawQueryOptions{ReadOnly: ro, Timeout: 10 * time.Second}
			_, err := st.RawQuery(ctx, "SELECT $1, $2", []any{"one"}, o)
			if aimg.ErrorCode(err) != aimg.CodeInvalid || errField(err) != "queryParams" {
				t.Fatalf("readonly=%v: %v, want a 400 naming queryParams", ro, err)
			}
		}
	})
}

func TestPGQueryWarnings(t *testing.T) {
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		w := strings.Join(st.PGQueryWarnings(context.Background()), "\n")
		// The test server's role is postgres, a superuser.
		if st.Dialect() == store.Postgres && !strings.Contains(w, "superuser") {
			t.Fatalf("warnings = %q, want the superuser warning", w)
		}
		if st.Dialect() == store.SQLite && w != "" {
			t.Fatalf("warnings on SQLite = %q", w)
		}
	})
}

func errField(err error) string {
	var e *aimg.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// With AIMG_PGQUERY_DATABASE_URL, readonly statements run as that role (here
// one that may only SELECT), readwrite ones as the service's.
func TestRawQuerySeparateReadOnlyRole(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := testsupport.OpenStore(t, dbURL)
		if st.Dialect() != store.Postgres {
			if err := st.UsePGQueryDatabase(ctx, "postgres://x@127.0.0.1/x"); err == nil {
				t.Fatal("a separate pgQuery database on SQLite was accepted")
			}
			return
		}
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		schema := u.Query().Get("search_path")
		role := "aimg_ro_" + schema
		rw := store.RawQueryOptions{Timeout: 10 * time.Second}
		for _, q := range []string{"CREATE ROLE " + role + " LOGIN", "GRANT USAGE ON SCHEMA " + schema + " TO " + role,
			"GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + role} {
			if _, err := st.RawQuery(ctx, q, nil, rw); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		t.Cleanup(func() {
			st.Close()
			db, err := sql.Open("pgx", dbURL)
			if err != nil {
				return
			}
			defer db.Close()
			_, _ = db.Exec("DROP OWNED BY " + role)
			_, _ = db.Exec("DROP ROLE " + role)
		})
		u.User = url.User(role)
		if err := st.UsePGQueryDatabase(ctx, u.String()); err != nil {
			t.Fatal(err)
		}
		unchanged := seedUser(t, st)
		ro := store.RawQueryOptions{ReadOnly: true, Timeout: 10 * time.Second}
		res, err := st.RawQuery(ctx, "SELECT current_user::text AS u, (SELECT count(*) FROM users) AS n", nil, ro)
		if err != nil || rowsJSON(t, res) != `[["`+role+`","1"]]` {
			t.Fatalf("readonly as %s: %+v %v", role, res, err)
		}
		res, err = st.RawQuery(ctx, "SELECT current_user::text", nil, rw)
		if err != nil || rowsJSON(t, res) == `[["`+role+`"]]` {
			t.Fatalf("readwrite ran as the readonly role: %+v %v", res, err)
		}
		unchanged()
		for _, w := range st.PGQueryWarnings(ctx) {
			if strings.Contains(w, "(readonly)") {
				t.Fatalf("warning about the SELECT-only role: %s", w)
			}
		}
	})
}
