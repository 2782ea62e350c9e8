// Package testsupport gives tests fresh databases on every dialect and
// other shared fixtures. Only _test.go files import it.
package testsupport

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/store"
)

// PostgresEnv names the variable that enables the PostgreSQL runs.
const PostgresEnv = "AIMG_TEST_DATABASE_URL"

// ForEachDatabase runs fn as a subtest per dialect ("sqlite", "postgres"),
// each with the URL of a fresh, empty database. The PostgreSQL run is skipped
// with a message when AIMG_TEST_DATABASE_URL is not set.
func ForEachDatabase(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "aimg.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, FreshPostgres(t))
	})
}

// ForEachStore runs fn per dialect with a migrated Store, closed afterwards.
func ForEachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	ForEachDatabase(t, func(t *testing.T, url string) {
		fn(t, OpenStore(t, url))
	})
}

// OpenStore opens and migrates the database at url for the test's lifetime.
func OpenStore(t testing.TB, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// FreshPostgres creates an empty schema in the test PostgreSQL database and
// returns a URL whose search_path points at it; the schema is dropped after
// the test. It skips the test when AIMG_TEST_DATABASE_URL is not set.
func FreshPostgres(t testing.TB) string {
	t.Helper()
	base := ServiceURL(t, PostgresEnv, "e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer db.Close()
	schema := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%ssearch_path=%s", base, sep, schema)
}

// ForEachBenchDatabase runs fn on SQLite and PostgreSQL: the databases the
// two variables name (already seeded), else a fresh SQLite file and a
// fresh PostgreSQL schema (skipped without AIMG_TEST_DATABASE_URL).
func ForEachBenchDatabase(b *testing.B, sqliteEnv, postgresEnv string, fn func(b *testing.B, url string)) {
	b.Run("sqlite", func(b *testing.B) {
		url := os.Getenv(sqliteEnv)
		if url == "" {
			url = "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
		}
		fn(b, url)
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv(postgresEnv)
		if url == "" {
			url = FreshPostgres(b)
		}
		fn(b, url)
	})
}
