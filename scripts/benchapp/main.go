// Command benchapp serves the whole application exactly as cmd/web wires it
// (app.New: the same middleware, handlers, emulator and webhook delivery),
// with one change for load tests: an API rate limit high enough that wrk
// measures the API rather than 429s (the limiter still counts every request
// in PostgreSQL). Access logs are discarded. scripts/bench-dashboard.sh runs
// it; configuration comes from the same environment variables.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/ratelimit"
	"github.com/saasstarter/saas/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "benchapp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := database.EnsureExists(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := database.Migrate(ctx, pool); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, pool, logger, app.Options{RateLimit: ratelimit.Config{Limit: 1 << 30}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	go func() { _ = a.Run(ctx) }()
	return server.Run(ctx, server.NewHTTPServer(a.Handler, logger), ln, server.ShutdownGrace)
}
