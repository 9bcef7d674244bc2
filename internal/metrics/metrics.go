// Package metrics exposes the app's Prometheus metrics: request duration by
// method, route template and status class, webhook outcomes, rate-limit
// refusals and the token-verification cache. They live in the app's own
// registry rather than Prometheus's global one, so that several apps in one
// test process do not collide, and cmd/web serves them on a separate
// listener that the public load balancer never routes to.
package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics listener serves the exposition format.
const Path = "/metrics"

// Unmatched is the route label of requests that matched no route. Labels
// only ever hold registered route templates, never a raw path, so a scan of
// random URLs cannot grow the number of series.
const Unmatched = "unmatched"

// Options configure what is measured.
type Options struct {
	// WebhookRoute is the route template of the Clerk webhook endpoint; its
	// answers are counted by status as webhook outcomes (2xx applied or
	// ignored, 400 malformed, 401 bad signature, 413 too large, 5xx retried
	// by Svix).
	WebhookRoute string
	// VerifyCache, when set, reports the cumulative hits and misses of the
	// session-token verification cache; the hit ratio is
	// rate(hits) / (rate(hits) + rate(misses)).
	VerifyCache func() (hits, misses uint64)
}

// Metrics holds the collectors. Create one per app with New.
type Metrics struct {
	reg      *prometheus.Registry
	webhook  string
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
	limited  *prometheus.CounterVec
}

// New registers the app's collectors, plus the Go runtime and process
// collectors, in a fresh registry.
func New(opts Options) *Metrics {
	m := &Metrics{
		reg:     prometheus.NewRegistry(),
		webhook: opts.WebhookRoute,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by method, route template and status class.",
			// From cache-hit API calls (well under a millisecond) to the
			// request timeout (20 s).
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"method", "route", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_deliveries_total",
			Help: "Clerk webhook deliveries answered, by HTTP status.",
		}, []string{"status"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rate_limited_requests_total",
			Help: "Requests refused with 429 by the rate limiter, by route template.",
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.duration, m.webhooks, m.limited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.VerifyCache != nil {
		stats := opts.VerifyCache
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "auth_token_cache_hits_total",
				Help: "Session tokens answered from the verification cache (no cryptography).",
			}, func() float64 { h, _ := stats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "auth_token_cache_misses_total",
				Help: "Session tokens that had to be verified (signature and claims).",
			}, func() float64 { _, miss := stats(); return float64(miss) }),
		)
	}
	return m
}

// Registry is where other packages may register their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics at Path and 404 elsewhere. It is meant for the
// private metrics listener, never for the app's public one.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	return mux
}

// Middleware measures every request. It belongs just inside RequestID and
// outside the access log: the access log hands errors to the error handler,
// so by the time this middleware sees the response its status is final.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			begin := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				status = statusOf(err)
			}
			route := c.Path()
			if route == "" {
				route = Unmatched
			}
			m.duration.WithLabelValues(method(c.Request().Method), route, statusClass(status)).
				Observe(time.Since(begin).Seconds())
			if status == http.StatusTooManyRequests {
				m.limited.WithLabelValues(route).Inc()
			}
			if m.webhook != "" && route == m.webhook {
				m.webhooks.WithLabelValues(strconv.Itoa(status)).Inc()
			}
			return err
		}
	}
}

// statusOf is the status an error will be answered with when no middleware
// inside has written the response yet.
func statusOf(err error) int {
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code >= 100 && he.Code <= 599 {
		return he.Code
	}
	return http.StatusInternalServerError
}

// statusClass turns 404 into "4xx".
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return statusClasses[status/100-1]
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// method keeps the label set bounded: clients may send any method name.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
