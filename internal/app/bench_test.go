package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/testdb"
)

// BenchmarkLandingPage renders / through the whole middleware pipeline
// (request id, access log, security headers and nonce, gzip, body limit,
// timeout, CSRF, templ rendering into a buffer).
func BenchmarkLandingPage(b *testing.B) {
	pool := testdb.Pool(b)
	a, err := app.New(context.Background(), testConfig(b, "http://localhost:8080"), pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
