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
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
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
	return Clone(t, "")
}

// Clone creates a database for t as a copy of template (a database made
// with Create, which no one is connected to; "" is the migrated template)
// and returns its URL. It is dropped when the test and its subtests finish.
func Clone(t testing.TB, template string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name, err := create(ctx, template)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if !deferDrop(name) {
		t.Cleanup(func() {
			if err := Drop(name); err != nil {
				t.Errorf("testdb: %v", err)
			}
		})
	}
	return URLFor(name)
}

// dropped holds the databases to drop when the package's tests are done
// (Main). PostgreSQL makes every DROP DATABASE wait for a checkpoint; one per
// test, while other tests keep writing, turned the checkpointer into the
// suite's bottleneck. Dropped together at the end, after the writes have
// stopped, the checkpoints have next to nothing to flush.
var dropped struct {
	sync.Mutex
	atEnd bool
	names []string
}

// deferDrop records name for Main to drop, and reports false when the
// package does not run its tests through Main (the caller drops it then).
func deferDrop(name string) bool {
	dropped.Lock()
	defer dropped.Unlock()
	if dropped.atEnd {
		dropped.names = append(dropped.names, name)
	}
	return dropped.atEnd
}

// Main runs a package's tests, then runs after (shutting down what the tests
// shared, so nothing holds a connection) and drops every database the tests
// made. Call it from TestMain: os.Exit(testdb.Main(m)). Without it each
// test's database is dropped when the test ends, which is slower.
func Main(m *testing.M, after ...func()) int {
	dropped.Lock()
	dropped.atEnd = true
	dropped.Unlock()
	code := m.Run()
	for _, f := range after {
		f()
	}
	dropped.Lock()
	names := dropped.names
	dropped.names = nil
	dropped.Unlock()
	// Concurrent drops share checkpoints: PostgreSQL's checkpointer serves
	// every request that is waiting when it starts with one checkpoint.
	// A few at a time: PostgreSQL's connection limit is shared with
	// whatever else runs against the server.
	var wg sync.WaitGroup
	var mu sync.Mutex
	slots := make(chan struct{}, 4)
	for _, name := range names {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := Drop(name); err != nil {
				mu.Lock()
				fmt.Fprintln(os.Stderr, "testdb:", err)
				code = max(code, 1)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return code
}

// Create makes a migrated database that no test owns and returns its name:
// a package fills it once (say, with seeded data) and passes the name to
// Clone for each test. It is dropped by Main when the package's tests are
// done, so only packages whose TestMain uses Main may call it.
func Create(ctx context.Context) (string, error) {
	name, err := create(ctx, "")
	if err == nil && !deferDrop(name) {
		_ = Drop(name)
		return "", errors.New("testdb.Create needs the package's TestMain to run testdb.Main")
	}
	return name, err
}

func create(ctx context.Context, template string) (string, error) {
	admin, err := connect(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL at %s (is it running?): %w", serverURL(), err)
	}
	defer admin.Close(context.Background())
	if template == "" {
		if template, err = ensureTemplate(ctx, admin); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "saas_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	// A test database is dropped within seconds: waiting for every commit
	// to reach the disk buys nothing, and with dozens of tests committing at
	// once on a shared disk it is most of their run time. Every connection
	// to this database (the app's pools, the emulator's) inherits it.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" SET synchronous_commit = off"); err != nil {
		return "", fmt.Errorf("configure %s: %w", name, err)
	}
	return name, nil
}

// Drop drops a database made by Create or Clone, disconnecting its users.
func Drop(name string) error {
	// Generous: on a machine busy with the rest of the suite a drop waits
	// for a checkpoint, and a drop that gives up fails the package.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	return nil
}

// Pool is New plus an open pool that is closed before the database is dropped.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return ClonePool(t, "")
}

// ClonePool is Clone plus an open pool that is closed before the database
// is dropped.
func ClonePool(t testing.TB, template string) *pgxpool.Pool {
	t.Helper()
	dbURL := Clone(t, template)
	pool, err := database.Open(context.Background(), dbURL, 4)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
