package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/auth/authtest"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestRouteInventory is A-02 on the real router: every route the app
// registers, for every method, refuses anonymous callers unless the
// contract lists it as public. A new route fails here until it is classified.
func TestRouteInventory(t *testing.T) {
	t.Parallel()
	a, err := app.New(context.Background(), testConfig(t, "http://localhost:8080"), testdb.Pool(t),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{}
	for _, r := range app.PublicRoutes {
		public[r.Method+" "+r.Path] = true
	}
	authtest.AnonymousDenied(t, a.Echo, func(method, path string) bool { return public[method+" "+path] })
}
