-- +goose Up
-- otp_login: the user has signed in with a one-time password (a LoginProvider).
-- delete_items_requested: deleteUser was called with deleteItems=true; the
-- library purges those Items (a later migration's job reads this flag).
ALTER TABLE users ADD COLUMN otp_login BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN delete_items_requested BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE archived_emails (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    archived_at BIGINT NOT NULL
);
CREATE INDEX archived_emails_user ON archived_emails (user_id, archived_at);

-- One live one-time password per (domain, email): a new request replaces it.
-- code_hash is an HMAC-SHA256 of domain, email and code under a server secret.
CREATE TABLE otps (
    domain TEXT NOT NULL,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (domain, email)
);
CREATE INDEX otps_expires ON otps (expires_at);

CREATE TABLE user_kvps (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kvp_key TEXT NOT NULL,
    kvp_value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kvp_key)
);

-- A guest record handed to an account on sign-in; later migrations move the
-- guest's Items in the same transaction that writes this row.
CREATE TABLE guest_merges (
    guest_user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    merged_at BIGINT NOT NULL
);
CREATE INDEX guest_merges_user ON guest_merges (user_id);

-- +goose Down
DROP TABLE guest_merges;
DROP TABLE user_kvps;
DROP TABLE otps;
DROP TABLE archived_emails;
ALTER TABLE users DROP COLUMN delete_items_requested;
ALTER TABLE users DROP COLUMN otp_login;
