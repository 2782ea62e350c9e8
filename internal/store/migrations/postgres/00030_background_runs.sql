-- +goose Up
-- The periodic sweeps (expired sessions, tier expiry, view records, orphaned
-- outputs, expired tasks) run once per interval across all replicas: a
-- replica runs a sweep only when its UPDATE of the sweep's row here moves
-- last_run_at forward (store.ClaimRun). One row per sweep name.
CREATE TABLE background_runs (
    name TEXT PRIMARY KEY,
    last_run_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE background_runs;
