-- +goose Up
-- Payment provider webhook events (docs/payments.md): each (provider,
-- event_id) is applied at most once; applied is false for an event that
-- changed nothing (older than the newest applied one of its subscription,
-- or naming no user). event_at is the provider's time of the event.
CREATE TABLE provider_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    event_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    applied BOOLEAN NOT NULL,
    PRIMARY KEY (provider, event_id)
);
-- The newest applied event of a provider's subscription (out-of-order deliveries).
CREATE INDEX provider_events_subscription ON provider_events (provider, subscription_id, event_at) WHERE applied;
-- A provider's subscription id -> our subscription (webhooks that name no user).
CREATE INDEX subscriptions_provider_transaction ON subscriptions (provider, transaction_id) WHERE transaction_id <> '';

-- +goose Down
DROP INDEX subscriptions_provider_transaction;
DROP TABLE provider_events;
