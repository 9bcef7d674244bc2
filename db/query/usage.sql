-- name: RecordUsage :one
-- Records a figure for a live organisation; no row means the organisation is
-- unknown (not synced yet, or deleted).
INSERT INTO usage_records (organization_id, metric, value, machine_id)
SELECT o.id, @metric, @value, @machine_id
FROM organizations o
WHERE o.clerk_id = @org_clerk_id AND o.deleted_at IS NULL
RETURNING id, metric, value, machine_id, recorded_at;

-- name: ListUsage :many
-- Latest figures of one organisation, newest first.
SELECT u.id, u.metric, u.value, u.machine_id, u.recorded_at
FROM usage_records u
JOIN organizations o ON o.id = u.organization_id
WHERE o.clerk_id = @org_clerk_id AND o.deleted_at IS NULL
ORDER BY u.recorded_at DESC, u.id DESC
LIMIT @max_rows;
