-- +goose Up
-- A pending output's blob key (issue 11): output files are recorded in the
-- completing transaction, so until then only this row knows where the
-- bytes of a stored output are; the orphan sweeper removes them by key.
-- Empty on older rows, whose files were recorded as they were stored.
ALTER TABLE pending_outputs ADD COLUMN blob_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE pending_outputs DROP COLUMN blob_key;
