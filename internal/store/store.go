// Package store is all of AIMG's SQL: one Store type, one file per
// aggregate, the same queries on SQLite and PostgreSQL ($N placeholders work
// on both drivers), and embedded migrations per dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the SQL database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database. SQLite gets one writer connection (its one-writer
// rule, kept in the pool rather than discovered as SQLITE_BUSY) and a pool of
// readers; PostgreSQL uses one pool for both.
type Store struct {
	dialect Dialect
	w       *sql.DB
	r       *sql.DB
	q       *sql.DB // pgQuery's read-only pool (pgquery.go)

	// beforeCommit, set by tests only, runs before inTx commits: a test
	// holds a transaction open with it (SetBeforeCommitForTest).
	beforeCommit func(context.Context)
}

// Open connects to databaseURL: "" means SQLite at <dataDir>/aimg.db,
// "sqlite:<path>" a given SQLite file, "postgres://..." PostgreSQL.
func Open(ctx context.Context, databaseURL, dataDir string) (*Store, error) {
	switch {
	case databaseURL == "" || strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(databaseURL, "sqlite:")
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("data dir: %w", err)
			}
			path = filepath.Join(dataDir, "aimg.db")
		}
		return openSQLite(ctx, path)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL)
	default:
		return nil, errors.New("AIMG_DATABASE_URL must be empty, sqlite:<path> or postgres://...")
	}
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	pragmas := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	// _txlock=immediate takes the write lock at BEGIN, so two writers never
	// deadlock upgrading read locks.
	w := openCachedSQLite("file:" + path + "?" + pragmas + "&_txlock=immediate")
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r := openCachedSQLite("file:" + path + "?" + pragmas + "&_pragma=query_only(1)")
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	q, err := openSQLitePGQuery(path)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	s := &Store{dialect: SQLite, w: w, r: r, q: q}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	q, err := openPostgresPGQuery(url)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{dialect: Postgres, w: db, r: db, q: q}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	return s, nil
}

// Dialect tells which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.PingContext(ctx)
}

// Close closes the pools.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if s.q != nil {
		err = errors.Join(err, s.q.Close())
	}
	return err
}

// queryer is what both *sql.DB and *sql.Tx offer, so a query helper can run
// inside or outside a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if s.beforeCommit != nil {
		s.beforeCommit(ctx)
	}
	return tx.Commit()
}

// ms stores times as Unix milliseconds (DESIGN.md), fromMS reads them back.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// isUniqueViolation tells whether err is a unique-constraint failure on either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}
