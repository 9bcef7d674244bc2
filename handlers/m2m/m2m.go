// Package m2m serves the machine-to-machine API under /api/m2m: endpoints
// for scheduled jobs that authenticate with Clerk M2M tokens instead of a
// user's session. The auth middleware admits only machine tokens scoped to
// this app's machine here (and refuses them everywhere else); the routes
// exist only when CLERK_MACHINE_SECRET_KEY is set.
package m2m

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerkid"
	"github.com/saasstarter/saas/internal/routes"
)

// Handlers serves the machine API.
type Handlers struct {
	Queries *store.Queries
}

// Routes registers the machine endpoints. Every route here must be reached
// only by machine tokens, so each one also checks auth.From(ctx).Machine.
func (h *Handlers) Routes(e *echo.Echo) {
	g := e.Group(routes.APIM2M, requireMachine)
	g.POST("/usage", h.recordUsage)
	g.GET("/usage", h.listUsage)
}

// requireMachine refuses anything but a verified machine token, so a route
// added here can never be reached with a user's session.
func requireMachine(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if auth.From(c.Request().Context()).Machine == nil {
			return apperr.New(apperr.Unauthorized, auth.MsgUnauthenticated)
		}
		return next(c)
	}
}

var metricPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

type usageRequest struct {
	OrgID  string `json:"org_id"`
	Metric string `json:"metric"`
	Value  *int64 `json:"value"`
}

// Usage is one recorded figure.
type Usage struct {
	ID         int64     `json:"id"`
	OrgID      string    `json:"org_id"`
	Metric     string    `json:"metric"`
	Value      int64     `json:"value"`
	MachineID  string    `json:"machine_id"`
	RecordedAt time.Time `json:"recorded_at"`
}

// recordUsage stores a usage figure for an organisation, e.g. from a nightly
// job: POST {"org_id":"org_…","metric":"api_calls","value":1234}.
func (h *Handlers) recordUsage(c echo.Context) error {
	var req usageRequest
	if err := c.Bind(&req); err != nil {
		return apperr.New(apperr.Invalid, "Body must be JSON: {\"org_id\", \"metric\", \"value\"}")
	}
	if !clerkid.Valid(clerkid.Organization, req.OrgID) {
		return apperr.New(apperr.Invalid, "org_id must be a Clerk organisation id (org_…)")
	}
	if !metricPattern.MatchString(req.Metric) {
		return apperr.New(apperr.Invalid, "metric must be lower_snake_case, at most 63 characters")
	}
	if req.Value == nil {
		return apperr.New(apperr.Invalid, "value is required")
	}
	machine := auth.From(c.Request().Context()).Machine
	row, err := h.Queries.RecordUsage(c.Request().Context(), store.RecordUsageParams{
		Metric: req.Metric, Value: *req.Value, MachineID: machine.ID, OrgClerkID: req.OrgID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "Organisation not found")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Usage{ID: row.ID, OrgID: req.OrgID, Metric: row.Metric, Value: row.Value,
		MachineID: row.MachineID, RecordedAt: row.RecordedAt.Time})
}

// listUsage returns an organisation's latest figures: GET ?org_id=org_…&limit=50.
func (h *Handlers) listUsage(c echo.Context) error {
	orgID := c.QueryParam("org_id")
	if !clerkid.Valid(clerkid.Organization, orgID) {
		return apperr.New(apperr.Invalid, "org_id must be a Clerk organisation id (org_…)")
	}
	limit := int32(50)
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return apperr.New(apperr.Invalid, "limit must be between 1 and 500")
		}
		limit = int32(n)
	}
	rows, err := h.Queries.ListUsage(c.Request().Context(), store.ListUsageParams{OrgClerkID: orgID, MaxRows: limit})
	if err != nil {
		return err
	}
	out := make([]Usage, 0, len(rows))
	for _, r := range rows {
		out = append(out, Usage{ID: r.ID, OrgID: orgID, Metric: r.Metric, Value: r.Value, MachineID: r.MachineID, RecordedAt: r.RecordedAt.Time})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "total_count": len(out)})
}
