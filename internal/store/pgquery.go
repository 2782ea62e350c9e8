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

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"aimg/internal/aimg"
)

// RawQueryOptions governs an administrator's raw SQL statement (pgQuery).
type RawQueryOptions struct {
	// ReadOnly runs the statement in a read-only transaction that is always
	// rolled back (PostgreSQL), or on the query-only reader pool in a
	// transaction that is rolled back (SQLite).
	ReadOnly bool
	Timeout  time.Duration // statement timeout; 0 = none
	MaxRows  int           // rows returned at most; more are counted, not returned; 0 = no cap
}

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
	Command   string // the statement's command: SELECT, INSERT, UPDATE, CREATE...
	RowCount  *int64 // rows returned or affected; nil for commands without a count
	Fields    []RawField
	Rows      [][]any // at most MaxRows
	Truncated bool    // more rows than MaxRows were produced
}

// RawQuery runs one SQL statement with positional parameters ($1, $2... on
// PostgreSQL; $1 or ? on SQLite) and returns its rows. The database's own
// errors (syntax, constraint, read-only, timeout) are Invalid errors that
// carry the database's message; only connection trouble is internal.
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

// rawQueryPostgres speaks to the connection the way node-postgres does: one
// unnamed statement, parameters as text of unspecified type (the server
// infers them), results in text format converted by type.
func (s *Store) rawQueryPostgres(ctx context.Context, text string, params []any, o RawQueryOptions) (*RawResult, error) {
	values, err := pgTextParams(params)
	if err != nil {
		return nil, err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var res *RawResult
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		begin := "BEGIN READ WRITE"
		if o.ReadOnly {
			begin = "BEGIN READ ONLY"
		}
		if err := pc.Exec(ctx, begin).Close(); err != nil {
			return err
		}
		var runErr error
		res, runErr = pgRun(ctx, pc, text, values, o)
		end := "ROLLBACK"
		if runErr == nil && !o.ReadOnly {
			end = "COMMIT"
		}
		if err := pc.Exec(ctx, end).Close(); err != nil {
			if runErr == nil {
				runErr = err
			}
			if pc.IsClosed() || pc.TxStatus() != 'I' {
				// Never hand back a connection still inside this transaction.
				return errors.Join(runErr, driver.ErrBadConn)
			}
		}
		return runErr
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return nil, rawQueryError(pgErr)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, aimg.Invalid("queryText", "the statement ran longer than %s", o.Timeout)
		}
		return nil, err
	}
	return res, nil
}

func pgRun(ctx context.Context, pc *pgconn.PgConn, text string, values [][]byte, o RawQueryOptions) (*RawResult, error) {
	if o.Timeout > 0 {
		set := fmt.Sprintf("SET LOCAL statement_timeout = %d", o.Timeout.Milliseconds())
		if err := pc.Exec(ctx, set).Close(); err != nil {
			return nil, err
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
	for rr.NextRow() {
		if o.MaxRows > 0 && len(res.Rows) >= o.MaxRows {
			res.Truncated = true
			continue // keep reading so the command completes and reports its count
		}
		raw := rr.Values()
		row := make([]any, len(raw))
		for i, v := range raw {
			row[i] = pgTextValue(fds[i].DataTypeOID, v)
		}
		res.Rows = append(res.Rows, row)
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

// rawQuerySQLite runs the statement in a transaction on one connection: the
// query-only reader pool and always rolled back when read-only, the writer
// otherwise. total_changes() before and after gives the affected row count.
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
	pool := s.w
	if o.ReadOnly {
		pool = s.r
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o)
	}
	defer conn.Close()
	if o.ReadOnly {
		// The reader pool opens connections query-only; say it again in case
		// an earlier statement on this connection turned the pragma off.
		if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
			return nil, sqliteRawError(ctx, err, o)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, sqliteRawError(ctx, err, o)
	}
	res, err := sqliteRun(ctx, tx, text, args, o)
	if err == nil && !o.ReadOnly {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	if err != nil {
		return nil, sqliteRawError(ctx, err, o)
	}
	return res, nil
}

func sqliteRun(ctx context.Context, tx *sql.Tx, text string, args []any, o RawQueryOptions) (*RawResult, error) {
	var before int64
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, text, args...)
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
	var count int64
	for rows.Next() {
		count++
		if o.MaxRows > 0 && len(res.Rows) >= o.MaxRows {
			res.Truncated = true
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
		res.Rows = append(res.Rows, vals)
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
		if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&after); err != nil {
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

func sqliteRawError(ctx context.Context, err error, o RawQueryOptions) error {
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return aimg.Invalid("queryText", "the statement ran longer than %s", o.Timeout)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return rawQueryError(se)
	}
	return err
}
