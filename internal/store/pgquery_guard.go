package store

import (
	"strings"

	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"aimg/internal/aimg"
)

// The checks below are pgQuery's defence in depth (docs/security-pgquery.md).
// The defences that hold on their own are structural: a read-only
// connection (SQLite mode=ro with an authorizer; PostgreSQL BEGIN READ ONLY
// on a pool whose sessions default to read-only), one statement per call
// enforced by the server (PostgreSQL's extended protocol) or by SQLite's own
// tokenizer, and a connection that is reset or thrown away after each call.

// readOnlyKeywords are the statements a readonly pgQuery may start with.
var readOnlyKeywords = map[Dialect][]string{
	SQLite:   {"SELECT", "WITH", "VALUES", "EXPLAIN"},
	Postgres: {"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"},
}

func readOnlyKeyword(d Dialect, kw string) bool {
	for _, k := range readOnlyKeywords[d] {
		if k == kw {
			return true
		}
	}
	return false
}

func refusedStatement(d Dialect, kw string) error {
	if kw == "" {
		kw = "this statement"
	}
	return aimg.Invalid("queryText", "readonly pgQuery (AIMG_PGQUERY=readonly) runs only %s statements, not %s",
		strings.Join(readOnlyKeywords[d], ", "), kw)
}

// leadingKeyword is the statement's first word, upper-cased, after
// whitespace, comments and opening parentheses, read as the dialect's lexer
// reads them: PostgreSQL nests /* */ comments and ends -- comments at \n or
// \r; SQLite does neither. Anything it cannot read as a word gives "",
// which no allow-list holds.
func leadingKeyword(d Dialect, text string) string {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '(':
			i++
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexAny(text[i:], lineEnds(d))
			if end < 0 {
				return ""
			}
			i += end + 1
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := blockCommentEnd(d, text[i:])
			if end < 0 {
				return ""
			}
			i += end
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			j := i
			for j < len(text) && identByte(text[j]) {
				j++
			}
			return strings.ToUpper(text[i:j])
		default:
			return ""
		}
	}
	return ""
}

func lineEnds(d Dialect) string {
	if d == Postgres {
		return "\n\r"
	}
	return "\n"
}

// blockCommentEnd is the length of the /* comment at the start of s, or -1
// when it does not end.
func blockCommentEnd(d Dialect, s string) int {
	depth := 0
	for i := 0; i+1 < len(s); {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i += 2
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i += 2
			if depth == 0 || d != Postgres {
				return i
			}
		default:
			i++
		}
		if d != Postgres && depth > 1 {
			depth = 1 // SQLite does not nest
		}
	}
	return -1
}

// identByte is a byte of an unquoted identifier on either database
// (PostgreSQL also takes $ and every byte of a multi-byte character).
func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

// pgDeniedFunctions are PostgreSQL functions a readonly pgQuery may not
// name: server files and programs, large objects (lo_export writes files),
// other connections (dblink), signals to backends, session-level locks,
// configuration changes, replication and backups, and the functions that
// run SQL text given as a string (which would hide all of the above).
// Each is a prefix: pg_read_ covers pg_read_file and pg_read_binary_file.
var pgDeniedFunctions = []string{
	"pg_read_", "pg_ls_", "pg_stat_file", "pg_file_", "pg_logdir_", "lo_", "loread", "lowrite",
	"dblink", "pg_terminate_", "pg_cancel_", "pg_signal_", "pg_reload_conf", "pg_rotate_logfile",
	"pg_advisory_", "pg_try_advisory_", "pg_notify", "set_config",
	"pg_promote", "pg_switch_", "pg_create_", "pg_drop_", "pg_replication_", "pg_logical_",
	"pg_copy_", "pg_backup_", "pg_start_backup", "pg_stop_backup", "pg_wal_replay_", "pg_log_",
	"pg_stat_reset", "pg_stat_statements_reset", "pg_import_", "pg_truncate_", "pg_sync_", "pg_logfile_",
	"pg_nextoid", "binary_upgrade_",
	// SQL text run by the server: core (XML, text search) and contrib (tablefunc).
	"query_to_xml", "cursor_to_xml", "ts_stat", "ts_rewrite", "crosstab", "connectby",
}

// pgDeniedName reports the first word of text (anywhere: in strings and
// quoted identifiers too, which only errs on the side of refusing) that
// names a denied function, or that spells an identifier with Unicode
// escapes (U&"..."), which could name any of them.
func pgDeniedName(text string) string {
	lower := strings.ToLower(text)
	if strings.Contains(lower, `u&"`) || strings.Contains(lower, `u&'`) {
		return `U&"..." (Unicode-escaped names)`
	}
	for i := 0; i < len(lower); {
		if !identByte(lower[i]) {
			i++
			continue
		}
		j := i
		for j < len(lower) && identByte(lower[j]) {
			j++
		}
		word := lower[i:j]
		for _, d := range pgDeniedFunctions {
			if strings.HasPrefix(word, d) {
				return word
			}
		}
		i = j
	}
	return ""
}

// pgReadOnlyCheck is what a readonly statement must pass on PostgreSQL
// before it is sent; kw is its leading keyword.
func pgReadOnlyCheck(text string) error {
	if w := pgDeniedName(text); w != "" {
		return aimg.Invalid("queryText", "%s is not allowed in readonly pgQuery (AIMG_PGQUERY=readonly): server files, "+
			"programs, large objects, other connections, signals, locks, settings and SQL run from strings are refused", w)
	}
	return nil
}

// sqliteDeniedFunctions are SQL functions the SQLite authorizer refuses in
// readonly mode, whether or not this build of SQLite has them.
var sqliteDeniedFunctions = map[string]bool{
	"load_extension": true, "readfile": true, "writefile": true, "edit": true, "fts3_tokenizer": true,
	"sqlite_dbpage": true,
}

// sqliteReadPragmas are the pragmas whose table-valued functions a
// readonly statement may read (SELECT * FROM pragma_table_info('users')):
// they describe the schema and change nothing. PRAGMA statements themselves
// never pass the keyword check.
var sqliteReadPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "collation_list": true, "function_list": true,
	"module_list": true, "pragma_list": true, "compile_options": true,
}

// sqliteReadOnlyAuthorizer admits reading and nothing else: every other
// action (writes, schema changes, PRAGMA, ATTACH, DETACH, transactions,
// savepoints, ANALYZE, REINDEX, virtual tables) is denied while the
// statement compiles, before any of it can run.
func sqliteReadOnlyAuthorizer(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		if sqliteReadPragmas[strings.ToLower(arg1)] {
			return sqlite.AuthorizerOK
		}
	case sqlite.AuthFunction:
		if sqliteDeniedFunctions[strings.ToLower(arg2)] {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	}
	return sqlite.AuthorizerDeny
}

// sqliteSingleStatement reports whether text holds at most one SQLite
// statement: after the ';' that ends it only whitespace, comments and more
// ';' may follow. The lexer follows SQLite's tokenizer for what can hide a
// ';' ('...', "...", `...` with doubled quotes, [...], -- to end of line,
// /* to */); whether a ';' ends the statement or sits in a CREATE TRIGGER
// body is SQLite's own sqlite3_complete's answer. SQLite sees nothing past a
// NUL. An unterminated quote or comment swallows the rest, which SQLite
// rejects as one malformed statement.
func sqliteSingleStatement(text string) bool {
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	ended, seen := false, false
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return true
			}
			i += end + 1
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return !ended // a trailing "/*" is a statement of its own to SQLite
			}
			i += 2 + end + 2
		case c == ';':
			if seen && !ended && sqliteComplete(text[:i+1]) {
				ended = true
			}
			i++
		default:
			if ended {
				return false
			}
			seen = true
			switch c {
			case '\'', '"', '`':
				j := i + 1
				for {
					k := strings.IndexByte(text[j:], c)
					if k < 0 {
						return true
					}
					j += k + 1
					if j < len(text) && text[j] == c {
						j++
						continue
					}
					break
				}
				i = j
			case '[':
				k := strings.IndexByte(text[i+1:], ']')
				if k < 0 {
					return true
				}
				i += k + 2
			default:
				i++
			}
		}
	}
	return true
}

// sqliteComplete is SQLite's sqlite3_complete: whether s ends with a
// complete statement (its tokenizer, CREATE TRIGGER bodies included).
func sqliteComplete(s string) bool {
	tls := libc.NewTLS()
	defer tls.Close()
	p, err := libc.CString(s)
	if err != nil {
		return false
	}
	defer libc.Xfree(tls, p)
	return sqlite3.Xsqlite3_complete(tls, p) != 0
}

func multipleStatements() error {
	return aimg.Invalid("queryText", "must be exactly one SQL statement")
}
