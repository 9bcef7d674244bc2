package ops

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/handlers/admin"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/clerkid"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// Plans are the plans an operator can give an organisation. The plan lives
// in the organisation's public metadata ("plan"), which the session-token
// template copies into the org_plan claim; plan checks read the claim.
var Plans = []string{"free", "pro", "enterprise"}

// Features are the plan-gated feature flags an operator can switch on; they
// go to public_metadata.features and from there into the feature_flags
// claim.
var Features = []string{"export", "audit", "sso", "beta"}

// planMetadata is the part of an organisation's public metadata that the
// plan screen owns. Clerk merges metadata updates at the top level, so the
// keys other code keeps there (the admin's logo_url) are left alone.
type planMetadata struct {
	Plan     string   `json:"plan"`
	Features []string `json:"features"`
}

// org loads the organisation of the URL from the database. The id is
// refused unless it has the shape of a Clerk organisation id: it goes into
// a Backend API path.
func (h *Handlers) org(c echo.Context) (store.OpsGetOrganizationRow, error) {
	id := c.Param("org_id")
	if !clerkid.Valid(clerkid.Organization, id) {
		return store.OpsGetOrganizationRow{}, apperr.New(apperr.NotFound, "Organisation not found")
	}
	row, err := store.New(h.Pool).OpsGetOrganization(c.Request().Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, apperr.New(apperr.NotFound, "Organisation not found")
	}
	return row, err
}

// planPage is the organisation's plan screen.
func (h *Handlers) planPage(c echo.Context, row store.OpsGetOrganizationRow, notice string) pages.OpsOrgPage {
	var md planMetadata
	// Metadata is whatever Clerk holds; a field of another type shows as
	// empty rather than failing the page.
	_ = json.Unmarshal(row.PublicMetadata, &md)
	feats := slices.Clone(md.Features)
	slices.Sort(feats)
	return pages.OpsOrgPage{
		CSRF: render.CSRFToken(c), ID: row.ClerkID, Name: row.Name, Slug: row.Slug, Members: row.Members,
		Stub: row.Stub, Deleted: row.DeletedAt.Valid, Plan: row.Plan, Features: feats,
		Plans: Plans, AllFeatures: Features, Notice: notice,
	}
}

func (h *Handlers) orgScreen(c echo.Context) error {
	row, err := h.org(c)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, row.Name, pages.OpsOrg(h.planPage(c, row, "")))
}

// setPlan sends an organisation's plan and feature flags to Clerk (its
// public metadata). The database and the members' session claims follow
// with the organization.updated webhook and the next token refresh.
func (h *Handlers) setPlan(c echo.Context) error {
	row, err := h.org(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read")
	}
	want := planMetadata{Plan: form.Get("plan"), Features: []string{}}
	if !slices.Contains(Plans, want.Plan) {
		return apperr.New(apperr.Invalid, "Choose a plan from the list")
	}
	for _, f := range form["features"] {
		if !slices.Contains(Features, f) {
			return apperr.New(apperr.Invalid, "Unknown feature flag")
		}
		if !slices.Contains(want.Features, f) {
			want.Features = append(want.Features, f)
		}
	}
	slices.Sort(want.Features)
	raw, err := json.Marshal(want)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := h.Directory.MergeOrganizationMetadata(ctx, row.ClerkID, raw); err != nil {
		var ae *clerk.APIErrorResponse
		if errors.As(err, &ae) && ae.HTTPStatusCode == http.StatusNotFound {
			return apperr.Wrap(apperr.NotFound, "Clerk has no such organisation", err)
		}
		return apperr.Wrap(apperr.Unavailable, "Clerk could not be reached; the plan was not changed", err)
	}
	if err := audit.Record(ctx, store.New(h.Pool), auth.From(ctx), audit.Entry{
		OrgID: row.ClerkID, Action: audit.OrgPlanSet, TargetOrg: row.ClerkID,
		Details: map[string]string{"plan": want.Plan, "features": strings.Join(want.Features, ",")},
	}); err != nil {
		// The plan is set in Clerk either way; the missing entry is logged.
		h.Logger.ErrorContext(ctx, "audit organization.plan_set", "org", row.ClerkID, "err", err)
	}
	notice := "Plan " + want.Plan + " sent to Clerk; it shows here once its webhook arrives, and in members' sessions within a minute."
	back := pages.Fill(routes.OpsOrg, row.ClerkID)
	return admin.Done(c, h.Render, back, notice, func() error {
		p := h.planPage(c, row, notice)
		p.Plan, p.Features = want.Plan, want.Features
		return render.Component(c, http.StatusOK, pages.OpsPlanForm(p))
	})
}
