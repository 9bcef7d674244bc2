// Command web is the application: `web` (or `web serve`) runs the server,
// `web migrate` applies the database migrations and exits,
// `web reconcile` repairs drift between Clerk and the database, and
// `web export-identities` / `web import-identities` write the identity
// file and map a new identity provider's ids onto the database
// (docs/MIGRATION.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/logging"
	"github.com/saasstarter/saas/internal/metrics"
	"github.com/saasstarter/saas/internal/server"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts the shutdown, a second one ends the
	// process at once (Go's default for SIGINT and SIGTERM).
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

// gcPercent is the collector's target unless GOGC says otherwise. The app's
// live heap is a few MiB and nearly everything a request allocates dies with
// it, so collecting at 5× the live heap instead of Go's 2× spends far less
// CPU on the collector for little memory: measured under wrk, server CPU per
// /healthz request fell by a third and the process stayed near 60 MiB
// (docs/PERFORMANCE.md). GOMEMLIMIT, when set, still caps the heap.
const gcPercent = 400

// tuneGC applies gcPercent unless the environment sets GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// run is main without the process: arguments, environment and log output are
// passed in, so tests can drive it.
func run(ctx context.Context, args []string, getenv config.Getenv, logOut io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	out := logging.NewWriter(logOut, logging.FlushInterval)
	defer out.Close()
	logger := logging.New(out, cfg.Production())
	slog.SetDefault(logger)

	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger)
	case "migrate":
		pool, err := openMigrated(ctx, cfg)
		if err != nil {
			return err
		}
		pool.Close()
		return nil
	case "reconcile":
		return reconcile(ctx, cfg, logger)
	case "export-identities":
		return exportIdentities(ctx, cfg, args[1:], logger)
	case "import-identities":
		return importIdentities(ctx, cfg, args[1:], os.Stdout)
	case "seed-large":
		return seedLarge(ctx, cfg, args[1:], logger)
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, reconcile, export-identities, import-identities or seed-large)", cmd)
	}
}

// listenMetrics opens the metrics listener, or returns nil when metrics are
// off. Outside production a taken port (a second instance, a local
// Prometheus on its default 9090) is not worth refusing to start over: the
// app logs it and runs without metrics.
func listenMetrics(cfg config.Config, logger *slog.Logger) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	mln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err == nil {
		return mln, nil
	}
	if cfg.MetricsRequired {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w (METRICS_ADDR=off disables metrics)", cfg.MetricsAddr, err)
	}
	logger.Warn("metrics off: their listener could not start (set METRICS_ADDR to another address, or off)",
		"addr", cfg.MetricsAddr, "err", err)
	return nil, nil
}

// openDatabase opens the pool, creating the database first outside
// production so a fresh machine needs no setup.
func openDatabase(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	if !cfg.Production() {
		if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
			return nil, err
		}
	}
	return database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
}

// openMigrated opens the pool and applies pending migrations (under the
// advisory lock, so instances starting together do not race).
func openMigrated(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	v, err := database.Migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	slog.Info("database migrated", "version", v)
	return pool, nil
}

// reconcile pages through Clerk's Backend API (the emulator's, in emulator
// mode) and repairs missing, changed and deleted users, organisations and
// memberships. It is idempotent; it prints what it changed.
func reconcile(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := app.New(ctx, cfg, pool, logger)
	if err != nil {
		return err
	}
	report, err := a.Reconcile(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	fmt.Fprintln(os.Stdout, report.String())
	return nil
}

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	// Listen first: with a BASE_URL derived from ADDR (development), the
	// app's origin is where the listener really is, port 0 included.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if warning := cfg.ListenedOn(ln.Addr().String()); warning != "" {
		logger.Warn(warning)
	}
	logger.Info("starting", "config", cfg)
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer pool.Close()
	a, err := app.New(ctx, cfg, pool, logger)
	if err != nil {
		ln.Close()
		return err
	}
	srv := server.NewHTTPServer(a.Handler, logger)
	logger.Info("listening", "addr", ln.Addr().String(), "url", cfg.BaseURL.String())

	// Metrics have their own listener, so the public one never serves them.
	// It stops after the app has drained, so the last requests are counted.
	metricsCtx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMetrics()
	metricsDone := make(chan error, 1)
	mln, err := listenMetrics(cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	if mln == nil {
		metricsDone <- nil
	} else {
		msrv := server.NewHTTPServer(a.Metrics.Handler(), logger)
		go func() { metricsDone <- server.Run(metricsCtx, msrv, mln, server.Drain{Grace: 5 * time.Second}) }()
		logger.Info("metrics", "url", "http://"+mln.Addr().String()+metrics.Path)
	}
	a.Banner(os.Stdout)

	// Background work (the emulator's webhook delivery) stops with the
	// server, after in-flight requests have drained.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan error, 1)
	go func() { bgDone <- a.Run(bgCtx) }()
	// On SIGTERM: /readyz fails at once, requests are served for
	// SHUTDOWN_DELAY, then the listener closes and in-flight requests drain.
	err = server.Run(ctx, srv, ln, server.Drain{
		Delay:  cfg.ShutdownDelay,
		Grace:  server.ShutdownGrace,
		Begin:  a.Drain,
		Logger: logger,
	})
	stopBackground()
	if bgErr := <-bgDone; bgErr != nil && err == nil && !errors.Is(bgErr, context.Canceled) {
		err = bgErr
	}
	stopMetrics()
	if mErr := <-metricsDone; mErr != nil && err == nil {
		err = mErr
	}
	if err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
