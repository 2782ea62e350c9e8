package store

import (
	"aimg/internal/aimg"
	"context"
	"database/sql"
	"fmt"
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

// listingsForTest are the keyset listings (listing.go) with sample
// arguments: TestListingPlans checks that each page is read from an index.
// Add every new listing here.
var listingsForTest = map[string]func() *keysetList{
	"getMyCreations":            func() *keysetList { return creationsList("u", aimg.ItemFilter{}) },
	"getMyCreations root":       func() *keysetList { return creationsList("u", aimg.ItemFilter{FolderID: aimg.RootFolder}) },
	"getMyCreations folder":     func() *keysetList { return creationsList("u", aimg.ItemFilter{FolderID: "f"}) },
	"getMyCreations image":      func() *keysetList { return creationsList("u", aimg.ItemFilter{MType: "image"}) },
	"getSelfFolders":            func() *keysetList { return foldersList("u", nil) },
	"getSelfFolders by ids":     func() *keysetList { return foldersList("u", []string{"a", "b"}) },
	"getPublicCreations":        func() *keysetList { return publicList(aimg.PublicFilter{}) },
	"getPublicCreations user":   func() *keysetList { return publicList(aimg.PublicFilter{UserID: "u"}) },
	"getPublicCreations folder": func() *keysetList { return publicList(aimg.PublicFilter{FolderID: "p-f"}) },
	"getPublicCreations image":  func() *keysetList { return publicList(aimg.PublicFilter{MType: "image"}) },
	"getPublicCreations tag":    func() *keysetList { return publicList(aimg.PublicFilter{Tag: "fox"}) },
	// At most rareTagUsage rows by primary key, sorted: as a listing by ids.
	"getPublicCreations rare tag by ids": func() *keysetList { return rareTagList(aimg.PublicFilter{Tag: "fox"}) },
	"getLatestItems":                     func() *keysetList { return latestList() },
	"getItems":                           func() *keysetList { return allItemsList("", aimg.ItemFilter{}) },
	"getItems user":                      func() *keysetList { return allItemsList("u", aimg.ItemFilter{}) },
	"getItems folder":                    func() *keysetList { return allItemsList("", aimg.ItemFilter{FolderID: "f"}) },
	"getItems root":                      func() *keysetList { return allItemsList("", aimg.ItemFilter{FolderID: aimg.RootFolder}) },
	"getItems pending":                   func() *keysetList { return allItemsList("", aimg.ItemFilter{Approval: aimg.ApprovalPending}) },
	"getTagsList":                        func() *keysetList { return tagsList(nil) },
	"getTagsList by ids":                 func() *keysetList { return tagsList([]string{"a", "b"}) },
	"getPublicFolders":                   func() *keysetList { return publicFoldersList(aimg.PublicFolderFilter{Viewer: "v"}) },
	"getPublicFolders admin": func() *keysetList {
		return publicFoldersList(aimg.PublicFolderFilter{ShowHidden: true})
	},
	"getPublicFolders user":   func() *keysetList { return publicFoldersList(aimg.PublicFolderFilter{UserID: "u", Viewer: "v"}) },
	"getPublicFolders by ids": func() *keysetList { return publicFoldersList(aimg.PublicFolderFilter{IDs: []string{"p-a", "p-b"}}) },
	"getReports":              func() *keysetList { return reportsList(aimg.ReportFilter{}, testReportRules) },
	"getReports author":       func() *keysetList { return reportsList(aimg.ReportFilter{AuthorID: "u"}, testReportRules) },
	"getReports pending": func() *keysetList {
		return reportsList(aimg.ReportFilter{Statuses: []string{"pending"}}, testReportRules)
	},
	"getReports queue":  func() *keysetList { return reportsList(aimg.ReportFilter{Queues: []string{"Spam"}}, testReportRules) },
	"getReports by ids": func() *keysetList { return reportsList(aimg.ReportFilter{IDs: []string{"a", "b"}}, testReportRules) },
	"getReports highHeat": func() *keysetList {
		return reportsList(aimg.ReportFilter{SystemQueues: []string{aimg.QueueHighHeat}}, testReportRules)
	},
	"getReports multipleReports": func() *keysetList {
		return reportsList(aimg.ReportFilter{SystemQueues: []string{aimg.QueueMultipleReports}}, testReportRules)
	},
}

var testReportRules = aimg.ReportRules{MinPendingReports: 3, MinDislikes: 10, MinDislikePercent: 50}

// ListingPlansForTest returns the query plan of a first and a later page of
// each listing in listingsForTest, by name. On PostgreSQL sequential scans
// and sorts are disabled first, so that a plan still showing one has no
// index to use (a small test table would otherwise be scanned anyway).
func (s *Store) ListingPlansForTest(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for name, list := range listingsForTest {
		for _, p := range []aimg.Page{{Limit: 100}, {Index: 1 << 40, Limit: 100}, {Reverse: true, Index: 5, Limit: 10}} {
			q, args := list().Page(p, s.dialect)
			plan, err := s.explain(ctx, q, args)
			if err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", name, err, q)
			}
			out[fmt.Sprintf("%s %+v", name, p)] = q + "\n" + plan
		}
	}
	return out, nil
}

func (s *Store) explain(ctx context.Context, q string, args []any) (string, error) {
	var lines []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		prefix := "EXPLAIN QUERY PLAN "
		if s.dialect == Postgres {
			prefix = "EXPLAIN "
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_sort = off"); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, prefix+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
		}
		return rows.Err()
	})
	return strings.Join(lines, "\n"), err
}

// RareTagUsage is the usage count up to which a tag's public feed is read
// from the tag's rows.
const RareTagUsage = rareTagUsage

// MigrateUpToForTest applies the migrations up to version only, so that a
// test can set up rows as an older schema had them before Migrate.
func (s *Store) MigrateUpToForTest(ctx context.Context, version int64) error {
	p, err := s.migrationProvider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
