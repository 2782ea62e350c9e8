package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

type pgResult struct {
	Command  string            `json:"command"`
	RowCount *int64            `json:"rowCount"`
	Rows     []json.RawMessage `json:"rows"`
	Fields   []struct {
		Name       string  `json:"name"`
		DataTypeID *uint32 `json:"dataTypeID"`
		Format     string  `json:"format"`
	} `json:"fields"`
	Truncated bool `json:"truncated"`
	RowLimit  int  `json:"rowLimit"`
}

func pgQuery(t *testing.T, srv *testsupport.Server, text string, params ...any) *testsupport.Envelope {
	t.Helper()
	body := map[string]any{"queryText": text}
	if params != nil {
		body["queryParams"] = params
	}
	return srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/pgQuery", AdminKey: testsupport.AdminKey, Body: body})
}

func mustPGQuery(t *testing.T, srv *testsupport.Server, text string, params ...any) pgResult {
	t.Helper()
	env := pgQuery(t, srv, text, params...)
	testsupport.ExpectOK(t, env)
	var r pgResult
	env.Decode(t, &r)
	return r
}

func TestPGQueryReadOnly(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL) // AIMG_PGQUERY defaults to readonly
		mustUpload(t, srv, "a.txt", []byte("abc"), map[string]string{"id": "q1"})

		r := mustPGQuery(t, srv, "SELECT id, name, size FROM files WHERE id = $1 AND size > $2", "q1", 2)
		if r.Command != "SELECT" || r.RowCount == nil || *r.RowCount != 1 || len(r.Rows) != 1 || len(r.Fields) != 3 || r.Fields[0].Format != "text" {
			t.Fatalf("select = %+v", r)
		}
		want := `{"id":"q1","name":"a.txt","size":"3"}` // node-postgres gives bigint as a string
		if !strings.Contains(dbURL, "postgres") {
			want = `{"id":"q1","name":"a.txt","size":3}`
		}
		if string(r.Rows[0]) != want {
			t.Fatalf("row = %s, want %s", r.Rows[0], want)
		}

		testsupport.ExpectError(t, pgQuery(t, srv, "INSERT INTO files (id, name, content_type, size, checksum, checksum_algorithm, blob_key, created_at) VALUES ('x', 'x', 'x', 0, 'x', 'x', 'x', 0)"), 400, "queryText")
		testsupport.ExpectError(t, pgQuery(t, srv, "DELETE FROM files"), 400, "queryText")
		r = mustPGQuery(t, srv, "SELECT count(*) AS n FROM files")
		if n := string(r.Rows[0]); n != `{"n":1}` && n != `{"n":"1"}` {
			t.Fatalf("files after refused writes: %s", n)
		}
		testsupport.ExpectError(t, pgQuery(t, srv, "SELEC 1"), 400, "syntax")
		testsupport.ExpectError(t, pgQuery(t, srv, ""), 400, "queryText")

		// The row cap.
		r = mustPGQuery(t, srv, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10050) SELECT x FROM c")
		if !r.Truncated || len(r.Rows) != r.RowLimit || r.RowLimit != 10000 || *r.RowCount != 10050 {
			t.Fatalf("capped: truncated=%v rows=%d limit=%d count=%v", r.Truncated, len(r.Rows), r.RowLimit, *r.RowCount)
		}
	})
}

func TestPGQueryReadWriteAndOff(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		rw := testsupport.NewServer(t, dbURL, func(c *config.Config) { c.PGQuery = "readwrite" })
		r := mustPGQuery(t, rw, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
		if r.Command != "CREATE" {
			t.Fatalf("create = %+v", r)
		}
		r = mustPGQuery(t, rw, "INSERT INTO notes (id, body) VALUES ($1, $2), ($3, $4)", 1, "one", 2, nil)
		if r.Command != "INSERT" || *r.RowCount != 2 {
			t.Fatalf("insert = %+v", r)
		}
		r = mustPGQuery(t, rw, "SELECT body FROM notes ORDER BY id")
		if len(r.Rows) != 2 || string(r.Rows[0]) != `{"body":"one"}` || string(r.Rows[1]) != `{"body":null}` {
			t.Fatalf("rows = %s", r.Rows)
		}
		testsupport.ExpectError(t, pgQuery(t, rw, "INSERT INTO notes (id) VALUES (1)"), 400, "queryText")

		off := testsupport.NewServer(t, dbURL, func(c *config.Config) { c.PGQuery = "off" })
		testsupport.ExpectError(t, pgQuery(t, off, "SELECT 1"), 403, "AIMG_PGQUERY=off")
	})
}

// The attacks of issue 6 through the endpoint: each is a 400 naming
// queryText, and the account's row is unchanged afterwards.
func TestPGQueryReadOnlyAttacks(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		acc := testsupport.SignUp(t, srv, "victim@example.com")
		dir := t.TempDir()
		attacks := []string{
			"COMMIT; PRAGMA query_only = 0; UPDATE users SET tier = 2 WHERE id = '" + acc.UserID + "'",
			"UPDATE users SET tier = 2",
			"ATTACH DATABASE '" + filepath.Join(dir, "x.db") + "' AS x",
			"PRAGMA writable_schema=1",
			"COPY (SELECT 1) TO PROGRAM 'touch " + filepath.Join(dir, "p") + "'",
			"SELECT pg_read_file('/etc/hostname')",
			"SELECT pg_advisory_lock(1)",
		}
		for _, q := range attacks {
			testsupport.ExpectError(t, pgQuery(t, srv, q), 400, "queryText")
		}
		r := mustPGQuery(t, srv, "SELECT tier FROM users WHERE id = $1", acc.UserID)
		if len(r.Rows) != 1 || string(r.Rows[0]) != `{"tier":0}` {
			t.Fatalf("tier after the attacks = %s", r.Rows)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("an attack created %s", entries[0].Name())
		}
		testsupport.ExpectError(t, pgQuery(t, srv, "SELECT $1, $2", "one"), 400, "queryParams")
		testsupport.ExpectError(t, pgQuery(t, srv, "SELECT $1"), 400, "queryParams")
		testsupport.ExpectError(t, pgQuery(t, srv, "SELECT 1; SELECT 2"), 400, "one SQL statement")
		if strings.Contains(dbURL, "postgres") && !strings.Contains(srv.LogText(), "superuser") {
			t.Fatalf("no warning that pgQuery runs as a superuser in the start log:\n%s", srv.LogText())
		}
	})
}

func TestPGQueryByteLimit(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, func(c *config.Config) { c.Service.PGQuery.MaxResultBytes = 50_000 })
		blob := "hex(randomblob(1000))"
		if strings.Contains(dbURL, "postgres") {
			blob = "repeat('ab', 1000)"
		}
		env := pgQuery(t, srv, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) SELECT x, "+blob+" AS b FROM c")
		testsupport.ExpectOK(t, env)
		var r struct {
			pgResult
			ByteLimit int `json:"byteLimit"`
		}
		env.Decode(t, &r)
		size := 0
		for _, row := range r.Rows {
			size += len(row)
		}
		if !r.Truncated || r.ByteLimit != 50_000 || len(r.Rows) == 0 || size > 50_000 {
			t.Fatalf("truncated=%v byteLimit=%d rows=%d size=%d", r.Truncated, r.ByteLimit, len(r.Rows), size)
		}
		huge := "SELECT randomblob(30000000)"
		if strings.Contains(dbURL, "postgres") {
			huge = "SELECT repeat('x', 30000000)"
		}
		testsupport.ExpectError(t, pgQuery(t, srv, huge), 400, "budget")
	})
}
