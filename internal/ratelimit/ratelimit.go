// Package ratelimit limits API requests per user or machine with a fixed
// window counted in PostgreSQL: one atomic upsert per request, so every
// instance of the app on the same database shares the counters. Responses
// carry the RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers
// of the IETF draft; a caller over the limit gets 429 with Retry-After.
package ratelimit

import (
	"context"
	"log/slog"
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
const MsgLimited = "Rate limited"

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
// Anonymous requests have no key (the route policy answers them first).
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
	}
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
