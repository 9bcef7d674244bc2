// Package dashboard serves the active organisation's pages: /dashboard and
// the example resource's /projects, with HTMX create, rename and delete that
// also work as plain form posts. The organisation comes from the session's
// claims only, and every query joins the caller's live membership.
package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/projects"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/tenant"
	"github.com/saasstarter/saas/views/components"
	"github.com/saasstarter/saas/views/pages"
)

// How much of each list the dashboard shows: the LIMITs of
// store.GetDashboard, written into its statement (db/query/dashboard.sql).
const (
	previewMembers  = 8
	previewActivity = 10
	previewProjects = 20
)

// Handlers serves the dashboard and the projects pages.
type Handlers struct {
	Render   *render.Renderer
	Pool     *pgxpool.Pool
	Projects *projects.Service
}

// Routes registers the pages. Every route needs an active organisation
// (browsers without one are sent to /orgs); changing projects needs the
// permissions of tenant.CreateProjects or tenant.ManageProjects.
func (h *Handlers) Routes(e *echo.Echo) {
	org := []echo.MiddlewareFunc{auth.RequireOrg(), tenant.NoStore()}
	create := append(org[:len(org):len(org)], tenant.RequireAny(MsgCannotCreate, tenant.CreateProjects))
	manage := append(org[:len(org):len(org)], tenant.RequireAny(MsgCannotManage, tenant.ManageProjects))
	e.GET(routes.Dashboard, h.dashboard, org...)
	e.GET(routes.Projects, h.projectsPage, org...)
	e.POST(routes.Projects, h.create, create...)
	e.POST(routes.ProjectRename, h.rename, manage...)
	e.POST(routes.ProjectDelete, h.delete, manage...)
}

// Public messages of the permission guards.
const (
	MsgCannotCreate = "You do not have permission to create projects"
	MsgCannotManage = "You do not have permission to change projects"
)

// dashboard loads the whole page with one statement (store.GetDashboard):
// the page is bound by round trips to the database, not by the app's CPU.
func (h *Handlers) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	q := store.New(h.Pool)
	row, err := q.GetDashboard(ctx, store.GetDashboardParams{
		UserClerkID: a.UserID, OrgClerkID: a.OrgID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = tenant.Missing(ctx, q, a)
	}
	if errors.Is(err, tenant.ErrNotSynced) {
		// Signed in to an organisation the webhook has not delivered yet
		// (typically one just created): not an error from the user's side.
		return h.Render.Page(c, http.StatusOK, "Setting up", pages.DashboardSettingUp())
	}
	if err != nil {
		return err
	}
	p, err := h.dashboardProps(c, a, row)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, row.Name, pages.Dashboard(p))
}

// The previews of store.GetDashboard, as its JSON arrays spell them.
type (
	memberJSON struct {
		Email     string `json:"email"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		ImageURL  string `json:"image_url"`
		Role      string `json:"role"`
	}
	entryJSON struct {
		Actor        string          `json:"actor"`
		ActorName    string          `json:"actor_name"`
		Impersonator string          `json:"impersonator"`
		Action       string          `json:"action"`
		Target       string          `json:"target"`
		TargetName   string          `json:"target_name"`
		Details      json.RawMessage `json:"details"`
		At           time.Time       `json:"at"`
	}
	projectJSON struct {
		ID        int64     `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
	}
)

func (h *Handlers) dashboardProps(c echo.Context, a *auth.Auth, row store.GetDashboardRow) (pages.DashboardProps, error) {
	var (
		members []memberJSON
		entries []entryJSON
		list    []projectJSON
	)
	if err := json.Unmarshal(row.Members, &members); err != nil {
		return pages.DashboardProps{}, fmt.Errorf("dashboard members: %w", err)
	}
	if err := json.Unmarshal(row.Activity, &entries); err != nil {
		return pages.DashboardProps{}, fmt.Errorf("dashboard activity: %w", err)
	}
	if err := json.Unmarshal(row.Projects, &list); err != nil {
		return pages.DashboardProps{}, fmt.Errorf("dashboard projects: %w", err)
	}
	page := projects.Page{Projects: make([]projects.Project, 0, len(list)), TotalCount: row.ProjectsCount}
	for _, pr := range list {
		page.Projects = append(page.Projects, projects.Project{ID: pr.ID, Name: pr.Name, CreatedAt: pr.CreatedAt})
	}
	p := pages.DashboardProps{
		Name: row.Name, Slug: row.Slug, ImageURL: row.ImageUrl, Plan: row.Plan, Role: row.Role,
		MembersCount: row.MembersCount, ProjectsCount: row.ProjectsCount, RecentActivity: row.RecentActivity,
		Members:  make([]pages.MemberItem, 0, len(members)),
		Activity: make([]pages.ActivityItem, 0, len(entries)),
		Projects: h.projectsProps(c, a, page, components.ReturnDashboard),
	}
	for _, m := range members {
		p.Members = append(p.Members, pages.MemberItem{Name: displayName(m.FirstName, m.LastName, m.Email),
			Email: m.Email, Role: m.Role, ImageURL: m.ImageURL})
	}
	for _, e := range entries {
		it := audit.Item{Action: e.Action, Actor: e.Actor, ActorName: e.ActorName, Impersonator: e.Impersonator,
			Target: e.Target, TargetName: e.TargetName, At: e.At}
		// As in audit.Recent: details are flat string maps; anything else
		// is simply not shown.
		_ = json.Unmarshal(e.Details, &it.Details)
		p.Activity = append(p.Activity, activity(it))
	}
	return p, nil
}

func (h *Handlers) projectsProps(c echo.Context, a *auth.Auth, list projects.Page, returnTo string) components.ProjectsProps {
	p := components.ProjectsProps{
		Projects:  make([]components.Project, 0, len(list.Projects)),
		Total:     list.TotalCount,
		CSRFToken: render.CSRFToken(c),
		CanCreate: tenant.Can(a, tenant.CreateProjects),
		CanManage: tenant.Can(a, tenant.ManageProjects),
		ReturnTo:  returnTo,
	}
	for _, pr := range list.Projects {
		p.Projects = append(p.Projects, item(pr))
	}
	return p
}

func item(p projects.Project) components.Project {
	return components.Project{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}
}

func displayName(first, last, email string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return email
}

// activity words an audit entry for people.
func activity(e audit.Item) pages.ActivityItem {
	it := pages.ActivityItem{Actor: e.ActorName, Impersonator: e.Impersonator, At: e.At}
	if it.Actor == "" {
		it.Actor = e.Actor
	}
	if e.Actor == "clerk" {
		it.Actor = "Clerk"
	}
	name := e.Details["name"]
	person := e.TargetName
	if person == "" {
		person = e.Target
	}
	switch e.Action {
	case audit.ProjectCreated:
		it.Action, it.Target = "created project", name
	case audit.ProjectRenamed:
		it.Action, it.Target = "renamed a project to", name
	case audit.ProjectDeleted:
		it.Action, it.Target = "deleted project", name
	case audit.OrgCreated:
		it.Action, it.Target = "created the organisation", name
	case audit.OrgExported:
		it.Action = "exported the organisation's data"
	case audit.OrgLeft:
		it.Action = "left the organisation"
	case audit.OrgPlanSet:
		it.Action, it.Target = "set the plan to", e.Details["plan"]
	case "member.added":
		it.Action, it.Target = "added member", person
	case "member.removed":
		it.Action, it.Target = "removed member", person
	case "member.role_changed":
		it.Action, it.Target = "changed the role of", person+" to "+strings.TrimPrefix(e.Details["role"], "org:")
	default:
		it.Action, it.Target = e.Action, e.Target
	}
	return it
}
