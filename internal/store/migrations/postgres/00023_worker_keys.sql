-- +goose Up
-- Keys of remote workers (createWorkerKey): only the SHA-256 of the secret
-- is kept. model_ids is a JSON array (empty = every Model). The Jobs a
-- key's workers hold have lease owners starting with "<id>/".
CREATE TABLE worker_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    model_ids TEXT NOT NULL DEFAULT '[]',
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at BIGINT
);

-- +goose Down
DROP TABLE worker_keys;
