// Package testdb gives each test its own PostgreSQL database, cloned from a
// template that is migrated once per schema version, and dropped when the test
// ends. Tests talk to a real server: by default the local one on
// 127.0.0.1:5432; TEST_DATABASE_URL points elsewhere.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/schema"
	"github.com/saasstarter/saas/internal/database"
)

// serverURL returns the URL of the test server's maintenance database.
func serverURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// URLFor returns the server URL with the database name replaced.
func URLFor(name string) string {
	u, err := url.Parse(serverURL())
	if err != nil {
		panic(fmt.Sprintf("TEST_DATABASE_URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

// connect opens one connection to the test server's maintenance database.
// TEST_DATABASE_URL may carry pool parameters (pool_max_conns, …) for the
// tests' pools; they are not sent on this plain connection.
func connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := database.ConnConfig(serverURL())
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// templateName is derived from the migrations' content, so a schema change
// makes a new template and stale ones are never reused.
func templateName() (string, error) {
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(schema.FS, f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	return "saas_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// templateLockID serialises template creation across test processes: go test
// runs packages in parallel, and each may be the first to need the template.
const templateLockID int64 = 4_224_901_314

func ensureTemplate(ctx context.Context, admin *pgx.Conn) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockID); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLockID) //nolint:errcheck // released with the session anyway

	var ready bool
	err = admin.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	if err == nil && ready {
		return name, nil
	}
	if err == nil { // left half-made by an interrupted run
		if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return "", err
		}
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := database.Open(ctx, URLFor(name), 2)
	if err != nil {
		return "", err
	}
	_, err = database.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, "UPDATE pg_database SET datistemplate = true WHERE datname = $1", name); err != nil {
		return "", err
	}
	return name, nil
}

// New creates a fresh, migrated database for t and returns its URL. The
// database is dropped when the test and its subtests finish.
func New(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := connect(ctx)
	if err != nil {
		t.Fatalf("testdb: connect to PostgreSQL at %s (is it running?): %v", serverURL(), err)
	}
	defer admin.Close(context.Background())

	tmpl, err := ensureTemplate(ctx, admin)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "saas_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize()); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx)
		if err != nil {
			t.Errorf("testdb: connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return URLFor(name)
}

// Pool is New plus an open pool that is closed before the database is dropped.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := New(t)
	pool, err := database.Open(context.Background(), dbURL, 8)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
