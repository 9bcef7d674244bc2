package clerksync

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/auth"
)

// RevocationChannel is the PostgreSQL NOTIFY channel on which a committed
// session.revoked, session.ended or session.removed event announces its
// session id (store.NotifySessionRevoked).
const RevocationChannel = "session_revoked"

// How the listener paces itself: it prunes the set when no notification
// arrived for pruneEvery, and reconnects with a backoff between these bounds.
const (
	pruneEvery = time.Minute
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// LoadRevocations adds to set every session revoked within
// auth.RevocationRetention, as the revoked_sessions table holds them.
func LoadRevocations(ctx context.Context, db store.DBTX, set *auth.Revocations) error {
	since := time.Now().Add(-auth.RevocationRetention)
	rows, err := store.New(db).ListRevokedSessionsSince(ctx, pgtype.Timestamptz{Time: since, Valid: true})
	if err != nil {
		return err
	}
	for _, r := range rows {
		set.Add(r.SessionID, r.RevokedAt.Time)
	}
	return nil
}

// WatchRevocations keeps set in step with the revocations every instance of
// the app records: it listens on RevocationChannel on a connection of its
// own (not one of the pool's), loads the recent revocations once listening
// (so none falls in between), and adds each announced session as it comes,
// within milliseconds of the webhook's commit. A lost connection is
// reconnected, with a fresh load, until ctx ends; it then returns nil.
func WatchRevocations(ctx context.Context, pool *pgxpool.Pool, set *auth.Revocations, logger *slog.Logger) error {
	backoff := minBackoff
	for {
		started := time.Now()
		err := watchOnce(ctx, pool, set)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > maxBackoff {
			backoff = minBackoff // it ran fine for a while: a fresh failure
		}
		logger.WarnContext(ctx, "session revocation listener stopped; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func watchOnce(ctx context.Context, pool *pgxpool.Pool, set *auth.Revocations) error {
	// The pool's own tracer (the connection gate of internal/database)
	// counts the pool's connections; this one is not the pool's.
	cc := pool.Config().ConnConfig.Copy()
	cc.Tracer = nil
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+RevocationChannel); err != nil {
		return err
	}
	if err := LoadRevocations(ctx, conn, set); err != nil {
		return err
	}
	for {
		// A wait that times out leaves the connection usable (pgconn keeps
		// it on a read deadline), which is when the set is pruned.
		wait, cancel := context.WithTimeout(ctx, pruneEvery)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			set.Add(n.Payload, time.Now())
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			set.Prune(time.Now())
		default:
			return err
		}
	}
}
