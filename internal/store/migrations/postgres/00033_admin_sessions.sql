-- +goose Up
-- The web UI's admin mark (docs/decisions.md "Web UI: admin pages"): a
-- browser session whose visitor entered the admin key on /admin. The key
-- itself is never stored; the mark ends at expires_at, when the visitor
-- signs out of the admin pages, or with its session (sign-out, a sign-in's
-- rotation, expiry purge: ON DELETE CASCADE).
CREATE TABLE admin_sessions (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE admin_sessions;
