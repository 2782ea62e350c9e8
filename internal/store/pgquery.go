package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"aimg/internal/aimg"
)

// RawQueryOptions governs an administrator's raw SQL statement (pgQuery).
type RawQueryOptions struct {
	// ReadOnly runs the statement on pgQuery's read-only pool: on
	// PostgreSQL in a READ ONLY transaction that is always rolled back, on a
	// session that defaults to read-only and is reset (DISCARD ALL) after the
	// call; on SQLite on a connection opened mode=ro whose authorizer admits
	// reads only. Statements other than reads are refused before they run
	// (docs/security-pgquery.md).
	ReadOnly bool
	Timeout  time.Duration // statement timeout; 0 = none
	MaxRows  int           // rows returned at most; more are counted, not returned; 0 = no cap
	// MaxBytes bounds the result: rows are read until their JSON-encoded
	// values would pass it, then reading stops (Truncated); a single value
	// (SQLite) or row (PostgreSQL) larger than it is refused. 0 = no bound.
	MaxBytes int
}

// pgQueryPoolSize is how many pgQuery statements run at once in readonly
// mode; more wait for a connection (within their timeout).
const pgQueryPoolSize = 2

// RawField describes one result column, like node-postgres's FieldDef.
type RawField struct {
	Name             string
	TableID          uint32
	ColumnID         uint16
	DataTypeID       uint32 // PostgreSQL type OID; 0 on SQLite
	DataTypeName     string // SQLite's declared column type; "" on PostgreSQL
	DataTypeSize     int16
	DataTypeModifier int32
}

// RawResult is the outcome of a raw statement, shaped like node-postgres's
// Result. Values are what node-postgres would give, as JSON-ready Go values:
// nil, bool, json.Number, string or json.RawMessage.
type RawResult struct {
	Command  string // the statement's command: SELECT, INSERT, UPDATE, CREATE...
	RowCount *int64 // rows returned or affected; nil for commands without a count
	Fields   []RawField
	Rows     [][]any // at most MaxRows, at most MaxBytes
	// Truncated: more rows than MaxRows were produced (RowCount counts them
	// all), or the next row would have passed MaxBytes (reading stopped
	// there, so RowCount counts the rows read).
	Truncated bool
}

// RawQuery runs one SQL statement with positional parameters ($1, $2... on
// PostgreSQL; $1 or ? on SQLite) and returns its rows. The database's own
// errors (syntax, constraint, read-only, timeout) and refusals are Invalid
// errors naming queryText (queryParams for a missing parameter); only
// connection trouble is internal.
func (s *Store) RawQuery(ctx context.Context, text string, params []any, o RawQueryOptions) (*RawResult, error) {
	if o.Timeout > 0 {
		// A backstop: PostgreSQL enforces the timeout itself, SQLite through ctx.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout+5*time.Second)
		defer cancel()
	}
	if s.dialect == Postgres {
		return s.rawQueryPostgres(ctx, text, params, o)
	}
	return s.rawQuerySQLite(ctx, text, params, o)
}

func rawQueryError(err error) error {
	return &aimg.Error{Code: aimg.CodeInvalid, Field: "queryText", Message: "queryText: " + err.Error(), Err: err}
}

// budget tracks MaxBytes over the rows of a result.
type budget struct {
	max, used int
	keys      int // the row object's keys: {"name":...,} per column
}

func newBudget(max int, fields []RawField) *budget {
	b := &budget{max: max, keys: 2}
	for _, f := range fields {
		b.keys += jsonStringLen(f.Name) + 2
	}
	return b
}

// fits adds row to the budget, or reports that it would not fit.
func (b *budget) fits(row []any) bool {
	if b.max <= 0 {
		return true
	}
	n := b.keys
	for _, v := range row {
		n += jsonValueLen(v)
	}
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

// jsonValueLen is (at least) the length of v as encoding/json writes it.
func jsonValueLen(v any) int {
	switch v := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case json.Number:
		return len(v)
	case json.RawMessage:
		return len(v)
	case string:
		return jsonStringLen(v)
	default:
		return len(fmt.Sprint(v)) + 2
	}
}

// jsonStringLen counts the quotes and escapes encoding/json adds, HTML
// escapes (\u003c) included.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 6
		default:
			n++
		}
	}
	return n
}

// pgRowSlack is what a PostgreSQL message may carry beyond the byte budget
// (column lengths, row descriptions, error texts) before the client refuses it.
const pgRowSlack = 64 << 10

// openPostgresPGQuery is pgQuery's read-only pool: its sessions start with
// default_transaction_read_only on (a statement can turn that off for its
// own session only, which DISCARD ALL resets), at most pgQueryPoolSize at once.
func openPostgresPGQuery(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["application_name"] = "aimg pgQuery"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgQueryPoolSize)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}

// UsePGQueryDatabase makes readonly pgQuery statements run as the role of
// databaseURL (AIMG_PGQUERY_DATABASE_URL: ideally one that may only SELECT)
// instead of the service's own. PostgreSQL only.
func (s *Store) UsePGQueryDatabase(ctx context.Context, databaseURL string) error {
	if s.dialect != Postgres {
		return errors.New("a separate pgQuery database URL needs PostgreSQL")
	}
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return errors.New("must be a postgres:// URL")
	}
	db, err := openPostgresPGQuery(databaseURL)
	if err != nil {
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return err
	}
	old := s.q
	s.q = db
	return old.Close()
}

// PGQueryWarnings says what about the database roles pgQuery runs as makes
// it unsafe: a superuser, or a member of the roles that read and write
// server files or run programs. The start log shows them.
func (s *Store) PGQueryWarnings(ctx context.Context) []string {
	if s.dialect != Postgres {
		return nil
	}
	const q = `SELECT current_user::text, r.rolsuper, coalesce((SELECT string_agg(m.rolname, ', ' ORDER BY m.rolname)
		FROM pg_roles m WHERE m.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
		AND pg_has_role(r.oid, m.oid, 'MEMBER')), '') FROM pg_roles r WHERE r.rolname = current_user`
	var out []string
	seen := map[string]bool{}
	for _, p := range []struct {
		db   *sql.DB
		mode string
	}{{s.q, "readonly"}, {s.w, "readwrite"}} {
		var user, members string
		var super bool
		err := p.db.QueryRowContext(ctx, q, pgx.QueryExecModeSimpleProtocol).Scan(&user, &super, &members)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("pgQuery (%s): could not check the database role: %v", p.mode, err))
		case seen[user]:
		case super:
			out = append(out, fmt.Sprintf("pgQuery (%s) runs as the PostgreSQL superuser %q: a superuser can read server files "+
				"and run programs in ways no read-only transaction stops; use a role that is not a superuser "+
				"(for readonly, a SELECT-only role in AIMG_PGQUERY_DATABASE_URL), see docs/security.md", p.mode, user))
		case members != "":
			out = append(out, fmt.Sprintf("pgQuery (%s) runs as the PostgreSQL role %q, a member of %s: it can reach server files "+
				"or programs; use a role without them, see docs/security.md", p.mode, user, members))
		}
		seen[user] = true
	}
	return out
}

// rawQueryPostgres speaks to the connection the way node-postgres does: one
// unnamed statement, parameters as text of unspecified type (the server
// infers them), results in text format converted by type. The extended
// protocol carries exactly one statement: the server refuses more.
func (s *Store) rawQueryPostgres(ctx context.Context, text string, params []any, o RawQueryOptions) (*RawResult, error) {
	values, err := pgTextParams(params)
	if err != nil {
		return nil, err
	}
	pool := s.w
	if o.ReadOnly {
		if err := pgReadOnlyCheck(text); err != nil {
			return nil, err
		}
		pool = s.q
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var res *RawResult
	var runErr error
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		if o.MaxBytes > 0 {
			pc.Frontend().SetMaxBodyLen(o.MaxBytes + pgRowSlack)
		}
		res, runErr = pgCall(ctx, pc, text, values, o)
		// A connection goes back to the pool only from a readonly call that
		// ended cleanly and was reset; any other is closed, so nothing a
		// statement set (settings, locks, prepared statements, temporary
		// tables) outlives its call. Readwrite connections come from the
		// service's pool, whose statement cache DISCARD ALL would break.
		if o.ReadOnly && !pc.IsClosed() && pc.TxStatus() == 'I' && pc.Exec(ctx, "DISCARD ALL").Close() == nil {
			return nil
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = pc.Close(cctx) // ends the statement and its transaction on the server too
		return driver.ErrBadConn
	})
	if err != nil && !errors.Is(err, driver.ErrBadConn) {
		runErr = errors.Join(runErr, err)
	}
	if runErr != nil {
		return nil, pgRawError(runErr, o, len(values))
	}
	return res, nil
}

// pgCall runs the statement in its own transaction on pc. When the result
// reaches its byte budget it returns at once, leaving the statement unread:
// the caller closes the connection.
func pgCall(ctx context.Context, pc *pgconn.PgConn, text string, values [][]byte, o RawQueryOptions) (*RawResult, error) {
	begin := "BEGIN READ WRITE"
	if o.ReadOnly {
		begin = "BEGIN READ ONLY"
	}
	if err := pc.Exec(ctx, begin).Close(); err != nil {
		return nil, err
	}
	res, err := pgRun(ctx, pc, text, values, o)
	if errors.Is(err, errBudgetReached) {
		return res, nil
	}
	end := "ROLLBACK"
	if err == nil && !o.ReadOnly {
		end = "COMMIT"
	}
	if e := pc.Exec(ctx, end).Close(); e != nil && err == nil {
		err = e
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

var errBudgetReached = errors.New("the result reached its byte budget")

func pgRawError(err error, o RawQueryOptions, nParams int) error {
	var pgErr *pgconn.PgError
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "08P01" && strings.Contains(pgErr.Message, "bind message supplies"):
		return &aimg.Error{Code: aimg.CodeInvalid, Field: "queryParams", Err: pgErr,
			Message: fmt.Sprintf("queryParams: the statement takes another number of parameters than the %d given", nParams)}
	case errors.As(err, &pgErr) && pgErr.Code == "42601" && strings.Contains(pgErr.Message, "multiple commands"):
		return multipleStatements()
	case errors.As(err, &pgErr):
		return rawQueryError(pgErr)
	case errors.As(err, &tooBig):
		return aimg.Invalid("queryText", "a result row is larger than the pgQuery result budget of %d bytes", o.MaxBytes)
	case errors.Is(err, context.DeadlineExceeded):
		return aimg.Invalid("queryText", "the statement ran longer than %s", o.Timeout)
	}
	return err
}

func pgRun(ctx context.Context, pc *pgconn.PgConn, text string, values [][]byte, o RawQueryOptions) (*RawResult, error) {
	if o.Timeout > 0 {
		set := fmt.Sprintf("SET LOCAL statement_timeout = %d", o.Timeout.Milliseconds())
		if err := pc.Exec(ctx, set).Close(); err != nil {
			return nil, err
		}
	}
	if o.ReadOnly {
		// Parse without running: a syntax error is the server's to report,
		// anything but a read is refused before it runs.
		if _, err := pc.Prepare(ctx, "", text, nil); err != nil {
			return nil, err
		}
		if kw := leadingKeyword(Postgres, text); !readOnlyKeyword(Postgres, kw) {
			return nil, refusedStatement(Postgres, kw)
		}
	}
	oids := make([]uint32, len(values)) // 0: let the server infer the type
	rr := pc.ExecParams(ctx, text, values, oids, []int16{0}, []int16{0})
	fds := rr.FieldDescriptions()
	res := &RawResult{Fields: make([]RawField, len(fds)), Rows: [][]any{}}
	for i, fd := range fds {
		res.Fields[i] = RawField{Name: fd.Name, TableID: fd.TableOID, ColumnID: fd.TableAttributeNumber,
			DataTypeID: fd.DataTypeOID, DataTypeSize: fd.DataTypeSize, DataTypeModifier: fd.TypeModifier}
	}
	b := newBudget(o.MaxBytes, res.Fields)
	var n int64
	for rr.NextRow() {
		if o.MaxRows > 0 && len(res.Rows) >= o.MaxRows {
			res.Truncated = true
			n++
			continue // keep reading so the command completes and reports its count
		}
		raw := rr.Values()
		row := make([]any, len(raw))
		for i, v := range raw {
			row[i] = pgTextValue(fds[i].DataTypeOID, v)
		}
		if !b.fits(row) {
			res.Truncated = true
			res.Command, res.RowCount = "SELECT", &n
			return res, errBudgetReached
		}
		res.Rows = append(res.Rows, row)
		n++
	}
	tag, err := rr.Close()
	if err != nil {
		return nil, err
	}
	res.Command, res.RowCount = commandOf(tag.String())
	return res, nil
}

// commandOf splits a command tag such as "INSERT 0 3" or "CREATE TABLE".
func commandOf(tag string) (string, *int64) {
	words := strings.Fields(tag)
	if len(words) == 0 {
		return "", nil
	}
	if len(words) > 1 {
		if n, err := strconv.ParseInt(words[len(words)-1], 10, 64); err == nil {
			return words[0], &n
		}
	}
	return words[0], nil
}

// pgTextParams renders parameters as node-postgres does: null stays null,
// numbers and strings as their text, booleans as true/false, arrays as
// PostgreSQL array literals, objects as JSON.
func pgTextParams(params []any) ([][]byte, error) {
	out := make([][]byte, len(params))
	for i, p := range params {
		if p == nil {
			continue
		}
		text, err := pgParamText(p, false)
		if err != nil {
			return nil, aimg.Invalid(fmt.Sprintf("queryParams[%d]", i), "%v", err)
		}
		out[i] = []byte(text)
	}
	return out, nil
}

func pgParamText(p any, inArray bool) (string, error) {
	switch v := p.(type) {
	case nil:
		return "NULL", nil
	case string:
		if inArray {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`, nil
		}
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case int:
		return strconv.Itoa(v), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := pgParamText(e, true)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "{" + strings.Join(parts, ",") + "}", nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		if inArray {
			return pgParamText(string(b), true)
		}
		return string(b), nil
	}
}

// PostgreSQL type OIDs that node-postgres parses out of their text form.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidJSONB       = 3802
)

// pgTextValue converts a text-format value as node-postgres's default type
// parsers do: booleans, 2- and 4-byte integers and floats become JSON
// values, json/jsonb is embedded, timestamps become ISO 8601 strings, and
// everything else (int8 and numeric included, for their precision) stays text.
func pgTextValue(oid uint32, v []byte) any {
	if v == nil {
		return nil
	}
	s := string(v)
	switch oid {
	case oidBool:
		return s == "t"
	case oidInt2, oidInt4, oidOID:
		return json.Number(s)
	case oidFloat4, oidFloat8:
		if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "aAiI") {
			return json.Number(s) // NaN and Infinity are no JSON numbers: they stay text
		}
		return s
	case oidJSON, oidJSONB:
		if json.Valid(v) {
			return json.RawMessage(s)
		}
		return s
	case oidTimestampTZ, oidTimestamp:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999Z07:00:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
			}
		}
		return s
	}
	return s
}

// openSQLitePGQuery is pgQuery's read-only pool on SQLite: connections
// opened mode=ro (SQLITE_OPEN_READONLY, which no statement can undo, unlike
// PRAGMA query_only), in defensive mode, at most pgQueryPoolSize at once.
// Each call also installs the read-only authorizer and limits.
func openSQLitePGQuery(path string) (*sql.DB, error) {
	q, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_defensive=1&_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	q.SetMaxOpenConns(pgQueryPoolSize)
	q.SetMaxIdleConns(pgQueryPoolSize)
	return q, nil
}

// rawQuerySQLite runs one statement. Readonly: on pgQuery's mode=ro pool
// under the read-only authorizer, with no ATTACH possible and values bounded
// by the byte budget. Readwrite: on the writer, in a transaction that is
// committed; the connection is closed afterwards so that what the statement
// set on it (PRAGMAs, attached databases) does not outlive the call.
// total_changes() before and after gives the affected row count.
func (s *Store) rawQuerySQLite(ctx context.Context, text string, params []any, o RawQueryOptions) (*RawResult, error) {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	args := make([]any, len(params))
	for i, p := range params {
		v, err := sqliteParam(p)
		if err != nil {
			return nil, aimg.Invalid(fmt.Sprintf("queryParams[%d]", i), "%v", err)
		}
		args[i] = v
	}
	if !sqliteSingleStatement(text) {
		return nil, multipleStatements()
	}
	if o.ReadOnly {
		return s.rawQuerySQLiteReadOnly(ctx, text, args, o)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	defer conn.Close()
	defer conn.Raw(func(any) error { return driver.ErrBadConn }) // discard, never pool it again
	if o.MaxBytes > 0 {
		if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, o.MaxBytes); err != nil {
			return nil, err
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	res, err := sqliteRun(ctx, tx, text, args, o)
	if err == nil {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	return res, nil
}

func (s *Store) rawQuerySQLiteReadOnly(ctx context.Context, text string, args []any, o RawQueryOptions) (*RawResult, error) {
	conn, err := s.q.Conn(ctx)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	defer conn.Close()
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_ATTACHED, 0); err != nil {
		return nil, err
	}
	if o.MaxBytes > 0 {
		if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, o.MaxBytes); err != nil {
			return nil, err
		}
	}
	err = conn.Raw(func(dc any) error {
		a, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("the SQLite driver has no authorizer (%T)", dc)
		}
		return a.RegisterAuthorizer(sqliteReadOnlyAuthorizer)
	})
	if err != nil {
		return nil, err
	}
	// Compile without running, so that a syntax error is SQLite's to
	// report and the authorizer refuses what is not a read.
	err = conn.Raw(func(dc any) error {
		ci, ok := dc.(interface {
			ColumnInfo(string) ([]sqlite.ColumnInfo, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver cannot compile without running (%T)", dc)
		}
		_, err := ci.ColumnInfo(text)
		return err
	})
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	if kw := leadingKeyword(SQLite, text); !readOnlyKeyword(SQLite, kw) {
		return nil, refusedStatement(SQLite, kw)
	}
	res, err := sqliteRun(ctx, conn, text, args, o)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o, len(args))
	}
	return res, nil
}

func sqliteRun(ctx context.Context, q queryer, text string, args []any, o RawQueryOptions) (*RawResult, error) {
	var before int64
	if err := q.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &RawResult{Fields: make([]RawField, len(cols)), Rows: [][]any{}}
	for i, c := range cols {
		res.Fields[i] = RawField{Name: c.Name(), DataTypeName: c.DatabaseTypeName(), DataTypeSize: -1, DataTypeModifier: -1}
	}
	b := newBudget(o.MaxBytes, res.Fields)
	var count int64
	for rows.Next() {
		if o.MaxRows > 0 && len(res.Rows) >= o.MaxRows {
			res.Truncated = true
			count++
			continue
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = sqliteValue(v)
		}
		if !b.fits(vals) {
			res.Truncated = true // stop reading: rows.Close ends the statement
			break
		}
		res.Rows = append(res.Rows, vals)
		count++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	res.Command = firstKeyword(text)
	switch {
	case len(cols) > 0:
		if res.Command == "WITH" || res.Command == "VALUES" {
			res.Command = "SELECT"
		}
		res.RowCount = &count
	case res.Command == "INSERT" || res.Command == "UPDATE" || res.Command == "DELETE" || res.Command == "REPLACE":
		var after int64
		if err := q.QueryRowContext(ctx, "SELECT total_changes()").Scan(&after); err != nil {
			return nil, err
		}
		n := after - before
		res.RowCount = &n
	}
	return res, nil
}

// firstKeyword is the statement's first word, upper-cased, after comments.
func firstKeyword(text string) string {
	for {
		text = strings.TrimSpace(text)
		switch {
		case strings.HasPrefix(text, "--"):
			_, rest, _ := strings.Cut(text, "\n")
			text = rest
		case strings.HasPrefix(text, "/*"):
			_, rest, _ := strings.Cut(text, "*/")
			text = rest
		default:
			end := strings.IndexFunc(text, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_')
			})
			if end < 0 {
				end = len(text)
			}
			return strings.ToUpper(text[:end])
		}
	}
}

func sqliteParam(p any) (any, error) {
	switch v := p.(type) {
	case nil, string, bool, int64, float64, int:
		return v, nil
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
		return v.Float64()
	default:
		b, err := json.Marshal(v) // arrays and objects are stored as JSON text
		return string(b), err
	}
}

func sqliteValue(v any) any {
	switch v := v.(type) {
	case nil, bool, string:
		return v
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return `\x` + hex.EncodeToString(v) // PostgreSQL's bytea text form
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	default:
		return fmt.Sprint(v)
	}
}

func sqliteRawError(ctx context.Context, err error, o RawQueryOptions, nParams int) error {
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return aimg.Invalid("queryText", "the statement ran longer than %s", o.Timeout)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_AUTH:
			return &aimg.Error{Code: aimg.CodeInvalid, Field: "queryText", Err: se,
				Message: "queryText: refused in readonly pgQuery (AIMG_PGQUERY=readonly), which only reads: " + se.Error()}
		case sqlite3.SQLITE_TOOBIG:
			if o.MaxBytes > 0 {
				return &aimg.Error{Code: aimg.CodeInvalid, Field: "queryText", Err: se,
					Message: fmt.Sprintf("queryText: a value is larger than the pgQuery result budget of %d bytes (%v)", o.MaxBytes, se)}
			}
		}
		return rawQueryError(se)
	}
	// The driver's own words for a $N or :name without a value.
	if msg := err.Error(); strings.HasPrefix(msg, "missing argument with index") || strings.HasPrefix(msg, "missing named argument") {
		return &aimg.Error{Code: aimg.CodeInvalid, Field: "queryParams", Err: err,
			Message: fmt.Sprintf("queryParams: the statement takes more parameters than the %d given (%v)", nParams, err)}
	}
	return err
}
