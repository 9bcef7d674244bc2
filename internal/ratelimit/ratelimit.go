// Package ratelimit limits API requests per user, machine or (for callers
// without an identity) client IP with a fixed window counted in PostgreSQL:
// atomic upserts, so every instance of the app on the same database shares
// the counters. Responses carry the RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset headers of the IETF draft; a caller over the limit gets
// 429 with Retry-After. Attempts counts refused machine-token requests per
// client IP for the auth package.
//
// With Config.LocalBatch, an instance writes a key's hits in batches: after
// its first write in a window, it counts up to LocalBatch further hits of
// the key in memory (for at most FlushAfter), deciding them on the count the
// database gave it plus its own, and writes them with the next hit. A client
// over the limit by that count is refused without a write. One instance
// decides exactly as with a write per hit; with several, a client can pass
// the limit by at most LocalBatch hits per other instance it reaches. That
// saves the write (a contended row lock, on one row per client) on almost
// every request of a busy client; small limits (LocalBatch 0) write every
// hit.
package ratelimit

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/web"
)

// Defaults of Config.
const (
	DefaultLimit  = 120
	DefaultWindow = time.Minute
)

// MsgLimited is the contract's 429 message.
const MsgLimited = auth.MsgRateLimited

// Response headers.
const (
	HeaderLimit      = "RateLimit-Limit"
	HeaderRemaining  = "RateLimit-Remaining"
	HeaderReset      = "RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// Config sets the limit. The zero value means DefaultLimit requests per
// DefaultWindow on the wall clock.
type Config struct {
	// Limit is the number of requests a subject may make per window.
	Limit int
	// Window is the length of a window; windows start at multiples of it
	// since the Unix epoch, so every instance agrees on them.
	Window time.Duration
	// Now is the clock; tests inject one to cross window boundaries without
	// sleeping.
	Now func() time.Time
	// LocalBatch is how many hits of a key an instance may count in memory
	// before it writes them (see the package comment); 0 writes every hit.
	// BatchFor gives the API's.
	LocalBatch int
}

// Local batching bounds.
const (
	// MaxLocalBatch caps Config.LocalBatch from BatchFor.
	MaxLocalBatch = 64
	// FlushAfter is the longest an instance keeps a key's hits unwritten.
	FlushAfter = time.Second
	// maxLocalKeys bounds the keys an instance counts in memory (a flood
	// from many addresses must not grow it without end); keys beyond it
	// are written hit by hit.
	maxLocalKeys = 10_000
)

// BatchFor is the LocalBatch for a limit: a sixteenth of it, at most
// MaxLocalBatch, so that several instances together pass a limit by little;
// limits under 16 get none.
func BatchFor(limit int) int {
	return min(limit/16, MaxLocalBatch)
}

func (c Config) withDefaults() Config {
	if c.Limit <= 0 {
		c.Limit = DefaultLimit
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Limiter counts requests. It is safe for concurrent use.
type Limiter struct {
	cfg    Config
	q      *store.Queries
	logger *slog.Logger

	mu    sync.Mutex
	local map[string]*local
	// written is signalled (with mu) whenever a key's write ends, for hits
	// waiting for it.
	written *sync.Cond
}

// local is what an instance knows of a key in one window.
type local struct {
	window time.Time
	// known is the key's count in the database (every instance's hits) at
	// this instance's last write; it only grows within a window.
	known int
	// pending hits were counted here and not written yet; inflight hits are
	// being written, by one write at a time (none when 0).
	pending, inflight int
	// written is when this instance last wrote the key (zero: not yet in
	// this window).
	written time.Time
}

// New returns a limiter over db.
func New(db store.DBTX, cfg Config, logger *slog.Logger) *Limiter {
	l := &Limiter{cfg: cfg.withDefaults(), q: store.New(db), logger: logger, local: map[string]*local{}}
	l.written = sync.NewCond(&l.mu)
	return l
}

// Result is the state of a subject's window after counting a request.
type Result struct {
	Limit     int
	Remaining int
	// Reset is how long until the window ends.
	Reset   time.Duration
	Allowed bool
}

// Hit counts one request for key and reports whether it is within the limit.
func (l *Limiter) Hit(ctx context.Context, key string) (Result, error) {
	now := l.cfg.Now()
	start := now.Truncate(l.cfg.Window)
	if l.cfg.LocalBatch <= 0 {
		return l.write(ctx, key, start, now, 1)
	}
	l.mu.Lock()
	st := l.localState(key, start)
	if st == nil { // too many keys in memory: this one is written hit by hit
		l.mu.Unlock()
		return l.write(ctx, key, start, now, 1)
	}
	// An instance writes a key one batch at a time. With two writes in
	// flight, the database could count the later one first, and hits
	// decided here on the earlier one's count would be placed after hits
	// the database had already allowed: more than the limit allowed. One at
	// a time, known plus what is being written is the database's count
	// exactly (for this instance's hits), and a hit that needs a write
	// while one is under way waits for it (one round trip).
	for {
		if !st.written.IsZero() {
			count := st.known + st.inflight + st.pending + 1
			if count > l.cfg.Limit || (st.pending < l.cfg.LocalBatch && now.Sub(st.written) < FlushAfter) {
				st.pending++
				l.mu.Unlock()
				return l.result(start, now, count), nil
			}
		}
		if st.inflight == 0 {
			break
		}
		l.written.Wait()
	}
	n := st.pending + 1
	st.pending = 0
	st.inflight = n
	l.mu.Unlock()

	res, hits, err := l.writeHits(ctx, key, start, now, n)

	l.mu.Lock()
	st.inflight = 0
	if err != nil {
		st.pending += n - 1 // written with a later hit
	} else {
		st.known = max(st.known, hits)
		st.written = now
	}
	l.written.Broadcast()
	l.mu.Unlock()
	return res, err
}

// localState is key's state for the window that starts at start, nil when
// the instance holds as many keys as it may. Callers hold l.mu.
func (l *Limiter) localState(key string, start time.Time) *local {
	st := l.local[key]
	if st != nil && st.window.Equal(start) {
		return st
	}
	if st == nil && len(l.local) >= maxLocalKeys {
		for k, old := range l.local { // keys of past windows go
			if !old.window.Equal(start) && old.inflight == 0 {
				delete(l.local, k)
			}
		}
		if len(l.local) >= maxLocalKeys {
			return nil
		}
	}
	// A new window starts from nothing: hits of the last one, written or
	// not, no longer count. A write of the last window still in flight
	// updates the state it started with, not this one.
	st = &local{window: start}
	l.local[key] = st
	return st
}

// write counts n hits of key in the database and decides the last of them.
func (l *Limiter) write(ctx context.Context, key string, start, now time.Time, n int) (Result, error) {
	res, _, err := l.writeHits(ctx, key, start, now, n)
	return res, err
}

// writeHits is write, returning the database's count too.
func (l *Limiter) writeHits(ctx context.Context, key string, start, now time.Time, n int) (Result, int, error) {
	row, err := l.q.HitRateLimit(ctx, store.HitRateLimitParams{
		Key: key, WindowStart: pgtype.Timestamptz{Time: start, Valid: true}, Hits: int32(n),
	})
	if err != nil {
		return Result{}, 0, err
	}
	hits := int(row.Hits)
	return l.result(row.WindowStart.Time, now, hits), hits, nil
}

// result is the state after a request counted as the hits-th of the window
// that starts at start.
func (l *Limiter) result(start, now time.Time, hits int) Result {
	reset := start.Add(l.cfg.Window).Sub(now)
	if reset < 0 {
		reset = 0
	}
	return Result{
		Limit:     l.cfg.Limit,
		Remaining: max(0, l.cfg.Limit-hits),
		Reset:     reset,
		Allowed:   hits <= l.cfg.Limit,
	}
}

// Key names the subject of a request: the signed-in user or the machine.
// Anonymous requests have no key here; AnonymousMiddleware counts them by
// client IP.
func Key(a *auth.Auth) string {
	switch {
	case a.Machine != nil:
		return "api:machine:" + a.Machine.ID
	case a.SignedIn():
		return "api:user:" + a.UserID
	}
	return ""
}

// Middleware limits the routes it wraps per subject and sets the headers on
// every response to a subject, errors included. When the database cannot
// count, the request is let through without headers: an outage of the
// limiter must not take the API down with it.
func (l *Limiter) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := Key(auth.From(c.Request().Context()))
			if key == "" {
				return next(c)
			}
			return l.count(c, key, next)
		}
	}
}

// count counts the request under key, sets the headers, and calls next
// unless the key is over its limit.
func (l *Limiter) count(c echo.Context, key string, next echo.HandlerFunc) error {
	res, err := l.Hit(c.Request().Context(), key)
	if err != nil {
		l.logger.Warn("rate limit not counted", "err", err)
		return next(c)
	}
	h := c.Response().Header()
	reset := strconv.Itoa(seconds(res.Reset))
	h.Set(HeaderLimit, strconv.Itoa(res.Limit))
	h.Set(HeaderRemaining, strconv.Itoa(res.Remaining))
	h.Set(HeaderReset, reset)
	if !res.Allowed {
		h.Set(HeaderRetryAfter, reset)
		return apperr.New(apperr.RateLimited, MsgLimited)
	}
	return next(c)
}

// AnonymousMiddleware limits /api requests that carry no identity (no
// session, no machine, not even a stale session of ours) per client IP, so
// a flood of unauthenticated calls is answered 429 rather than processed.
// Register it with e.Use after authentication and before the route policy,
// which would answer these requests 401 before any later middleware ran.
// The routes in exempt (the webhook: Svix authenticates it with its
// signature and may burst) are not counted.
func (l *Limiter) AnonymousMiddleware(exempt ...auth.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := auth.From(c.Request().Context())
			if !web.IsAPI(c) || a.SignedIn() || a.Machine != nil || a.Stale() || isRoute(c, exempt) {
				return next(c)
			}
			return l.count(c, "api:ip:"+ClientKey(c.RealIP()), next)
		}
	}
}

func isRoute(c echo.Context, routes []auth.Route) bool {
	for _, r := range routes {
		if c.Request().Method == r.Method && c.Path() == r.Path {
			return true
		}
	}
	return false
}

// ClientKey is the part of a client IP that a rate limit counts: the
// address for IPv4, the /64 network for IPv6, since one IPv6 subscriber
// commonly holds a whole /64 and could otherwise rotate through it.
func ClientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return addr.String()
	}
	return p.String()
}

// Attempts counts refused attempts per client IP (auth.AttemptLimiter):
// once a client has had Limit refusals in a window, it is blocked until the
// window ends. Successful attempts cost nothing.
type Attempts struct {
	l      *Limiter
	prefix string
}

// NewAttempts returns a counter of refused attempts over db; name tells its
// keys apart from other counters (e.g. "m2m").
func NewAttempts(db store.DBTX, name string, cfg Config, logger *slog.Logger) *Attempts {
	return &Attempts{l: New(db, cfg, logger), prefix: name + ":fail:"}
}

// Blocked reports whether the client at ip has used up its attempts in the
// current window, and how long until the window ends.
func (a *Attempts) Blocked(ctx context.Context, ip string) (time.Duration, bool, error) {
	now := a.l.cfg.Now()
	start := now.Truncate(a.l.cfg.Window)
	hits, err := a.l.q.PeekRateLimit(ctx, store.PeekRateLimitParams{
		Key: a.prefix + ClientKey(ip), WindowStart: pgtype.Timestamptz{Time: start, Valid: true},
	})
	if err != nil {
		return 0, false, err
	}
	return start.Add(a.l.cfg.Window).Sub(now), int(hits) >= a.l.cfg.Limit, nil
}

// Failed counts one refused attempt of the client at ip.
func (a *Attempts) Failed(ctx context.Context, ip string) error {
	_, err := a.l.Hit(ctx, a.prefix+ClientKey(ip))
	return err
}

// APIMiddleware is Middleware for the JSON API only: register it once with
// e.Use and every route under /api/, present and future (machine routes
// too), is limited, while pages and anonymous callers (the webhook) are not.
func (l *Limiter) APIMiddleware() echo.MiddlewareFunc {
	limit := l.Middleware()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		limited := limit(next)
		return func(c echo.Context) error {
			if web.IsAPI(c) {
				return limited(c)
			}
			return next(c)
		}
	}
}

// seconds rounds up, so a client that waits Reset seconds is in the next
// window; never 0 for a window that has not ended.
func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
