package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/saasstarter/saas/internal/metrics"
)

func newEcho(m *metrics.Metrics) *echo.Echo {
	e := echo.New()
	e.Use(m.Middleware())
	e.GET("/projects/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/limited", func(c echo.Context) error {
		return echo.NewHTTPError(http.StatusTooManyRequests, "Rate limited")
	})
	e.POST("/hook", func(c echo.Context) error { return c.NoContent(http.StatusUnauthorized) })
	return e
}

func serve(e *echo.Echo, method, path string) {
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
}

// scrape returns the exposition text of m's registry.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, metrics.Path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", metrics.Path, rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestRequestsAreLabelledByRouteTemplate(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{WebhookRoute: "/hook"})
	e := newEcho(m)
	serve(e, http.MethodGet, "/projects/1")
	serve(e, http.MethodGet, "/projects/2")
	serve(e, http.MethodGet, "/no/such/path/"+strings.Repeat("x", 100))
	serve(e, "BREW", "/projects/3")
	out := scrape(t, m)
	for _, want := range []string{
		`http_request_duration_seconds_count{method="GET",route="/projects/:id",status="2xx"} 2`,
		`http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 1`,
		`http_request_duration_seconds_count{method="OTHER",route="/projects/:id",status="4xx"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, "/projects/1") || strings.Contains(out, "xxxxx") {
		t.Error("a raw request path became a label")
	}
}

func TestErrorsAreCountedWithTheirStatus(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{WebhookRoute: "/hook"})
	e := newEcho(m)
	serve(e, http.MethodGet, "/limited")
	serve(e, http.MethodGet, "/limited")
	serve(e, http.MethodPost, "/hook")
	out := scrape(t, m)
	for _, want := range []string{
		`rate_limited_requests_total{route="/limited"} 2`,
		`webhook_deliveries_total{status="401"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/limited",status="4xx"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

func TestVerifyCacheCounters(t *testing.T) {
	t.Parallel()
	hits, misses := uint64(0), uint64(0)
	m := metrics.New(metrics.Options{VerifyCache: func() (uint64, uint64) { return hits, misses }})
	hits, misses = 9, 1
	n, err := testutil.GatherAndCount(m.Registry(), "auth_token_cache_hits_total", "auth_token_cache_misses_total")
	if err != nil || n != 2 {
		t.Fatalf("cache counters: %d series, %v", n, err)
	}
	out := scrape(t, m)
	if !strings.Contains(out, "auth_token_cache_hits_total 9") || !strings.Contains(out, "auth_token_cache_misses_total 1") {
		t.Errorf("cache counters not exported:\n%s", out)
	}
}

func TestHandlerServesOnlyMetrics(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ = %d, want 404", rec.Code)
	}
}
