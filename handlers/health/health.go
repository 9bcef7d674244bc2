// Package health serves the liveness and readiness probes.
package health

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/routes"
)

// Checker reports whether the database answers and is fully migrated.
type Checker func(ctx context.Context) error

// Handlers serves /healthz and /readyz.
type Handlers struct {
	Ready  Checker
	Logger *slog.Logger
}

// Routes registers the probes.
func (h *Handlers) Routes(e *echo.Echo) {
	e.GET(routes.Healthz, h.healthz)
	e.GET(routes.Readyz, h.readyz)
}

// alive is the body of every /healthz answer, encoded once: the probe is hit
// constantly and should cost the pipeline and nothing more.
var alive = []byte(`{"status":"ok"}` + "\n")

// healthz answers 200 while the process runs: it checks nothing else, so an
// orchestrator restarts the process only when it is truly stuck.
func (h *Handlers) healthz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, alive)
}

// readyz answers 200 only when the database answers and every migration is
// applied, so a load balancer sends traffic only to instances that can serve.
func (h *Handlers) readyz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.Ready(ctx); err != nil {
		h.Logger.Warn("not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
