-- The webhook inbox and delivery log (internal/clerksync).

-- name: InsertWebhookEvent :one
-- The idempotency check: a second delivery of the same svix-id inserts
-- nothing (a concurrent one waits on the unique index, then conflicts). The
-- row is written with the expected outcome, in the transaction that applies
-- the event, and only updated when the outcome differs.
INSERT INTO webhook_events (svix_id, type, organization_id, object_id, instance_id, event_at, status, error, payload, processed_at)
VALUES (sqlc.arg(svix_id), sqlc.arg(type), sqlc.arg(organization_id), sqlc.arg(object_id), sqlc.arg(instance_id),
        sqlc.narg(event_at), sqlc.arg(status), sqlc.arg(error), sqlc.arg(payload), clock_timestamp())
ON CONFLICT (svix_id) DO NOTHING
RETURNING id;

-- name: CountWebhookEventAttempt :exec
UPDATE webhook_events SET attempts = attempts + 1, last_attempt_at = now() WHERE svix_id = $1;

-- name: FinishWebhookEvent :exec
UPDATE webhook_events SET status = sqlc.arg(status), error = sqlc.arg(error), processed_at = clock_timestamp()
WHERE id = sqlc.arg(id);

-- name: GetWebhookEvent :one
SELECT * FROM webhook_events WHERE id = $1;

-- name: LockWebhookEvent :one
SELECT * FROM webhook_events WHERE id = $1 FOR UPDATE;

-- The delivery log's pages are read by clerksync.ListDeliveries, which
-- builds the statement for the filters given: each combination gets a plan
-- of its own that uses its index (see 00009_scale.sql).
