package store

import (
	"context"
	"fmt"
)

// Every counter the store keeps by trigger or in the same transaction as
// the change (item_counts, items.like_count and dislike_count, …) has a
// recount from its base tables here. CounterDrift runs them all: tests
// run it after concurrent work, an operator after a crash or a restore.

// counterChecks each select (what, kept, recounted) for the counters that
// disagree. Add one for every new kept counter.
var counterChecks = []string{
	// item_counts: live Items per user and Folder ('' = root).
	`SELECT 'item_counts ' || k.user_id || '/' || k.folder_key, k.n, COALESCE(r.n, 0)
	FROM item_counts k LEFT JOIN (SELECT user_id, COALESCE(folder_id, '') AS folder_key, COUNT(*) AS n
		FROM items WHERE deleted_at IS NULL GROUP BY user_id, COALESCE(folder_id, '')) r
		ON r.user_id = k.user_id AND r.folder_key = k.folder_key
	WHERE k.n <> COALESCE(r.n, 0)`,
	`SELECT 'item_counts ' || r.user_id || '/' || r.folder_key || ' (no row)', 0, r.n
	FROM (SELECT user_id, COALESCE(folder_id, '') AS folder_key, COUNT(*) AS n
		FROM items WHERE deleted_at IS NULL GROUP BY user_id, COALESCE(folder_id, '')) r
	LEFT JOIN item_counts k ON k.user_id = r.user_id AND k.folder_key = r.folder_key
	WHERE k.user_id IS NULL`,
	// items.like_count and dislike_count: the reactions rows.
	`SELECT 'like_count ' || i.id, i.like_count, (SELECT COUNT(*) FROM reactions r WHERE r.item_id = i.id AND r.kind = 'like')
	FROM items i WHERE i.like_count <> (SELECT COUNT(*) FROM reactions r WHERE r.item_id = i.id AND r.kind = 'like')`,
	`SELECT 'dislike_count ' || i.id, i.dislike_count, (SELECT COUNT(*) FROM reactions r WHERE r.item_id = i.id AND r.kind = 'dislike')
	FROM items i WHERE i.dislike_count <> (SELECT COUNT(*) FROM reactions r WHERE r.item_id = i.id AND r.kind = 'dislike')`,
}

// CounterDrift returns one line per kept counter that differs from its
// recount ("what: kept N, recounted M"); none when all agree. It reads
// every counted table: an operator's and a test's tool, not a request's.
func (s *Store) CounterDrift(ctx context.Context) ([]string, error) {
	var out []string
	for _, q := range counterChecks {
		rows, err := s.r.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var what string
			var kept, recounted int64
			if err := rows.Scan(&what, &kept, &recounted); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, fmt.Sprintf("%s: kept %d, recounted %d", what, kept, recounted))
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
