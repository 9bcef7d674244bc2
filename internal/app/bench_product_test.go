package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/ratelimit"
)

// BenchmarkDashboard renders the active organisation's dashboard through the
// whole pipeline in process (token verification from the cache, one
// membership-joined statement, templ), and /api/org beside it.
func BenchmarkDashboard(b *testing.B) {
	// A limit that never trips: the limiter still counts every request.
	ta := start(b, app.Options{RateLimit: ratelimit.Config{Limit: 1 << 30}})
	ta.synced(b)
	tok := sessionToken(b, ta.Server, "alice@acme.test", "")
	for _, path := range []string{"/healthz", "/dashboard", "/api/org"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				ta.App.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
