package database_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestPoolWaitsForConnectionsPostgreSQLAllows: a pool of 8 for a role
// allowed 1 connection serves 32 concurrent queries that arrive while the
// connection is busy: PostgreSQL refuses the pool a second one, and the
// queries wait for the first instead of failing. The refusal is logged
// once.
func TestPoolWaitsForConnectionsPostgreSQLAllows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const refusal = "database refused a new connection;"
	var (
		logMu   sync.Mutex
		logs    bytes.Buffer
		refused = make(chan struct{})
	)
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		if strings.Contains(string(p), refusal) && !strings.Contains(logs.String(), refusal) {
			close(refused)
		}
		return logs.Write(p)
	}), nil))
	pool, err := database.Open(ctx, testdb.NewLimited(t, 1), 8, database.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	busy, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const queries = 32
	errs := make(chan error, queries)
	for range queries {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			var one int
			errs <- pool.QueryRow(ctx, "SELECT 1").Scan(&one)
		}()
	}
	select {
	case <-refused:
	case <-time.After(time.Minute):
		t.Fatal("PostgreSQL never refused the pool a second connection")
	}
	busy.Release()
	for range queries {
		if err := <-errs; err != nil {
			t.Errorf("query: %v", err)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), refusal); n != 1 {
		t.Errorf("the refusal was logged %d times, want once\n%s", n, logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPoolReportsOtherConnectErrors: an error that is not a refusal (here,
// a database that does not exist) reaches the caller at once, not after its
// deadline.
func TestPoolReportsOtherConnectErrors(t *testing.T) {
	t.Parallel()
	pool, err := database.Open(context.Background(), testdb.URLFor(testdb.UniqueName("saas_test_missing_")), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = pool.Ping(ctx)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		t.Fatalf("Ping = %v, want PostgreSQL's invalid_catalog_name", err)
	}
	if !database.Unavailable(err) {
		t.Error("a failed connection is not reported as the database being unavailable")
	}
}

// TestPoolClosesWhileGrowing: Close returns while the pool still has slots
// without connections (the gate's placeholders hold them).
func TestPoolClosesWhileGrowing(t *testing.T) {
	t.Parallel()
	pool, err := database.Open(context.Background(), testdb.New(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { pool.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close did not return")
	}
}
