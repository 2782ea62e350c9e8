package store

import (
	"context"
	"strings"
)

// ExplainForTest returns the query plan of query as text, one line per row:
// EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL.
func (s *Store) ExplainForTest(ctx context.Context, query string) (string, error) {
	if s.dialect == Postgres {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN "+query)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return "", err
			}
			b.WriteString(line + "\n")
		}
		return b.String(), rows.Err()
	}
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var (
			id, parent, notused int
			detail              string
		)
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		b.WriteString(detail + "\n")
	}
	return b.String(), rows.Err()
}
