package store_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"aimg/internal/store"
	"aimg/internal/testsupport"
)

// Every keyset listing reads its pages from an index, in index order: no
// full scan of a table and no sort, on both databases.
func TestListingPlans(t *testing.T) {
	// SQLite: "SCAN t" without "USING ... INDEX" is a full scan; a TEMP
	// B-TREE is a sort. PostgreSQL: with seqscan and sort disabled, a plan
	// that still has them had no index to use.
	// A listing filtered to named ids ("by ids") reads at most 1,000 rows
	// by primary key and may sort them.
	scan := map[store.Dialect]*regexp.Regexp{
		store.SQLite:   regexp.MustCompile(`(?m)^SCAN \S+$`),
		store.Postgres: regexp.MustCompile(`Seq Scan`),
	}
	sort := map[store.Dialect]*regexp.Regexp{
		store.SQLite:   regexp.MustCompile(`TEMP B-TREE`),
		store.Postgres: regexp.MustCompile(`Sort`),
	}
	testsupport.ForEachStore(t, func(t *testing.T, st *store.Store) {
		plans, err := st.ListingPlansForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for name, plan := range plans {
			if scan[st.Dialect()].MatchString(plan) {
				t.Errorf("%s scans a whole table:\n%s", name, plan)
			}
			if !strings.Contains(name, "by ids") && sort[st.Dialect()].MatchString(plan) {
				t.Errorf("%s sorts instead of reading an index in order:\n%s", name, plan)
			}
		}
	})
}
