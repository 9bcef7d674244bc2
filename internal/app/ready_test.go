package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestReadyzFollowsTheDatabase: /readyz answers 503 while the database
// refuses connections and 200 again once it accepts them, with no restart.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.New(t)
	pool, err := database.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a, err := app.New(ctx, testConfig(t, "http://localhost:8080"), pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, testdb.URLFor("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	setAvailable := func(ok bool) {
		t.Helper()
		q := "ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " ALLOW_CONNECTIONS "
		if ok {
			q += "true"
		} else {
			q += "false"
		}
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		if !ok {
			if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	status := func() int {
		t.Helper()
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	if got := status(); got != http.StatusOK {
		t.Fatalf("before: /readyz = %d, want 200", got)
	}
	setAvailable(false)
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("database down: /readyz = %d, want 503", got)
	}
	if res, err := http.Get(srv.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("database down: /healthz should still be 200, got %v %v", res, err)
	}
	// Back again: the pool reconnects after its backoff (at most 10 s after
	// a refusal), so /readyz turns 200 within a few probes, as a load
	// balancer would see it.
	setAvailable(true)
	deadline := time.Now().Add(30 * time.Second)
	for got := status(); got != http.StatusOK; got = status() {
		if time.Now().After(deadline) {
			t.Fatalf("database back: /readyz = %d for 30 s, want 200", got)
		}
	}
}

// TestReadyzRequiresMigrations: a reachable but unmigrated database is not
// ready.
func TestReadyzRequiresMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testdb.URLFor("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := testdb.UniqueName("saas_test_unmigrated_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testdb.Drop(name); err != nil {
			t.Error(err)
		}
	})
	pool, err := database.Open(ctx, testdb.URLFor(name), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a, err := app.New(ctx, testConfig(t, "http://localhost:8080"), pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("unmigrated: /readyz = %d, want 503", res.StatusCode)
	}
	if _, err := database.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	res, err = http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("migrated: /readyz = %d, want 200", res.StatusCode)
	}
}
