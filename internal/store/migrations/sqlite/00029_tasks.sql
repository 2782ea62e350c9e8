-- +goose Up
-- Nextcloud tasks (the OCS surface): integer ids as Nextcloud's. Text tasks
-- are leased by the task runner (lease_owner, lease_expires_at, attempts);
-- a text-to-image task follows its generation Job (job_id). input and
-- output are JSON objects. Webhooks are delivered from webhook_next_at on,
-- until webhook_state is 'done' or 'failed'.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    custom_id TEXT NOT NULL DEFAULT '',
    input TEXT NOT NULL,
    output TEXT,
    status INTEGER NOT NULL,
    progress DOUBLE PRECISION,
    error TEXT NOT NULL DEFAULT '',
    job_id TEXT NOT NULL DEFAULT '',
    webhook_uri TEXT NOT NULL DEFAULT '',
    webhook_method TEXT NOT NULL DEFAULT '',
    webhook_state TEXT NOT NULL DEFAULT '',
    webhook_attempts INTEGER NOT NULL DEFAULT 0,
    webhook_next_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 1,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_expires_at BIGINT,
    scheduled_at BIGINT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    last_updated BIGINT NOT NULL,
    completion_expected_at BIGINT
);
CREATE INDEX tasks_user_app ON tasks (user_id, app_id, id);
CREATE INDEX tasks_user_type ON tasks (user_id, type, id);
CREATE INDEX tasks_runnable ON tasks (status, id) WHERE job_id = '' AND status IN (1, 2);
CREATE INDEX tasks_following ON tasks (id) WHERE job_id <> '' AND status IN (1, 2);
CREATE INDEX tasks_webhooks ON tasks (webhook_next_at) WHERE webhook_state = 'pending';
CREATE INDEX tasks_updated ON tasks (last_updated);

-- The files a task refers to, under TaskProcessing's integer file ids.
CREATE TABLE task_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    file_id TEXT NOT NULL
);
CREATE INDEX task_files_task ON task_files (task_id);

-- The expected completion time of a text-to-image task: a Model's recent
-- render times (its running Jobs are counted through jobs_running_lease).
CREATE INDEX jobs_model_finished ON jobs (model_id, finished_at) WHERE status = 'completed';

-- +goose Down
DROP INDEX jobs_model_finished;
DROP TABLE task_files;
DROP TABLE tasks;
