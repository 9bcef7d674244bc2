-- name: GetUserByClerkID :one
-- Live (not tombstoned) user by Clerk id.
SELECT * FROM users WHERE clerk_id = $1 AND deleted_at IS NULL;
