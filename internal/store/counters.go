package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	// tags.usage_count: the item_tags and folder_tags rows (00016).
	`SELECT 'tag usage ' || t.name, t.usage_count,
		(SELECT COUNT(*) FROM item_tags x WHERE x.tag = t.name) + (SELECT COUNT(*) FROM folder_tags f WHERE f.tag = t.name)
	FROM tags t WHERE t.usage_count <> (SELECT COUNT(*) FROM item_tags x WHERE x.tag = t.name) + (SELECT COUNT(*) FROM folder_tags f WHERE f.tag = t.name)`,
	// items.tag_count: the Item's item_tags rows (00036).
	`SELECT 'tag_count ' || i.id, i.tag_count, (SELECT COUNT(*) FROM item_tags x WHERE x.item_id = i.id)
	FROM items i WHERE i.tag_count <> (SELECT COUNT(*) FROM item_tags x WHERE x.item_id = i.id)`,
	// Deleted Items carry no tags (deleteItems clears them).
	`SELECT 'tags on deleted Item ' || i.id, COUNT(*), 0 FROM item_tags x JOIN items i ON i.id = x.item_id
	WHERE i.deleted_at IS NOT NULL GROUP BY i.id`,
}

// fairCounterChecks are counterChecks for job_fair_counts: queued Jobs per
// queue, level, fair_key range and slot (00024, 00031).
func fairCounterChecks(dialect Dialect) []string {
	recount := fairRecount(dialect)
	return []string{
		`SELECT 'job_fair_counts ' || k.queue_id || '/' || k.level || '/' || k.bucket || '/' || k.slot, k.n, COALESCE(r.n, 0)
		FROM job_fair_counts k LEFT JOIN (` + recount + `) r
			ON r.queue_id = k.queue_id AND r.level = k.level AND r.bucket = k.bucket AND r.slot = k.slot
		WHERE k.n <> COALESCE(r.n, 0) OR k.n = 0`,
		`SELECT 'job_fair_counts ' || r.queue_id || '/' || r.level || '/' || r.bucket || '/' || r.slot || ' (no row)', 0, r.n
		FROM (` + recount + `) r LEFT JOIN job_fair_counts k
			ON k.queue_id = r.queue_id AND k.level = r.level AND k.bucket = r.bucket AND k.slot = r.slot
		WHERE k.queue_id IS NULL`,
	}
}

// fairRecount recounts job_fair_counts from the jobs table, with the slots
// of the dialect's triggers.
func fairRecount(dialect Dialect) string {
	slot, bySlot := "0", ""
	if dialect == Postgres {
		slot = "j.seq % " + strconv.Itoa(fairSlots)
		bySlot = ", " + slot
	}
	return `SELECT j.queue_id, lv.level, j.fair_key >> (8 * lv.level) AS bucket, ` + slot + ` AS slot, COUNT(*) AS n
	FROM jobs j CROSS JOIN (SELECT 1 AS level UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
		UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7) lv
	WHERE j.status = 'queued' GROUP BY j.queue_id, lv.level, j.fair_key >> (8 * lv.level)` + bySlot
}

// CounterDrift returns one line per kept counter that differs from its
// recount ("what: kept N, recounted M"); none when all agree. It reads
// every counted table: an operator's and a test's tool, not a request's.
func (s *Store) CounterDrift(ctx context.Context) ([]string, error) {
	var out []string
	for _, q := range append(slices.Clone(counterChecks), fairCounterChecks(s.dialect)...) {
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
