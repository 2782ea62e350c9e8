-- +goose Up
-- Fair share inside a queue (docs/decisions.md "Fair share"). Each queued Job
-- has a fair_key = user_rank << 24 | tie, claimed in (fair_key, seq) order:
-- user_rank is the user's virtual time in the queue (max(the user's last
-- queued rank, the queue's served rank) + 1), so users take turns; tie is the
-- queue's arrival counter (mod 2^24), so Jobs of one round go in arrival order.
ALTER TABLE jobs ADD COLUMN fair_key BIGINT NOT NULL DEFAULT 0;
UPDATE jobs SET fair_key = r.rk * 16777216 + (r.seq & 16777215)
    FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY queue_id, user_id ORDER BY seq) AS rk
          FROM jobs WHERE status IN ('queued', 'running')) AS r
    WHERE jobs.seq = r.seq;
-- The fair head of a queue, counts of a short key range, ties.
CREATE INDEX jobs_fair ON jobs (queue_id, fair_key, seq) WHERE status = 'queued';
-- A user's last queued rank in a queue.
CREATE INDEX jobs_queued_user ON jobs (queue_id, user_id, fair_key) WHERE status = 'queued';

-- Per queue: vtime is the highest user_rank claimed so far (the served
-- rank), arrivals counts enqueues (the tie-break).
CREATE TABLE job_queues (
    queue_id TEXT PRIMARY KEY,
    vtime BIGINT NOT NULL DEFAULT 0,
    arrivals BIGINT NOT NULL DEFAULT 0
);

-- Queued Jobs per queue and fair_key range, kept by triggers whoever writes
-- the jobs table: at level L (1..7) the row (queue, L, b) counts the queued
-- Jobs with fair_key >> 8L = b. A position is a sum of at most 255 rows per
-- level plus at most 255 entries of jobs_fair; a queue's length is its
-- level-7 rows. Empty rows are deleted.
CREATE TABLE job_fair_counts (
    queue_id TEXT NOT NULL,
    level INTEGER NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (queue_id, level, bucket)
);
INSERT INTO job_fair_counts (queue_id, level, bucket, n)
    SELECT queue_id, 1, fair_key >> 8, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 8
    UNION ALL SELECT queue_id, 2, fair_key >> 16, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 16
    UNION ALL SELECT queue_id, 3, fair_key >> 24, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 24
    UNION ALL SELECT queue_id, 4, fair_key >> 32, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 32
    UNION ALL SELECT queue_id, 5, fair_key >> 40, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 40
    UNION ALL SELECT queue_id, 6, fair_key >> 48, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 48
    UNION ALL SELECT queue_id, 7, fair_key >> 56, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY queue_id, fair_key >> 56;

-- +goose StatementBegin
CREATE TRIGGER jobs_fair_insert AFTER INSERT ON jobs WHEN NEW.status = 'queued'
BEGIN
    INSERT INTO job_fair_counts (queue_id, level, bucket, n) VALUES
        (NEW.queue_id, 7, NEW.fair_key >> 56, 1),
        (NEW.queue_id, 6, NEW.fair_key >> 48, 1),
        (NEW.queue_id, 5, NEW.fair_key >> 40, 1),
        (NEW.queue_id, 4, NEW.fair_key >> 32, 1),
        (NEW.queue_id, 3, NEW.fair_key >> 24, 1),
        (NEW.queue_id, 2, NEW.fair_key >> 16, 1),
        (NEW.queue_id, 1, NEW.fair_key >> 8, 1)
        ON CONFLICT (queue_id, level, bucket) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER jobs_fair_delete AFTER DELETE ON jobs WHEN OLD.status = 'queued'
BEGIN
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 7 AND bucket = OLD.fair_key >> 56;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 6 AND bucket = OLD.fair_key >> 48;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 5 AND bucket = OLD.fair_key >> 40;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 4 AND bucket = OLD.fair_key >> 32;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 3 AND bucket = OLD.fair_key >> 24;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 2 AND bucket = OLD.fair_key >> 16;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 1 AND bucket = OLD.fair_key >> 8;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 7 AND bucket = OLD.fair_key >> 56 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 6 AND bucket = OLD.fair_key >> 48 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 5 AND bucket = OLD.fair_key >> 40 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 4 AND bucket = OLD.fair_key >> 32 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 3 AND bucket = OLD.fair_key >> 24 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 2 AND bucket = OLD.fair_key >> 16 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 1 AND bucket = OLD.fair_key >> 8 AND n = 0;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER jobs_fair_leave AFTER UPDATE OF status, queue_id, fair_key ON jobs
WHEN OLD.status = 'queued' AND (NEW.status <> 'queued' OR OLD.queue_id <> NEW.queue_id OR OLD.fair_key <> NEW.fair_key)
BEGIN
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 7 AND bucket = OLD.fair_key >> 56;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 6 AND bucket = OLD.fair_key >> 48;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 5 AND bucket = OLD.fair_key >> 40;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 4 AND bucket = OLD.fair_key >> 32;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 3 AND bucket = OLD.fair_key >> 24;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 2 AND bucket = OLD.fair_key >> 16;
    UPDATE job_fair_counts SET n = n - 1 WHERE queue_id = OLD.queue_id AND level = 1 AND bucket = OLD.fair_key >> 8;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 7 AND bucket = OLD.fair_key >> 56 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 6 AND bucket = OLD.fair_key >> 48 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 5 AND bucket = OLD.fair_key >> 40 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 4 AND bucket = OLD.fair_key >> 32 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 3 AND bucket = OLD.fair_key >> 24 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 2 AND bucket = OLD.fair_key >> 16 AND n = 0;
    DELETE FROM job_fair_counts WHERE queue_id = OLD.queue_id AND level = 1 AND bucket = OLD.fair_key >> 8 AND n = 0;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER jobs_fair_enter AFTER UPDATE OF status, queue_id, fair_key ON jobs
WHEN NEW.status = 'queued' AND (OLD.status <> 'queued' OR OLD.queue_id <> NEW.queue_id OR OLD.fair_key <> NEW.fair_key)
BEGIN
    INSERT INTO job_fair_counts (queue_id, level, bucket, n) VALUES
        (NEW.queue_id, 7, NEW.fair_key >> 56, 1),
        (NEW.queue_id, 6, NEW.fair_key >> 48, 1),
        (NEW.queue_id, 5, NEW.fair_key >> 40, 1),
        (NEW.queue_id, 4, NEW.fair_key >> 32, 1),
        (NEW.queue_id, 3, NEW.fair_key >> 24, 1),
        (NEW.queue_id, 2, NEW.fair_key >> 16, 1),
        (NEW.queue_id, 1, NEW.fair_key >> 8, 1)
        ON CONFLICT (queue_id, level, bucket) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER jobs_fair_enter;
DROP TRIGGER jobs_fair_leave;
DROP TRIGGER jobs_fair_delete;
DROP TRIGGER jobs_fair_insert;
DROP TABLE job_fair_counts;
DROP TABLE job_queues;
DROP INDEX jobs_queued_user;
DROP INDEX jobs_fair;
ALTER TABLE jobs DROP COLUMN fair_key;
