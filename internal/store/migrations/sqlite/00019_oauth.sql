-- +goose Up
-- External sign-in (POST /api/auth/{provider}): one row per flow under
-- way, taken (deleted) by its callback, so a state works once and on any
-- replica. session_id is the session that started the flow (signing in
-- rotates it); verifier is the PKCE code verifier.
CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    verifier TEXT NOT NULL,
    session_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    redirect_url TEXT NOT NULL,
    ref_list TEXT NOT NULL DEFAULT '',
    rs TEXT NOT NULL DEFAULT '',
    is_at_least_18_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

-- An external account (provider, its user id) linked to a user of the
-- domain (users belong to a domain, so one external account may sign in
-- to each domain); the email is the one the provider reported when it was
-- linked.
CREATE TABLE user_identities (
    domain TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain, provider, provider_user_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- +goose Down
DROP TABLE user_identities;
DROP TABLE oauth_states;
