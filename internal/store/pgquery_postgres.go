package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib"

	"aimg/internal/aimg"
)

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
