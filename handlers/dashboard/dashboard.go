// Package dashboard serves the active organisation's pages: /dashboard and
// the example resource's /projects, with HTMX create, rename and delete that
// also work as plain form posts. The organisation comes from the session's
// claims only, and every query joins the caller's live membership.
package dashboard

import (
	"errors"
	"net/http"
	"strings"

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

// How much of each list the dashboard shows.
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

func (h *Handlers) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	q := store.New(h.Pool)
	org, err := tenant.Load(ctx, q, a)
	if errors.Is(err, tenant.ErrNotSynced) {
		// Signed in to an organisation the webhook has not delivered yet
		// (typically one just created): not an error from the user's side.
		return h.Render.Page(c, http.StatusOK, "Setting up", pages.DashboardSettingUp())
	}
	if err != nil {
		return err
	}
	members, err := q.ListOrgMembers(ctx, store.ListOrgMembersParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID, MaxRows: previewMembers})
	if err != nil {
		return err
	}
	entries, err := audit.Recent(ctx, q, a, previewActivity)
	if err != nil {
		return err
	}
	list, err := h.Projects.List(ctx, a, projects.ListParams{Limit: previewProjects})
	if err != nil {
		return err
	}
	p := pages.DashboardProps{
		Name: org.Name, Slug: org.Slug, ImageURL: org.ImageURL, Plan: org.Plan, Role: org.Role,
		MembersCount: org.MembersCount, ProjectsCount: org.ProjectsCount, RecentActivity: org.RecentActivity,
		Members:  make([]pages.MemberItem, 0, len(members)),
		Activity: make([]pages.ActivityItem, 0, len(entries)),
		Projects: h.projectsProps(c, a, list, components.ReturnDashboard),
	}
	for _, m := range members {
		p.Members = append(p.Members, pages.MemberItem{Name: displayName(m.FirstName, m.LastName, m.Email),
			Email: m.Email, Role: m.Role, ImageURL: m.ImageUrl})
	}
	for _, e := range entries {
		p.Activity = append(p.Activity, activity(e))
	}
	return h.Render.Page(c, http.StatusOK, org.Name, pages.Dashboard(p))
}

func (h *Handlers) projectsProps(c echo.Context, a *auth.Auth, list projects.Page, returnTo string) components.ProjectsProps {
	p := components.ProjectsProps{
		Projects:  make([]components.Project, 0, len(list.Projects)),
		Total:     list.TotalCount,
		CSRFToken: tenant.CSRFToken(c),
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
