package store

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ExecForTest runs raw SQL on the writer, for tests that set up odd states.
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.w.ExecContext(ctx, query, args...)
	return err
}

// QueryRowForTest reads raw SQL from the writer, for tests that check rows.
func (s *Store) QueryRowForTest(ctx context.Context, query string, args ...any) *sql.Row {
	return s.w.QueryRowContext(ctx, query, args...)
}

// OpenPostgresCountingForTest opens the (migrated) PostgreSQL database at
// url and counts in n the statements whose SQL contains substr.
func OpenPostgresCountingForTest(ctx context.Context, url, substr string, n *atomic.Int64) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.Tracer = countingTracer{substr: substr, n: n}
	db := stdlib.OpenDB(*cfg)
	s := &Store{dialect: Postgres, w: db, r: db}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

type countingTracer struct {
	substr string
	n      *atomic.Int64
}

func (c countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, c.substr) {
		c.n.Add(1)
	}
	return ctx
}

func (countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
