package testsupport

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"aimg/internal/store"
)

// DumpDatabase returns every row of every table of the server's database as
// text, one "table: [values]" line a row, for tests that prove a secret is
// stored nowhere.
func (s *Server) DumpDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	raw := func(q string) *store.RawResult {
		res, err := s.App.Store.RawQuery(ctx, q, nil, store.RawQueryOptions{ReadOnly: true})
		if err != nil {
			return nil
		}
		return res
	}
	tables := raw(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if tables == nil {
		tables = raw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	}
	if tables == nil || len(tables.Rows) == 0 {
		t.Fatal("dump: cannot list the tables")
	}
	var b strings.Builder
	for _, row := range tables.Rows {
		name := fmt.Sprint(row[0])
		res := raw(`SELECT * FROM "` + name + `"`)
		if res == nil {
			t.Fatalf("dump: cannot read %s", name)
		}
		for _, r := range res.Rows {
			line, _ := json.Marshal(r)
			fmt.Fprintf(&b, "%s: %s\n", name, line)
		}
	}
	return b.String()
}
