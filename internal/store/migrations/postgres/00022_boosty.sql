-- +goose Up
-- The Boosty blog owner's browser cookies (injectBoostyAdminAccountCookies),
-- one blog per domain: sealed with AES-256-GCM under AIMG_SECRETS_KEY
-- (nonce || ciphertext || tag, the domain and account id as additional
-- data), never stored or returned in plain text. Injecting again replaces
-- the row; a row is not used after expires_at (created_at + 7 days).
CREATE TABLE boosty_accounts (
    domain TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    sealed_cookies BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Which AIMG user claimed a Boosty subscriber (checkBoostySubscription):
-- one Boosty user per domain belongs to one AIMG user.
CREATE TABLE boosty_claims (
    domain TEXT NOT NULL,
    boosty_user_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain, boosty_user_id)
);
CREATE INDEX boosty_claims_user ON boosty_claims (user_id, created_at);

-- +goose Down
DROP TABLE boosty_claims;
DROP TABLE boosty_accounts;
