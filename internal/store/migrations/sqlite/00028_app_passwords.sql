-- +goose Up
-- App passwords (createAppPassword): what Nextcloud clients sign in with
-- over HTTP Basic instead of the account password. Only the SHA-256 of the
-- secret is kept; it is unique and indexed, so a Basic login finds its row
-- by the hash alone. The rows go with their user, and the account service
-- deletes them when the password changes or the account is deleted or
-- disabled. last_used_at is written at most once a minute.
CREATE TABLE app_passwords (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX app_passwords_secret_hash ON app_passwords (secret_hash);
CREATE INDEX app_passwords_user ON app_passwords (user_id, created_at);

-- +goose Down
DROP TABLE app_passwords;
