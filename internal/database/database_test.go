package database_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/saasstarter/saas/db/schema"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestConcurrentMigrate: several instances starting at once against an empty
// database apply each migration exactly once (the advisory lock).
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name := "saas_test_migrate_" + randomSuffix(t)
	dbURL := testdb.URLFor(name)
	if err := database.EnsureExists(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(context.Background(), testdb.URLFor("postgres"))
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(context.Background())
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	// EnsureExists is idempotent.
	if err := database.EnsureExists(ctx, dbURL); err != nil {
		t.Fatalf("second EnsureExists: %v", err)
	}

	want, err := database.LatestVersion()
	if err != nil || want < 1 {
		t.Fatalf("LatestVersion = %d, %v", want, err)
	}
	const instances = 4
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := database.Open(ctx, dbURL, 2)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			got, err := database.Migrate(ctx, pool)
			if err == nil && got != want {
				t.Errorf("Migrate reported version %d, want %d", got, want)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	pool, err := database.Open(ctx, dbURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var applied int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Fatalf("%d migration rows recorded, want %d (each file applied once)", applied, len(files))
	}
	if err := database.Ready(ctx, pool, want); err != nil {
		t.Fatal(err)
	}
	if err := database.Ready(ctx, pool, want+1); err == nil {
		t.Fatal("Ready accepted a database behind the binary's migrations")
	}
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestPoolSize: the configured size applies unless DATABASE_URL sets
// pool_max_conns itself.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		url  string
		want int32
	}{
		{testdb.URLFor("postgres"), 4},
		{testdb.URLFor("postgres") + "&pool_max_conns=7", 7},
	} {
		pool, err := database.Open(ctx, c.url, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().MaxConns; got != c.want {
			t.Errorf("%s: MaxConns = %d, want %d", c.url, got, c.want)
		}
		pool.Close()
	}
}
