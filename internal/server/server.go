// Package server builds the Echo instance with the request pipeline of
// DESIGN.md, wraps it in an http.Server with every timeout set, and runs it
// with a graceful, two-phase shutdown (drain.go).
package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/secure"
)

// Limits bound what one request may cost.
const (
	// BodyLimit caps request bodies (1 MiB); the webhook route applies the
	// same cap itself because it reads the raw body before anything else.
	BodyLimit int64 = 1 << 20
	// RequestTimeout is the deadline of a handler's context: database calls
	// made with it are cancelled when it passes.
	RequestTimeout = 20 * time.Second
	// MaxHeaderBytes leaves room for Clerk's cookies (a session token is
	// under 4 KB) and refuses the rest with 431.
	MaxHeaderBytes = 64 << 10
)

// Config is what the Echo pipeline needs.
type Config struct {
	Logger *slog.Logger
	Render *render.Renderer
	Secure secure.Config
	// Production switches on Secure cookies.
	Production bool
	// Authenticate puts the verified identity (or "signed out") on the
	// request; Policy denies by default what is not public; both are
	// optional so the pipeline can be built before identity is wired.
	Authenticate echo.MiddlewareFunc
	// Machine authenticates machine tokens on the machine routes.
	Machine echo.MiddlewareFunc
	Policy  echo.MiddlewareFunc
	// LogIdentity returns the user and organisation ids for the access log.
	LogIdentity func(c echo.Context) (user, org string)
	// CSRFExempt is the one route (method and template) that skips CSRF: the
	// webhook, which is authenticated by its signature instead.
	CSRFExempt Route
	// Instant lists route-template prefixes whose handlers do no I/O (the
	// liveness probe, embedded static files): they get no request deadline,
	// which for them would only cost a timer per request.
	Instant []string
	// Formless lists route-template prefixes whose responses never carry a
	// form (JSON, probes, static files). Safe requests to them get no CSRF
	// token, and so no token cookie: generating both for every probe and
	// API read cost more than the probe itself. Unsafe requests to them are
	// checked as everywhere else.
	Formless []string
	// Anonymous lists route-template prefixes that never need the caller's
	// identity (the probes, static files): Authenticate does not run there,
	// so they cost no token check and never send a browser through a
	// handshake, as Clerk's recommended middleware matcher leaves static
	// files out. Their requests are signed out for the rest of the chain.
	Anonymous []string
	// Quiet lists route-template prefixes whose successful answers are not
	// access-logged: the probes, which load balancers and orchestrators call
	// every few seconds per instance, and whose lines would drown the
	// requests of people. Their failures are logged; metrics count them all.
	Quiet []string
	// Inner, optional, runs last, just before the handler (the app's rate
	// limit of /api).
	Inner echo.MiddlewareFunc
	// Metrics, optional, measures every request. It runs just inside
	// RequestID and outside the access log, which hands errors to the error
	// handler, so it sees each response's final status.
	Metrics echo.MiddlewareFunc
}

// Route is a method and a route template, as Echo reports them in c.Path().
type Route struct {
	Method string
	Path   string
}

// NewEcho returns an Echo instance with the middleware pipeline and no
// routes: Recover → RequestID → metrics → access log → security headers →
// body limit → request timeout → authentication → machine authentication →
// route policy → CSRF → Config.Inner. The chain is built once (composed).
func NewEcho(cfg Config) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// The socket peer is the client. Behind a load balancer, replace this
	// with echo.ExtractIPFromXFFHeader(echo.TrustIPRange(<lb range>)); never
	// trust X-Forwarded-For from anyone.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = cfg.Render.ErrorHandler(cfg.Logger)

	mws := []echo.MiddlewareFunc{
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				cfg.Logger.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
					"err", err, "stack", string(stack))
				return err
			},
		}),
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: requestIDs()}),
		cfg.Metrics,
		accessLog(cfg.Logger, cfg.LogIdentity, cfg.Quiet),
		secure.Headers(cfg.Secure),
		bodyLimit(BodyLimit),
		middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
			Timeout: RequestTimeout,
			Skipper: func(c echo.Context) bool { return routes.UnderAny(c.Path(), cfg.Instant) },
		}),
		skipUnder(cfg.Anonymous, cfg.Authenticate),
		cfg.Machine,
		cfg.Policy,
		csrf(cfg),
		cfg.Inner,
	}
	e.Use(composed(mws))
	return e
}

// skipUnder runs mw except on the routes under prefixes (route templates).
func skipUnder(prefixes []string, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	if mw == nil || len(prefixes) == 0 {
		return mw
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := mw(next)
		return func(c echo.Context) error {
			if routes.UnderAny(c.Path(), prefixes) {
				return next(c)
			}
			return h(c)
		}
	}
}

// composed returns the middlewares (nil ones left out) as one Use
// middleware whose chain is built once, around the route's handler.
//
// Echo v4 builds the chain of Use middlewares anew on every request: it calls
// each constructor with the next handler, and each returns a new closure. For
// this pipeline that was a dozen allocations and a few percent of a probe's
// CPU. The chain built here calls the handler Echo's router found
// (c.Handler()), which is the handler Echo passes in as next as long as this
// is the only Use middleware: add middleware through Config, never with
// e.Use (TestPipelineIsOneMiddleware in internal/app checks).
func composed(mws []echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(mws) - 1; i >= 0; i-- {
		if mws[i] != nil {
			h = mws[i](h)
		}
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// csrf checks unsafe methods: Sec-Fetch-Site first (same-origin passes,
// cross-site is refused), then the token from the X-CSRF-Token header (htmx)
// or the _csrf form field (plain forms). The exempt route is matched by its
// template, never by a prefix of the raw path.
func csrf(cfg Config) echo.MiddlewareFunc {
	name := "_csrf"
	if cfg.Production {
		name = "__Host-csrf"
	}
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			method := c.Request().Method
			if method == cfg.CSRFExempt.Method && c.Path() == cfg.CSRFExempt.Path {
				return true
			}
			if (method == http.MethodGet || method == http.MethodHead) && routes.UnderAny(c.Path(), cfg.Formless) {
				return true
			}
			// A request carrying a bearer token was authenticated by that
			// header, not by cookies. A cross-site page cannot make a browser
			// send one (custom headers need a CORS preflight, which the app
			// never grants), so such requests are not forgeable: API clients
			// and machine jobs need no CSRF token.
			return hasBearer(c.Request())
		},
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		ContextKey:     render.CSRFContextKey,
		CookieName:     name,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.Production,
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   86400,
	})
}

// bodyLimit refuses a declared length over limit at once and caps every
// body at limit bytes with http.MaxBytesReader. (Echo's BodyLimit reader can
// hand a decoder the bytes that cross the limit along with its error, so a
// JSON value completed by them decodes; MaxBytesReader never returns them.)
// Reading past the cap yields *http.MaxBytesError, which the error handler
// answers with 413.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return echo.ErrStatusRequestEntityTooLarge
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}

// hasBearer reports whether the request carries an Authorization header
// with the Bearer scheme (any case, as the auth middleware accepts).
func hasBearer(r *http.Request) bool {
	h := r.Header.Get(echo.HeaderAuthorization)
	return len(h) > 7 && strings.EqualFold(h[:7], "bearer ")
}

// accessLog writes one structured line per request, but for successful
// answers under the quiet prefixes.
func accessLog(logger *slog.Logger, identity func(echo.Context) (string, string), quiet []string) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogMethod:    true,
		LogURIPath:   true,
		LogRoutePath: true,
		LogLatency:   true,
		LogRequestID: true,
		LogRemoteIP:  true,
		HandleError:  true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			if v.Status < http.StatusBadRequest && routes.UnderAny(v.RoutePath, quiet) {
				return nil
			}
			// Room for the identity too: the line is built once per
			// request, so it should not grow its slice halfway.
			attrs := make([]slog.Attr, 0, 9)
			attrs = append(attrs,
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.String("route", v.RoutePath),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency),
				slog.String("ip", v.RemoteIP),
			)
			if identity != nil {
				if user, org := identity(c); user != "" {
					attrs = append(attrs, slog.String("user", user), slog.String("org", org))
				}
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			logger.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// Handler routes /__clerk/* to mounted (the emulator in emulator mode) and
// everything else to the app. The emulator stands in for Clerk's own servers,
// so it sits beside the app's pipeline, not inside it. No path cleaning
// happens here: Echo's router sees the request exactly as sent.
//
// Responses of either are gzip-compressed for clients that accept it once
// they pass 1 KiB. The compressor is taken only then: Echo's gzip
// middleware reset one for every request of a client that accepts gzip,
// which was a fifth of the CPU of webhook ingest, whose answers are a few
// bytes. The compressed length carries random jitter, so that a page that
// reflects input beside a secret (a CSRF token) does not reveal the secret
// through its length (BREACH).
func Handler(app http.Handler, mountPath string, mounted http.Handler) http.Handler {
	if mounted == nil {
		return compress(app)
	}
	return compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == mountPath || strings.HasPrefix(r.URL.Path, mountPath+"/") {
			mounted.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	}))
}

// compress wraps a handler in gzhttp with the options Handler describes.
var compress = func() func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(1024),
		// gzip only: every client takes it, and a pooled zstd encoder
		// holds megabytes (16 connections accepting zstd added 15 MB to
		// the process's peak RSS, gzip 9 MB).
		gzhttp.EnableZstd(false),
		gzhttp.RandomJitter(32, 0, false),
		// Handlers set their content types; nothing is sniffed.
		gzhttp.SetContentType(false),
	)
	if err != nil {
		panic("server: gzhttp options: " + err.Error())
	}
	return wrap
}()

// NewHTTPServer returns an http.Server with every timeout set: without them a
// slow client can hold a connection (and a goroutine) forever.
func NewHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      RequestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// requestIDs returns a generator of request ids: a random prefix chosen at
// start-up and a counter. An id must be unique (it ties a response to its
// log line), not unpredictable: it is no secret, it is sent to the client.
// A counter costs an atomic add where a random id per request reads
// crypto/rand, and the ids of one process sort in order.
func requestIDs() func() string {
	var prefix [8]byte
	_, _ = rand.Read(prefix[:])
	p := hex.EncodeToString(prefix[:]) + "-"
	var n atomic.Uint64
	return func() string {
		b := make([]byte, 0, len(p)+13)
		b = append(b, p...)
		return string(strconv.AppendUint(b, n.Add(1), 36))
	}
}
