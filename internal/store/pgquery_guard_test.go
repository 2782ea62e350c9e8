package store

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSQLiteSingleStatement(t *testing.T) {
	for text, want := range map[string]bool{
		"SELECT 1":                    true,
		"SELECT 1;":                   true,
		"SELECT 1; ;; -- done\n":      true,
		"SELECT 1; /* done */ ;":      true,
		"; SELECT 1":                  true, // an empty statement first
		"SELECT ';' AS x":             true,
		`SELECT "a;b" FROM t`:         true,
		"SELECT `a;b` FROM t":         true,
		"SELECT [a;b] FROM t":         true,
		"SELECT 'it''s; fine'":        true,
		"SELECT 1 -- ; SELECT 2":      true,
		"SELECT 1 /* ; SELECT 2 */":   true,
		"SELECT 'unterminated; x":     true, // one malformed statement
		"SELECT 1\x00; SELECT 2":      true, // SQLite stops at the NUL
		"SELECT 1; SELECT 2":          false,
		"SELECT 1;SELECT 2":           false,
		"COMMIT; PRAGMA query_only=0": false,
		"SELECT 1; -- c\nSELECT 2":    false,
		"SELECT 1; /* c */ SELECT 2":  false,
		"SELECT 'a'';'; SELECT 2":     false,
		"SELECT 1 -- c\r; SELECT 2":   true, // -- runs to \n only: all one comment
		"SELECT 1;\vSELECT 2":         false,
		"SELECT 1; /*":                false, // SQLite reads a bare "/*" as two tokens
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT ';'; END;":            true,
		"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2":          false,
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; END; DROP TABLE t": false,
	} {
		if got := sqliteSingleStatement(text); got != want {
			t.Errorf("sqliteSingleStatement(%q) = %v, want %v", text, got, want)
		}
	}
}

// Texts composed of statements, separators and trivia whose statement count
// is known by construction.
func TestSQLiteSingleStatementComposed(t *testing.T) {
	stmts := []string{"SELECT 1", "SELECT ';'", `SELECT "x;y"`, "SELECT [a;b]", "SELECT 'a''b;'", "SELECT `c;`",
		"SELECT 1 /* ; */ + 2", "SELECT 1 -- ;\n"}
	trivia := []string{" ", "\n", "\t", "-- c ; c\n", "/* ; */", "/**/", "\r\n", "\f"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		n := 1 + r.IntN(3)
		for i := range n {
			if i > 0 {
				b.WriteString(";")
			}
			for range r.IntN(3) {
				b.WriteString(trivia[r.IntN(len(trivia))])
			}
			b.WriteString(stmts[r.IntN(len(stmts))])
			for range r.IntN(3) {
				b.WriteString(trivia[r.IntN(len(trivia))])
			}
		}
		for range r.IntN(3) {
			b.WriteString([]string{";", " ", "-- end\n", "/* end */"}[r.IntN(4)])
		}
		if got := sqliteSingleStatement(b.String()); got != (n == 1) {
			t.Fatalf("sqliteSingleStatement(%q) = %v with %d statements", b.String(), got, n)
		}
	}
}

func TestLeadingKeyword(t *testing.T) {
	for _, c := range []struct {
		d    Dialect
		text string
		want string
	}{
		{SQLite, "select 1", "SELECT"},
		{SQLite, "  /* c */ -- d\n (WITH x AS (SELECT 1) SELECT * FROM x)", "WITH"},
		{SQLite, "/* /* */ PRAGMA x", "PRAGMA"},         // SQLite does not nest comments
		{Postgres, "/* /* */ SELECT */ COPY x", "COPY"}, // PostgreSQL does
		{Postgres, "-- c\rCOPY x", "COPY"},              // and ends -- at \r
		{SQLite, "-- c\rVACUUM", ""},                    // one comment to SQLite
		{Postgres, `"COPY" x`, ""},
		{Postgres, "SELECTé", "SELECTé"},
		{Postgres, "/* unterminated SELECT", ""},
	} {
		if got := leadingKeyword(c.d, c.text); got != strings.ToUpper(c.want) {
			t.Errorf("leadingKeyword(%s, %q) = %q, want %q", c.d, c.text, got, c.want)
		}
	}
}

func TestPGDeniedName(t *testing.T) {
	for text, want := range map[string]string{
		"SELECT pg_read_file('x')":                     "pg_read_file",
		`SELECT "PG_READ_FILE"('x')`:                   "pg_read_file",
		"SELECT pg_catalog.pg_ls_dir('/')":             "pg_ls_dir",
		"SELECT/**/lo_export(1,'x')":                   "lo_export",
		"SELECT x FROM t WHERE pg_advisory_lock(1)":    "pg_advisory_lock",
		`SELECT U&"\0070g_read_file"('x')`:             `U&"..." (Unicode-escaped names)`,
		"SELECT set_config('a', 'b', false)":           "set_config",
		"SELECT lower(name), pg_sleep(0.1), length(x)": "",
		"SELECT count(*) FROM users":                   "",
	} {
		if got := pgDeniedName(text); got != want {
			t.Errorf("pgDeniedName(%q) = %q, want %q", text, got, want)
		}
	}
}
