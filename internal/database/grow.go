package database

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
)

// After a failed connection attempt the placeholders wait retryBackoffMin,
// doubling up to retryBackoffMax while attempts keep failing; a connection
// that succeeds, or one that closes (PostgreSQL then has a slot free), ends
// the wait.
const (
	retryBackoffMin = 100 * time.Millisecond
	retryBackoffMax = 10 * time.Second
)

// errSurplus ends a placeholder the pool no longer needs.
var errSurplus = errors.New("database: connection placeholder no longer needed")

// growth is how the gate opens connections (guarded by gate.mu).
//
// A placeholder is an acquisition the gate makes itself. pgxpool finds no
// idle connection for it and starts opening one, in one of its MaxConns
// slots; the gate's BeforeConnect hook holds it there until its turn.
// Placeholders hold every slot without a connection, so pgxpool never opens
// a connection for anyone else: a request that finds the idle list empty
// waits in pgxpool's queue for the next release. (That happens: pgxpool
// reports a release to the gate before the connection is back in the idle
// list, so the acquisition admitted by that release can be a moment early.)
//
// While acquisitions wait, one placeholder at a time takes its turn: it
// opens and closes a trial connection of its own, outside the pool, and
// only when PostgreSQL accepted that one lets pgxpool connect, so a refusal
// never costs the slot (which pgxpool would give to a waiting request, whose
// own attempt would be refused in turn). The new connection goes to the
// idle list, where the acquisition admitted next takes it. After a failed
// attempt the next waits for the backoff.
//
// A placeholder entering the pool (at start, or after a connection closed)
// may be handed an idle connection instead of a slot. It keeps such
// connections out of everyone's count until it holds a slot, and admission
// waits meanwhile, so no request is admitted for them and none can take the
// slot.
type growth struct {
	placeholders int                // running
	entering     bool               // a placeholder is entering the pool: admission waits
	attempting   bool               // a placeholder is connecting
	wake         chan struct{}      // closed when parked placeholders should look again; nil if none waits
	entryWake    chan struct{}      // closed when placeholders may try to enter; nil if none waits
	handing      map[*pgx.Conn]bool // connections placeholders are releasing into the pool
	retryAt      time.Time
	backoff      time.Duration
	refused      bool      // PostgreSQL refused a connection: an episode is on
	lastOK       bool      // the last attempt during the episode succeeded
	since        time.Time // when it began
	refusals     int       // refused attempts since
}

// placeholderRun is a placeholder's state, in the context of its
// acquisitions.
type placeholderRun struct {
	entering bool            // it is entering the pool
	opened   bool            // its acquisition opened a new connection
	taken    []*pgxpool.Conn // idle connections it was handed while entering
}

type placeholderKey struct{}

func placeholderOf(ctx context.Context) *placeholderRun {
	run, _ := ctx.Value(placeholderKey{}).(*placeholderRun)
	return run
}

func isPlaceholder(ctx context.Context) bool { return placeholderOf(ctx) != nil }

// target is how many placeholders should run: one in every slot without a
// connection.
func (g *gate) target() int { return max(g.max-g.live, 0) }

// wantsConnection reports whether a placeholder should connect, once it is
// its turn and the backoff has passed: acquisitions wait, or the pool is
// below pool_min_conns.
func (g *gate) wantsConnection() bool {
	return (len(g.queue) > 0 || g.live < g.min) && g.live < g.max
}

// changed starts the placeholders the pool needs and wakes the waiting
// ones to look at the new state.
func (g *gate) changed() {
	for g.grow.placeholders < g.target() {
		g.grow.placeholders++
		go g.placeholder()
	}
	if g.grow.wake != nil {
		close(g.grow.wake)
		g.grow.wake = nil
	}
	g.wakeEntry()
}

func (g *gate) wakeEntry() {
	if g.grow.entryWake != nil {
		close(g.grow.entryWake)
		g.grow.entryWake = nil
	}
}

// wait releases g.mu until ch (one of the wake channels, made if nil) is
// closed, the timer fires or ctx ends.
func (g *gate) wait(ctx context.Context, ch *chan struct{}, timer <-chan time.Time) {
	if *ch == nil {
		*ch = make(chan struct{})
	}
	wake := *ch
	g.mu.Unlock()
	select {
	case <-wake:
	case <-timer:
	case <-ctx.Done():
	}
	g.mu.Lock()
}

// placeholder acquires through the pool until it is no longer needed.
func (g *gate) placeholder() {
	run := &placeholderRun{}
	ctx := context.WithValue(context.Background(), placeholderKey{}, run)
	for g.enter(run) {
		c, err := g.pool.Acquire(ctx)
		switch {
		case err == nil && !run.opened:
			// An idle connection, not a slot: kept out of everyone's count
			// until this placeholder holds a slot (see beforeConnect).
			g.mu.Lock()
			g.handingOver++
			g.mu.Unlock()
			run.taken = append(run.taken, c)
		case err == nil:
			run.opened = false
			g.handOver(c)
		case errors.Is(err, errSurplus):
			return // beforeConnect counted it out
		default:
			if !g.acquireFailed(run, err) {
				return
			}
		}
	}
}

// enter waits until the placeholder may enter the pool: it is still needed,
// no other placeholder is entering, and no admitted acquisition is on its
// way in (either could be handed an idle connection meant for the other).
// It reports false when the placeholder is no longer needed.
func (g *gate) enter(run *placeholderRun) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if run.entering {
		return true // still: it was handed an idle connection
	}
	for {
		if g.grow.placeholders > g.target() {
			g.grow.placeholders--
			return false
		}
		if !g.grow.entering && g.inFlight == 0 {
			g.grow.entering, run.entering = true, true
			return true
		}
		g.wait(context.Background(), &g.grow.entryWake, nil)
	}
}

// entered ends the placeholder's entry: it holds a slot (or gave up). The
// idle connections it was handed go back, and admission resumes.
func (g *gate) entered(run *placeholderRun) {
	for _, c := range run.taken {
		g.handOver(c)
	}
	run.taken = nil
	g.mu.Lock()
	defer g.mu.Unlock()
	if run.entering {
		run.entering, g.grow.entering = false, false
		g.admitQueued()
		g.wakeEntry()
	}
}

// handOver releases a connection a placeholder holds (one it opened, or
// one it was handed) into the pool's idle list, where the acquisition
// admitted next takes it.
func (g *gate) handOver(c *pgxpool.Conn) {
	conn := c.Conn()
	g.mu.Lock()
	g.grow.handing[conn] = true
	g.mu.Unlock()
	c.Release()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.grow.handing, conn)
	g.handingOver--
	g.admitQueued()
}

// acquireFailed handles a placeholder's failed acquisition and reports
// whether the placeholder goes on. A failed connection attempt freed its
// slot: it enters again (after a refusal) or first lets everyone waiting
// go ahead to meet the error and report it (after any other failure).
// Anything else means the pool is closed.
func (g *gate) acquireFailed(run *placeholderRun, err error) bool {
	g.entered(run)
	g.mu.Lock()
	defer g.mu.Unlock()
	if !refusal(err) {
		for len(g.queue) > 0 {
			g.admitHead()
		}
	}
	var connectErr *pgconn.ConnectError
	if !errors.As(err, &connectErr) {
		g.grow.placeholders--
		return false
	}
	return true
}

// beforeConnect holds a placeholder's connection attempt until its turn
// (acquisitions wait, no other placeholder is connecting, the backoff has
// passed) and a trial connection succeeded. Other attempts go ahead.
func (g *gate) beforeConnect(ctx context.Context, cfg *pgx.ConnConfig) error {
	run := placeholderOf(ctx)
	if run == nil {
		return nil
	}
	g.entered(run)
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if g.grow.placeholders > g.target() {
			g.grow.placeholders--
			return errSurplus
		}
		now := time.Now()
		wants := g.wantsConnection()
		if wants && !g.grow.attempting && !now.Before(g.grow.retryAt) {
			g.grow.attempting = true
			g.mu.Unlock()
			err := tryConnect(ctx, cfg)
			g.mu.Lock()
			if err == nil {
				return nil // the pool's own attempt follows at once
			}
			g.grow.attempting = false
			g.failed(err)
			if !refusal(err) {
				return err
			}
			continue
		}
		var retry *time.Timer
		var retryC <-chan time.Time
		if wants && !g.grow.attempting {
			retry = time.NewTimer(g.grow.retryAt.Sub(now))
			retryC = retry.C
		}
		g.wait(ctx, &g.grow.wake, retryC)
		if retry != nil {
			retry.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err() // the pool is closing
		}
	}
}

// tryConnect opens a connection with cfg, outside the pool and its
// tracer, and ends it.
func tryConnect(ctx context.Context, cfg *pgx.ConnConfig) error {
	trial := cfg.Copy()
	trial.Tracer = nil
	conn, err := pgx.ConnectConfig(ctx, trial)
	if err != nil {
		return err
	}
	closeAndWait(conn)
	return nil
}

// closeAndWait ends conn and waits until PostgreSQL closes the socket. A
// server process closes it only after leaving the shared state where
// connections are counted, so the slot the connection took is free again
// for the pool's own attempt. (pgx's Close does not wait for that.)
func closeAndWait(conn *pgx.Conn) {
	hc, err := conn.PgConn().Hijack()
	if err != nil {
		_ = conn.Close(context.Background())
		return
	}
	defer hc.Conn.Close()
	hc.Frontend.Send(&pgproto3.Terminate{})
	if err := hc.Frontend.Flush(); err != nil {
		return
	}
	_ = hc.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, hc.Conn)
}

// TraceConnectStart is part of pgx.ConnectTracer; the gate needs only the
// outcome.
func (g *gate) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return ctx
}

// TraceConnectEnd learns from every connection attempt the pool makes.
func (g *gate) TraceConnectEnd(ctx context.Context, data pgx.TraceConnectEndData) {
	run := placeholderOf(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	defer g.changed()
	if run != nil {
		g.grow.attempting = false
	}
	if data.Err == nil {
		g.live++
		if run != nil {
			run.opened = true
			g.handingOver++
		}
		g.grow.backoff, g.grow.retryAt = 0, time.Time{}
		g.grow.lastOK = true
		if g.live >= g.max {
			g.endEpisode()
		}
		return
	}
	g.failed(data.Err)
}

// failed learns from a failed connection attempt: the placeholders wait
// longer before the next, and a refusal starts an episode, logged once.
func (g *gate) failed(err error) {
	g.grow.lastOK = false
	g.grow.backoff = min(max(2*g.grow.backoff, retryBackoffMin), retryBackoffMax)
	g.grow.retryAt = time.Now().Add(g.grow.backoff)
	if !refusal(err) {
		return
	}
	if g.grow.refused {
		g.grow.refusals++
		g.logger.Debug("database refused a new connection again", "open", g.live, "retry_in", g.grow.backoff, "err", err)
		return
	}
	g.grow.refused, g.grow.since, g.grow.refusals = true, time.Now(), 1
	g.logger.Warn("database refused a new connection; requests wait for the pool's open connections",
		"open", g.live, "err", err)
}

// endEpisode ends an episode of refusals once PostgreSQL accepted as many
// connections as were wanted: the pool is full, or a connection succeeded
// and no acquisition waits.
func (g *gate) endEpisode() {
	if !g.grow.refused {
		return
	}
	g.grow.refused = false
	g.logger.Info("database accepts new connections again", "open", g.live,
		"refusals", g.grow.refusals, "after", sinceRounded(g.grow.since))
	g.changed()
}
