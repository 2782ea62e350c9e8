-- +goose Up
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    email TEXT,
    username TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    is_guest BOOLEAN NOT NULL DEFAULT FALSE,
    is_18_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    roles TEXT NOT NULL DEFAULT '[]',
    abuse INTEGER NOT NULL DEFAULT 0,
    profile_picture TEXT NOT NULL DEFAULT '',
    profile_picture_banned BOOLEAN NOT NULL DEFAULT FALSE,
    additional_information TEXT NOT NULL DEFAULT '',
    ref_list TEXT NOT NULL DEFAULT '[]',
    rs TEXT NOT NULL DEFAULT '',
    tier INTEGER NOT NULL DEFAULT 0,
    tier_expiration BIGINT,
    merchant_processor TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
-- Emails are stored lower-cased; a deleted user keeps its email until purged.
CREATE UNIQUE INDEX users_domain_email ON users (domain, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_domain_username ON users (domain, lower(username)) WHERE username <> '';

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    authenticated BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
