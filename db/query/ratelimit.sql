-- API rate limits (internal/ratelimit): a fixed window per key, counted by
-- one atomic upsert, so every instance on the same database shares it.

-- name: HitRateLimit :one
-- Counts hits requests (one, or a batch an instance counted locally) in the
-- window that starts at window_start and returns the count so far. A row
-- from an older window starts over; a row from a newer window (another
-- instance's clock a little ahead) keeps counting in that window rather than
-- going back.
INSERT INTO rate_limits AS r (key, window_start, hits)
VALUES (sqlc.arg(key), sqlc.arg(window_start), sqlc.arg(hits))
ON CONFLICT (key) DO UPDATE SET
    window_start = GREATEST(r.window_start, EXCLUDED.window_start),
    hits = CASE WHEN r.window_start >= EXCLUDED.window_start THEN r.hits + EXCLUDED.hits ELSE EXCLUDED.hits END
RETURNING window_start, hits;

-- name: PeekRateLimit :one
-- The count of key in the window that starts at window_start, without
-- counting anything; 0 when the key has no hits in that window.
SELECT COALESCE((SELECT hits FROM rate_limits
                 WHERE key = sqlc.arg(key) AND window_start >= sqlc.arg(window_start)), 0)::integer AS hits;
