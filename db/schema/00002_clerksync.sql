-- +goose Up
-- Webhook sync additions. The delivery log records what the envelope said
-- (instance, event time, object id) so the admin screens can filter and show
-- it without parsing payloads; last_attempt_at moves on every redelivery.
ALTER TABLE webhook_events
    ADD COLUMN instance_id     text        NOT NULL DEFAULT '',
    ADD COLUMN object_id       text        NOT NULL DEFAULT '',
    ADD COLUMN event_at        timestamptz,
    ADD COLUMN last_attempt_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX webhook_events_type ON webhook_events (type, received_at DESC);
CREATE INDEX webhook_events_status ON webhook_events (status, received_at DESC);

-- Sessions Clerk reported as revoked, ended or removed. Session tokens live
-- for 60 s, so this is an audit trail and an optional deny list for the
-- authentication middleware, not the primary revocation mechanism.
CREATE TABLE revoked_sessions (
    session_id    text PRIMARY KEY,
    user_clerk_id text        NOT NULL DEFAULT '',
    reason        text        NOT NULL,
    revoked_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_user ON revoked_sessions (user_clerk_id);

-- +goose Down
DROP TABLE revoked_sessions;
DROP INDEX webhook_events_status;
DROP INDEX webhook_events_type;
ALTER TABLE webhook_events
    DROP COLUMN last_attempt_at,
    DROP COLUMN event_at,
    DROP COLUMN object_id,
    DROP COLUMN instance_id;
