// Package ratelimit limits API requests per user, machine or (for callers
// without an identity) client IP with a fixed window counted in PostgreSQL:
// one atomic upsert per request, so every instance of the app on the same
// database shares the counters. Responses carry the RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset headers of the IETF draft; a
// caller over the limit gets 429 with Retry-After. Attempts counts refused
// machine-token requests per client IP for the auth package.
package ratelimit

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
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
}

// New returns a limiter over db.
func New(db store.DBTX, cfg Config, logger *slog.Logger) *Limiter {
	return &Limiter{cfg: cfg.withDefaults(), q: store.New(db), logger: logger}
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
	row, err := l.q.HitRateLimit(ctx, store.HitRateLimitParams{
		Key: key, WindowStart: pgtype.Timestamptz{Time: start, Valid: true},
	})
	if err != nil {
		return Result{}, err
	}
	hits := int(row.Hits)
	reset := row.WindowStart.Time.Add(l.cfg.Window).Sub(now)
	if reset < 0 {
		reset = 0
	}
	return Result{
		Limit:     l.cfg.Limit,
		Remaining: max(0, l.cfg.Limit-hits),
		Reset:     reset,
		Allowed:   hits <= l.cfg.Limit,
	}, nil
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
