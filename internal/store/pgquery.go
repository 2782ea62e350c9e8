package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
