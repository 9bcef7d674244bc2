// Package app wires the application together: it builds every component
// from the configuration and registers the route table. cmd/web runs it; tests
// build the same thing against their own database.
package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/handlers/health"
	"github.com/saasstarter/saas/handlers/pages"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/server"
	"github.com/saasstarter/saas/static"
)

// App is the wired application.
type App struct {
	// Echo is the app's router, with its middleware pipeline.
	Echo *echo.Echo
	// Handler is what the HTTP server serves: the app, plus the emulator
	// beside it in emulator mode.
	Handler http.Handler

	cfg    config.Config
	pool   *pgxpool.Pool
	logger *slog.Logger
	render *render.Renderer
	latest int64
}

// New builds the application on an open, migrated pool.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger) (*App, error) {
	latest, err := database.LatestVersion()
	if err != nil {
		return nil, err
	}
	sessions, err := appsession.NewStore(cfg.SessionSecrets, cfg.Production())
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, pool: pool, logger: logger, latest: latest}
	a.render = &render.Renderer{Sessions: sessions}
	a.Echo = server.NewEcho(server.Config{
		Logger:     logger,
		Render:     a.render,
		Secure:     secure.Config{HSTS: cfg.Production()},
		Production: cfg.Production(),
		CSRFExempt: server.Route{Method: http.MethodPost, Path: routes.Webhook},
	})
	a.routes()
	a.Handler = server.Handler(a.Echo, routes.Emulator, nil)
	return a, nil
}

// routes is the route table: every route the app serves is registered here,
// by handler group.
func (a *App) routes() {
	e := a.Echo
	e.GET(static.URLPrefix+"*", static.Handler)
	(&health.Handlers{
		Logger: a.logger,
		Ready:  func(ctx context.Context) error { return database.Ready(ctx, a.pool, a.latest) },
	}).Routes(e)
	(&pages.Handlers{Render: a.render}).Routes(e)
}
