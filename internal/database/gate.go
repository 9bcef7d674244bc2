package database

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// gate keeps the pool within the connections PostgreSQL accepts.
//
// pgxpool opens a connection whenever Acquire finds none idle and the pool
// is below MaxConns. When PostgreSQL refuses it (max_connections, a role's
// or database's CONNECTION LIMIT, a server starting up or shutting down),
// that Acquire fails, and so does the request behind it, although the pool
// holds connections that will be free in a moment. MaxConns cannot change
// at run time, so the gate works through pgxpool's hooks instead:
//
//   - Admission (this file): an acquisition goes ahead when an open
//     connection is there for it; otherwise it waits in line, within its
//     context's deadline (pgxpool then reports ctx.Err(), which the app
//     answers with 503). Acquisitions never open connections themselves.
//   - Growth (grow.go): the gate's own placeholder acquisitions hold the
//     pool's free slots and open connections, one at a time, while
//     acquisitions wait, each only after a trial connection PostgreSQL
//     accepted. After a failed attempt the next waits for a backoff. A
//     refusal is logged once, when it starts an episode, and once more
//     when the episode ends.
//
// pgxpool.Pool.Stat counts the placeholders among the connections being
// constructed. Every admitted acquisition must end in Release: a
// connection taken out of the pool (pgxpool.Conn.Hijack) or around Acquire
// (AcquireAllIdle), neither of which the app uses, would upset the count.
// Code that acquires a second connection while holding one can wait for
// itself until its deadline once PostgreSQL allows no more, as it can at
// MaxConns without the gate.
type gate struct {
	max    int
	min    int // pool_min_conns
	logger *slog.Logger

	mu    sync.Mutex
	pool  *pgxpool.Pool // placeholders acquire through it
	queue []*waiter     // acquisitions waiting for admission, oldest first
	held  int           // admitted acquisitions not yet released
	live  int           // open connections
	// inFlight counts admitted acquisitions still on their way through
	// pgxpool's Acquire.
	inFlight int
	// handingOver counts connections a placeholder holds (opened, or was
	// handed while entering) and has not yet released into the pool:
	// open, but not there for anyone yet.
	handingOver int
	grow        growth
}

// waiter is an acquisition waiting in line; ready is closed on admission.
type waiter struct{ ready chan struct{} }

// turnedAwayKey marks, in the context pgxpool passes from TraceAcquireStart
// to TraceAcquireEnd, an acquisition whose context ended in line.
type turnedAwayKey struct{}

func newGate(cfg *pgxpool.Config, logger *slog.Logger) *gate {
	g := &gate{max: int(cfg.MaxConns), min: int(cfg.MinConns), logger: logger}
	g.grow.handing = map[*pgx.Conn]bool{}
	// pgx finds the connect and pool hooks on the query tracer's value.
	cfg.ConnConfig.Tracer = g
	cfg.BeforeConnect = g.beforeConnect
	cfg.BeforeClose = g.connClosed
	return g
}

// TraceAcquireStart admits the acquisition or makes it wait in line until
// it is admitted or its context ends. pgxpool fails a turned-away
// acquisition at once with the context's error.
func (g *gate) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	if isPlaceholder(ctx) {
		return ctx
	}
	g.mu.Lock()
	if len(g.queue) == 0 && g.admitting() {
		g.held++
		g.inFlight++
		g.mu.Unlock()
		return ctx
	}
	w := &waiter{ready: make(chan struct{})}
	g.queue = append(g.queue, w)
	if len(g.queue) == 1 {
		g.changed() // demand: a placeholder may have to open a connection
	}
	g.mu.Unlock()

	select {
	case <-w.ready:
		return ctx
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == w {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return context.WithValue(ctx, turnedAwayKey{}, true)
		}
	}
	// Admitted as the context ended: pgxpool fails the acquisition on the
	// context, and TraceAcquireEnd gives the place back.
	return ctx
}

// TraceAcquireEnd counts an admitted acquisition through, and gives its
// place back if it failed.
func (g *gate) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	if isPlaceholder(ctx) || ctx.Value(turnedAwayKey{}) != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	if data.Err != nil {
		g.held--
		g.admitQueued()
	}
	if g.inFlight == 0 {
		g.wakeEntry()
	}
}

// TraceRelease gives back the place of a released connection.
func (g *gate) TraceRelease(_ *pgxpool.Pool, data pgxpool.TraceReleaseData) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.grow.handing[data.Conn] {
		return // a placeholder's: it never took a place
	}
	g.held--
	g.admitQueued()
}

// connClosed counts a connection out.
func (g *gate) connClosed(*pgx.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.live--
	g.grow.retryAt = time.Time{} // PostgreSQL has a slot free
	g.changed()
}

// admitting reports whether one more acquisition may go ahead: an open
// connection is there for it, and no placeholder is entering the pool.
func (g *gate) admitting() bool {
	return g.held < g.live-g.handingOver && !g.grow.entering
}

// admitQueued admits waiting acquisitions, oldest first, while they may go
// ahead.
func (g *gate) admitQueued() {
	for len(g.queue) > 0 && g.admitting() {
		g.admitHead()
	}
	if len(g.queue) == 0 && g.grow.lastOK {
		g.endEpisode()
	}
}

func (g *gate) admitHead() {
	w := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	g.held++
	g.inFlight++
	close(w.ready)
}

// TraceQueryStart and TraceQueryEnd make the gate a pgx.QueryTracer, the
// type of ConnConfig.Tracer. (To add query tracing, combine tracers with
// pgx's multitracer package.)
func (g *gate) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd: see TraceQueryStart.
func (g *gate) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// refusal reports whether a failed connection attempt means PostgreSQL is
// there but takes no more connections for now: too_many_connections
// (max_connections, or a role's or database's CONNECTION LIMIT),
// cannot_connect_now (starting up, shutting down, in recovery),
// admin_shutdown and crash_shutdown. A server that does not answer at all
// is not refusing: acquisitions then fail at once, as they would without
// the gate.
func refusal(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "53300", "57P01", "57P02", "57P03":
			return true
		}
	}
	return false
}

// Unavailable reports whether err means the database could not take the
// work for now, rather than that the work is wrong: a connection it refused
// or could not open, or one it ended (a restart, an administrator). The
// answer to such a request is 503 with Retry-After, not 500.
func Unavailable(err error) bool {
	if refusal(err) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P"))
}

// sinceRounded is how long ago t was, for logs.
func sinceRounded(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
