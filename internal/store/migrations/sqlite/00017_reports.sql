-- +goose Up
-- Item reports (reportItems, getReports, closeReports, downloadReportsForEpoch).
-- author_id is the reported Item's owner (kept with guest merges), so that
-- the authorId filter and the author's counts read an index of reports.
-- reporter_id is NULL when the reporter's user record is gone.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    reporter_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    author_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    queue TEXT NOT NULL,
    additional_information TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'automaticallyDeclined')),
    created_at BIGINT NOT NULL,
    processed_at BIGINT,
    approver_id TEXT NOT NULL DEFAULT '',
    approval_information TEXT NOT NULL DEFAULT '',
    download_count BIGINT NOT NULL DEFAULT 0,
    download_last_at BIGINT
);
-- At most one pending report per reporter and Item; also the pending
-- reports of an Item, in item order (the multipleReports system queue).
CREATE UNIQUE INDEX reports_pending_item_reporter ON reports (item_id, reporter_id) WHERE status = 'pending';
-- The reports of an Item (closeRelatedReports, accepted counts).
CREATE INDEX reports_item ON reports (item_id, status);
-- getReports' keyset pages: every report, by author, by status, by queue.
CREATE INDEX reports_created ON reports (created_at DESC, id DESC);
CREATE INDEX reports_author_created ON reports (author_id, created_at DESC, id DESC);
CREATE INDEX reports_status_created ON reports (status, created_at DESC, id DESC);
CREATE INDEX reports_queue_created ON reports (queue, created_at DESC, id DESC);

-- An Item deleted because a report of it was accepted: restoreItems by
-- userID skips it; restoring it by id clears the mark.
ALTER TABLE items ADD COLUMN removed_by_report BOOLEAN NOT NULL DEFAULT FALSE;
-- The highHeat system queue: live Items by dislikes.
CREATE INDEX items_live_dislikes ON items (dislike_count) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX items_live_dislikes;
ALTER TABLE items DROP COLUMN removed_by_report;
DROP TABLE reports;
