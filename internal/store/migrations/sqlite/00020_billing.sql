-- +goose Up
-- Billing plans (getBillingPlans, createBillingPlan), per domain. prices is
-- the JSON array of BillingPlanPrice, each with its paymentProviders.
-- code is '' for the plans everyone sees, else the code that shows a
-- special plan (getBillingPlans?code=).
CREATE TABLE billing_plans (
    id TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    env TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    features TEXT NOT NULL DEFAULT '[]',
    main_benefits TEXT NOT NULL DEFAULT '[]',
    prices TEXT NOT NULL DEFAULT '[]',
    tier INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX billing_plans_domain_code ON billing_plans (domain, code, created_at);

-- PRO subscriptions. A user's tier is the highest tier among its active,
-- unexpired subscriptions, kept on users.tier/tier_expiration/
-- merchant_processor in the same transaction as every change here.
-- next_billing_at is set only while the subscription renews.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    provider TEXT NOT NULL,
    product_id TEXT NOT NULL DEFAULT '',
    tier INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'expired')),
    expires_at BIGINT,
    next_billing_at BIGINT,
    payer_id TEXT NOT NULL DEFAULT '',
    transaction_id TEXT NOT NULL DEFAULT '',
    additional_information TEXT NOT NULL DEFAULT '',
    price TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_user ON subscriptions (user_id, created_at);
-- The expiry sweeper: live subscriptions by expiry.
CREATE INDEX subscriptions_live_expiry ON subscriptions (expires_at) WHERE status <> 'expired' AND expires_at IS NOT NULL;

-- Gift cards: only the SHA-256 of the normalised code is stored.
CREATE TABLE gift_cards (
    code_hash TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    provider TEXT NOT NULL,
    tier INTEGER NOT NULL,
    days INTEGER NOT NULL,
    usd_price REAL NOT NULL DEFAULT 0,
    external_code TEXT NOT NULL DEFAULT '',
    additional_information TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    redeemed_at BIGINT,
    redeemed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    subscription_id TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE gift_cards;
DROP TABLE subscriptions;
DROP TABLE billing_plans;
