-- +goose Up
-- Webhook sync additions. The delivery log records what the envelope said
-- (instance, event time, object id) so the admin screens can filter and show
-- it without parsing payloads; last_attempt_at moves on every redelivery.
ALTER TABLE webhook_events
    ADD COLUMN instance_id     text        NOT NULL DEFAULT '',
    ADD COLUMN object_id       text        NOT NULL DEFAULT '',
    ADD COLUMN event_at        timestamptz,
    ADD COLUMN last_attempt_at timestamptz NOT NULL DEFAULT now();
-- No index on status or type: the admin filters scan webhook_events_received
-- newest first, and an unindexed status lets the status update after apply be
-- a HOT update, which matters on the ingest path.

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
ALTER TABLE webhook_events
    DROP COLUMN last_attempt_at,
    DROP COLUMN event_at,
    DROP COLUMN object_id,
    DROP COLUMN instance_id;
