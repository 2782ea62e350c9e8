-- +goose Up
-- Fair share without per-queue hot rows (docs/decisions.md "Fair share
-- inside a queue", issue 11). Every enqueue and claim of one queue used to
-- wait for the others' commits on the queue's job_queues row and on its
-- upper job_fair_counts rows:
--   * the tie-break of a fair key comes from a sequence (no lock) instead of
--     the row's arrival counter;
--   * the served rank (vtime) is read from the Jobs themselves: the highest
--     fair_key among the queue's Jobs ever claimed (started_at set), one
--     backward probe of jobs_served; nothing is written for it;
--   * the counter rows are split into 16 slots, a Job counting in slot
--     seq % 16 when it enters and when it leaves the queue: Jobs enqueued or
--     claimed at the same time (neighbouring seqs) update different rows.
-- Queued and running Jobs get the new tie (seq mod 2^24) in their rank, so a
-- round keeps enqueue order across the change.
CREATE SEQUENCE job_fair_ties;
SELECT setval('job_fair_ties', COALESCE((SELECT MAX(seq) FROM jobs), 0) + 1, false);
DROP TABLE job_queues;
CREATE INDEX jobs_served ON jobs (queue_id, fair_key) WHERE started_at IS NOT NULL;

ALTER TABLE jobs DISABLE TRIGGER jobs_fair_update;
UPDATE jobs SET fair_key = (fair_key >> 24 << 24) | (seq & 16777215)
    WHERE status IN ('queued', 'running') AND fair_key & 16777215 <> seq & 16777215;
ALTER TABLE jobs ENABLE TRIGGER jobs_fair_update;

DELETE FROM job_fair_counts;
ALTER TABLE job_fair_counts DROP CONSTRAINT job_fair_counts_pkey;
ALTER TABLE job_fair_counts ADD COLUMN slot SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE job_fair_counts ADD PRIMARY KEY (queue_id, level, bucket, slot);
INSERT INTO job_fair_counts (queue_id, level, bucket, slot, n)
    SELECT j.queue_id, lv.level, j.fair_key >> (8 * lv.level), j.seq % 16, COUNT(*)
    FROM jobs j CROSS JOIN generate_series(1, 7) AS lv(level)
    WHERE j.status = 'queued' GROUP BY 1, 2, 3, 4;

-- A Job's rows are those of its slot, locked top level first (so two
-- single-Job transactions cannot deadlock; multi-Job ones lock the queue's
-- top rows first, lockJobsThenQueues).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_fair_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lvl INT;
    left_n BIGINT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'queued' THEN
        FOR lvl IN REVERSE 7..1 LOOP
            UPDATE job_fair_counts SET n = n - 1
                WHERE queue_id = OLD.queue_id AND level = lvl AND bucket = OLD.fair_key >> (8 * lvl) AND slot = OLD.seq % 16
                RETURNING n INTO left_n;
            IF left_n = 0 THEN
                DELETE FROM job_fair_counts
                    WHERE queue_id = OLD.queue_id AND level = lvl AND bucket = OLD.fair_key >> (8 * lvl) AND slot = OLD.seq % 16;
            END IF;
        END LOOP;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'queued' THEN
        FOR lvl IN REVERSE 7..1 LOOP
            INSERT INTO job_fair_counts (queue_id, level, bucket, slot, n)
                VALUES (NEW.queue_id, lvl, NEW.fair_key >> (8 * lvl), NEW.seq % 16, 1)
                ON CONFLICT (queue_id, level, bucket, slot) DO UPDATE SET n = job_fair_counts.n + 1;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_fair_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lvl INT;
    left_n BIGINT;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'queued' THEN
        FOR lvl IN REVERSE 7..1 LOOP
            UPDATE job_fair_counts SET n = n - 1
                WHERE queue_id = OLD.queue_id AND level = lvl AND bucket = OLD.fair_key >> (8 * lvl)
                RETURNING n INTO left_n;
            IF left_n = 0 THEN
                DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = lvl AND bucket = OLD.fair_key >> (8 * lvl);
            END IF;
        END LOOP;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'queued' THEN
        FOR lvl IN REVERSE 7..1 LOOP
            INSERT INTO job_fair_counts (queue_id, level, bucket, n) VALUES (NEW.queue_id, lvl, NEW.fair_key >> (8 * lvl), 1)
                ON CONFLICT (queue_id, level, bucket) DO UPDATE SET n = job_fair_counts.n + 1;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DELETE FROM job_fair_counts;
ALTER TABLE job_fair_counts DROP CONSTRAINT job_fair_counts_pkey;
ALTER TABLE job_fair_counts DROP COLUMN slot;
ALTER TABLE job_fair_counts ADD PRIMARY KEY (queue_id, level, bucket);
INSERT INTO job_fair_counts (queue_id, level, bucket, n)
    SELECT j.queue_id, lv.level, j.fair_key >> (8 * lv.level), COUNT(*)
    FROM jobs j CROSS JOIN generate_series(1, 7) AS lv(level)
    WHERE j.status = 'queued' GROUP BY 1, 2, 3;
DROP INDEX jobs_served;
CREATE TABLE job_queues (
    queue_id TEXT PRIMARY KEY,
    vtime BIGINT NOT NULL DEFAULT 0,
    arrivals BIGINT NOT NULL DEFAULT 0
);
INSERT INTO job_queues (queue_id, vtime, arrivals)
    SELECT queue_id, COALESCE(MAX(fair_key) FILTER (WHERE started_at IS NOT NULL), 0) >> 24, MAX(seq)
    FROM jobs GROUP BY queue_id;
DROP SEQUENCE job_fair_ties;
