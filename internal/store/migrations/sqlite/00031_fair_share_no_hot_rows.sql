-- +goose Up
-- Fair share without per-queue hot rows (docs/decisions.md "Fair share
-- inside a queue", issue 11; the PostgreSQL file explains). SQLite has one
-- writer, so its counters keep one slot (0) and their triggers are
-- unchanged; the slot column is there so that both dialects share the
-- queries. The tie-break is the Job's seq, the served rank is read from the
-- claimed Jobs (jobs_served). The triggers move the counts of the Jobs
-- whose tie changes.
DROP TABLE job_queues;
CREATE INDEX jobs_served ON jobs (queue_id, fair_key) WHERE started_at IS NOT NULL;
ALTER TABLE job_fair_counts ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET fair_key = (fair_key >> 24 << 24) | (seq & 16777215)
    WHERE status IN ('queued', 'running') AND fair_key & 16777215 <> seq & 16777215;

-- +goose Down
ALTER TABLE job_fair_counts DROP COLUMN slot;
DROP INDEX jobs_served;
CREATE TABLE job_queues (
    queue_id TEXT PRIMARY KEY,
    vtime BIGINT NOT NULL DEFAULT 0,
    arrivals BIGINT NOT NULL DEFAULT 0
);
INSERT INTO job_queues (queue_id, vtime, arrivals)
    SELECT queue_id, COALESCE(MAX(CASE WHEN started_at IS NOT NULL THEN fair_key END), 0) >> 24, MAX(seq)
    FROM jobs GROUP BY queue_id;
