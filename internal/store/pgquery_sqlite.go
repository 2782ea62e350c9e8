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

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"aimg/internal/aimg"
)

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
	// The raw statement is compiled under its own limits, never taken
	// from the statements the store compiled before.
	_ = conn.Raw(func(dc any) error {
		if c, ok := dc.(*cachingConn); ok {
			c.stopCaching()
		}
		return nil
	})
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
