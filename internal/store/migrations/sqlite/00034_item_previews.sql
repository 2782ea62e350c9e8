-- +goose Up
-- Live previews (docs/decisions.md "Live previews"): the latest preview
-- image a worker sent for a processing Item, at most one per Item, so that
-- any replica can serve it. version counts the replacements (the web adds
-- it to the image URL); updated_at bounds the rate per Job. A row goes
-- when its Job ends (completed, failed, cancelled, released, requeued)
-- and with its Item.
CREATE TABLE item_previews (
    item_id TEXT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX item_previews_job ON item_previews (job_id);

-- +goose Down
DROP TABLE item_previews;
