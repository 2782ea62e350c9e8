package store_test

import (
	"context"
	"strings"
	"testing"

	"aimg/internal/store"
	"aimg/internal/testsupport"
)

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st := testsupport.OpenStore(t, url)
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		cur, latest, err := st.SchemaVersion(ctx)
		if err != nil || cur != latest || latest < 1 {
			t.Fatalf("version = %d/%d, %v", cur, latest, err)
		}
		// Pretend a newer binary migrated this database.
		if err := st.ExecForTest(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)"); err != nil {
			t.Fatal(err)
		}
		err = st.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("migrate on a newer schema: %v, want a refusal", err)
		}
		if st.Dialect() != store.SQLite && st.Dialect() != store.Postgres {
			t.Fatalf("dialect %q", st.Dialect())
		}
	})
}
