-- +goose Up
-- Output files being stored for a Job (generation.Complete): a row is
-- written before the file, and removed once the Job completed with it (or
-- the file was removed again). A row left over means the process died in
-- between; the orphan sweeper removes the file if no Item points at it.
CREATE TABLE pending_outputs (
    file_id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_outputs_age ON pending_outputs (created_at);
CREATE INDEX pending_outputs_job ON pending_outputs (job_id);

-- +goose Down
DROP TABLE pending_outputs;
