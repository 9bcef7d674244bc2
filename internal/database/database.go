// Package database opens the PostgreSQL pool, creates the development
// database when it is missing, applies the embedded migrations under an
// advisory lock, and answers readiness checks.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/saasstarter/saas/db/schema"
)

// Options adjust Open.
type Options struct {
	// Logger receives the pool's reports; default slog.Default().
	Logger *slog.Logger
}

// Open returns a pool for databaseURL with at most maxConns connections.
// Pool parameters in the URL (pool_max_conns, pool_max_conn_idle_time, …)
// win over the defaults set here, and pgxpool takes them out of what it
// sends to PostgreSQL. It does not wait for the database: the pool connects
// lazily, so the process can start (and answer /readyz with 503) while
// PostgreSQL is still coming up.
//
// The pool grows only as far as PostgreSQL accepts connections: when it
// refuses one (a connection limit, a restart), acquisitions wait for the
// open connections within their context's deadline instead of failing (see
// gate), and Options.Logger gets one line when that starts and one when it
// ends.
func Open(ctx context.Context, databaseURL string, maxConns int32, opts ...Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	set, err := poolParams(databaseURL)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 && !set["pool_max_conns"] {
		cfg.MaxConns = maxConns
	}
	if !set["pool_max_conn_idle_time"] {
		cfg.MaxConnIdleTime = 5 * time.Minute
	}
	if !set["pool_health_check_period"] {
		cfg.HealthCheckPeriod = 15 * time.Second
	}
	// A statement that runs longer than this is a bug or an outage; failing it
	// frees the connection and lets the caller answer with an error.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "10000"
	cfg.ConnConfig.RuntimeParams["application_name"] = "saas-web"
	logger := slog.Default()
	if len(opts) > 0 && opts[0].Logger != nil {
		logger = opts[0].Logger
	}
	g := newGate(cfg, logger)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.pool = pool
	g.changed() // the placeholders take the free slots
	g.mu.Unlock()
	return pool, nil
}

// poolParams reports which pgxpool parameters (pool_*) databaseURL sets.
// pgxpool.ParseConfig consumes them without saying which were present, so
// the URL is parsed once more without the pool's help.
func poolParams(databaseURL string) (map[string]bool, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	set := map[string]bool{}
	for k := range cfg.RuntimeParams {
		if strings.HasPrefix(k, "pool_") {
			set[k] = true
		}
	}
	return set, nil
}

// ConnConfig is the configuration of a single connection (not a pool) to
// databaseURL. Pool parameters are left out: PostgreSQL would refuse them as
// unknown settings ("unrecognized configuration parameter pool_max_conns").
// Use it for every connection made outside the pool.
func ConnConfig(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	return cfg.ConnConfig, nil
}

// EnsureExists creates the database named in databaseURL if it does not exist,
// connecting to the server's "postgres" database to do so. It is used in
// development and tests only: production databases are provisioned.
func EnsureExists(ctx context.Context, databaseURL string) error {
	cfg, err := ConnConfig(databaseURL)
	if err != nil {
		return err
	}
	name := cfg.Database
	if name == "" {
		return errors.New("DATABASE_URL names no database")
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created by a concurrent process
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	slog.Info("created database", "name", name)
	return nil
}

// migrationsLockID is the advisory lock key held while migrating, so that
// several instances starting at once apply each migration exactly once.
const migrationsLockID int64 = 4_224_901_313

// provider returns a goose provider over the embedded migrations.
func provider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationsLockID))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, schema.FS, goose.WithSessionLocker(locker))
}

// Migrate applies every pending migration under the advisory lock and returns
// the resulting schema version.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		slog.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return p.GetDBVersion(ctx)
}

// LatestVersion is the highest migration version embedded in the binary.
func LatestVersion() (int64, error) {
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, f := range files {
		v, err := goose.NumericComponent(f)
		if err != nil {
			return 0, err
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// Ready reports nil when the database answers and every embedded migration is
// applied. It reads goose's version table directly: one cheap query, no lock.
func Ready(ctx context.Context, pool *pgxpool.Pool, want int64) error {
	var got int64
	err := pool.QueryRow(ctx,
		"SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&got)
	if err != nil {
		return fmt.Errorf("database not ready: %w", err)
	}
	if got < want {
		return fmt.Errorf("database at migration %d, want %d", got, want)
	}
	return nil
}
