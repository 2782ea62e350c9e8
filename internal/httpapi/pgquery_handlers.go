package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/store"
)

type pgQueryInput struct {
	Auth
	Body struct {
		QueryText   string            `json:"queryText" required:"true" minLength:"1" doc:"One SQL statement; parameters are $1, $2..."`
		QueryParams []json.RawMessage `json:"queryParams,omitempty" doc:"The statement's parameters, as node-postgres takes them."`
	}
}

// PGQueryField is node-postgres's FieldDef.
type PGQueryField struct {
	Name             string  `json:"name"`
	TableID          uint32  `json:"tableID"`
	ColumnID         uint16  `json:"columnID"`
	DataTypeID       *uint32 `json:"dataTypeID" doc:"The PostgreSQL type OID; null on SQLite."`
	DataTypeName     string  `json:"dataTypeName,omitempty" doc:"SQLite only: the column's declared type."`
	DataTypeSize     int16   `json:"dataTypeSize"`
	DataTypeModifier int32   `json:"dataTypeModifier"`
	Format           string  `json:"format"`
}

// PGQueryResult is shaped like node-postgres's Result.
type PGQueryResult struct {
	Command    string            `json:"command"`
	RowCount   *int64            `json:"rowCount"`
	OID        *uint32           `json:"oid"`
	Rows       []json.RawMessage `json:"rows" doc:"One object per row, keys in column order."`
	Fields     []PGQueryField    `json:"fields"`
	RowAsArray bool              `json:"rowAsArray"`
	Truncated  bool              `json:"truncated" doc:"More rows than rowLimit were produced (only the first rowLimit are in rows), or the next row would have passed byteLimit (reading stopped there)."`
	RowLimit   int               `json:"rowLimit"`
	ByteLimit  int               `json:"byteLimit" doc:"The most bytes of JSON-encoded values rows may hold."`
}

// pgQueryDoc describes pgQuery with the configured limits.
func (s *Server) pgQueryDoc() string {
	limits := s.Config.Service.PGQuery
	return fmt.Sprintf("Runs one statement on the service's database (PostgreSQL or SQLite). AIMG_PGQUERY "+
		"governs it: off refuses (403), readonly (default) runs only reads, on a read-only connection, "+
		"readwrite commits. Statements time out after %s; at most %d rows and %d bytes of values are returned.",
		limits.Timeout, limits.MaxRows, limits.MaxResultBytes)
}

func (s *Server) pgQuery(ctx context.Context, _ aimg.Caller, in *pgQueryInput) (*Response[PGQueryResult], error) {
	limits := s.Config.Service.PGQuery
	if s.Config.PGQuery == "off" {
		return nil, aimg.Errorf(aimg.CodeForbidden, "pgQuery is disabled on this server (AIMG_PGQUERY=off)")
	}
	params := make([]any, len(in.Body.QueryParams))
	for i, raw := range in.Body.QueryParams {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // keep integers beyond 2^53 exact
		if err := dec.Decode(&params[i]); err != nil {
			return nil, aimg.Invalid(fmt.Sprintf("queryParams[%d]", i), "%v", err)
		}
	}
	res, err := s.RawSQL(ctx, in.Body.QueryText, params, store.RawQueryOptions{
		ReadOnly: s.Config.PGQuery != "readwrite",
		Timeout:  limits.Timeout,
		MaxRows:  limits.MaxRows,
		MaxBytes: limits.MaxResultBytes,
	})
	if err != nil {
		return nil, err
	}
	out, err := pgQueryResult(res, limits)
	if err != nil {
		return nil, aimg.Internal(err)
	}
	return reply(out)
}

func pgQueryResult(res *store.RawResult, limits config.PGQuery) (PGQueryResult, error) {
	out := PGQueryResult{
		Command:   res.Command,
		RowCount:  res.RowCount,
		Rows:      make([]json.RawMessage, 0, len(res.Rows)),
		Fields:    make([]PGQueryField, len(res.Fields)),
		Truncated: res.Truncated,
		RowLimit:  limits.MaxRows,
		ByteLimit: limits.MaxResultBytes,
	}
	for i, f := range res.Fields {
		out.Fields[i] = PGQueryField{Name: f.Name, TableID: f.TableID, ColumnID: f.ColumnID, DataTypeName: f.DataTypeName,
			DataTypeSize: f.DataTypeSize, DataTypeModifier: f.DataTypeModifier, Format: "text"}
		if f.DataTypeID != 0 {
			oid := f.DataTypeID
			out.Fields[i].DataTypeID = &oid
		}
	}
	// Rows are objects keyed by column name in column order, as node-postgres
	// builds them (a repeated name keeps the last value).
	for _, row := range res.Rows {
		var buf bytes.Buffer
		buf.WriteByte('{')
		seen := map[string]int{}
		for i, f := range res.Fields {
			seen[f.Name] = i
		}
		first := true
		for i, f := range res.Fields {
			if seen[f.Name] != i {
				continue
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(f.Name)
			v, err := json.Marshal(row[i])
			if err != nil {
				return out, fmt.Errorf("column %s: %w", f.Name, err)
			}
			buf.Write(k)
			buf.WriteByte(':')
			buf.Write(v)
		}
		buf.WriteByte('}')
		out.Rows = append(out.Rows, buf.Bytes())
	}
	return out, nil
}
