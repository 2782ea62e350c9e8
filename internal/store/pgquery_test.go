package store_test

import (
	"context"
	"encoding/json"
	"fmt"
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
