-- +goose Up
-- cancelGeneration: when a Job was cancelled. A cancelled Job is failed
-- with error 'cancelled' and keeps its lease owner and attempt, so that the
-- worker that held it is told "cancelled", not "lease lost".
ALTER TABLE jobs ADD COLUMN cancelled_at BIGINT;

-- +goose Down
ALTER TABLE jobs DROP COLUMN cancelled_at;
