-- +goose Up
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    batch_id TEXT NOT NULL,
    job_id TEXT NOT NULL DEFAULT '',
    mtype TEXT NOT NULL,
    media_type TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    model_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    negprompt TEXT NOT NULL DEFAULT '',
    raw_prompt TEXT NOT NULL DEFAULT '',
    raw_negprompt TEXT NOT NULL DEFAULT '',
    ignored_words TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    generator_version TEXT NOT NULL DEFAULT '1',
    workflow_template_name TEXT NOT NULL DEFAULT '',
    workflow_run_parameters TEXT NOT NULL DEFAULT '[]',
    file_id TEXT NOT NULL DEFAULT '',
    frames TEXT NOT NULL DEFAULT '[]',
    folder_id TEXT,
    folder_added_at BIGINT,
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    public_approval_status TEXT NOT NULL DEFAULT 'none',
    is_protected BOOLEAN NOT NULL DEFAULT FALSE,
    view_count BIGINT NOT NULL DEFAULT 0,
    like_count BIGINT NOT NULL DEFAULT 0,
    dislike_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    deleted_at BIGINT
);
-- Keyset pagination of a user's creations (newest first), never OFFSET scans.
CREATE INDEX items_user_created ON items (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX items_user_folder_created ON items (user_id, folder_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX items_user_completed ON items (user_id, completed_at DESC) WHERE status = 'completed' AND deleted_at IS NULL;
-- Per-user, per-Model concurrency counts.
CREATE INDEX items_user_model_active ON items (user_id, model_id) WHERE status IN ('queued', 'processing');
CREATE INDEX items_batch ON items (batch_id);
CREATE INDEX items_job ON items (job_id);

CREATE TABLE jobs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    queue_id TEXT NOT NULL,
    model_id TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    user_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    item_ids TEXT NOT NULL DEFAULT '[]',
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_expires_at BIGINT,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    enqueued_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
-- The head of each queue and exact positions come from this index alone.
CREATE INDEX jobs_queued ON jobs (queue_id, seq) WHERE status = 'queued';
-- Expired leases are found without scanning finished jobs.
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE status = 'running';

-- Idempotency-Key: the same key from the same user within 24 h returns the first result.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE jobs;
DROP TABLE items;
