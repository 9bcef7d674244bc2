// Package dashboard serves the active organisation's pages: /dashboard and
// the example resource's /projects, with HTMX create, rename and delete that
// also work as plain form posts. The organisation comes from the session's
// claims only, and every query joins the caller's live membership.
package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"
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
	previewProjects = 5
)

// Handlers serves the dashboard and the projects pages.
type Handlers struct {
	Render   *render.Renderer
	Pool     *pgxpool.Pool
	Projects *projects.Service
	// Cache keeps dashboards between requests; nil reads every dashboard
	// from the database.
	Cache *Cache
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
	e.GET(routes.ProjectDelete, h.confirmDelete, manage...)
	e.POST(routes.ProjectDelete, h.delete, manage...)
}

// Public messages of the permission guards.
const (
	MsgCannotCreate = "You do not have permission to create projects"
	MsgCannotManage = "You do not have permission to change projects"
)

// dashboard loads the whole page with one statement (store.GetDashboard):
// the page is bound by round trips to the database, not by the app's CPU.
// With a Cache, a smaller statement comes first: the caller's membership and
// the organisation's stamp, and a cached dashboard of that stamp saves the
// large one.
func (h *Handlers) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	q := store.New(h.Pool)
	var org int64
	if h.Cache != nil {
		v, err := q.GetDashboardVersion(ctx, store.GetDashboardVersionParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID})
		if err != nil {
			return h.notLoaded(c, q, a, err)
		}
		if v.Version != nil {
			org = v.ID
			if data, ok := h.Cache.get(org, Stamp{Version: *v.Version, Hour: v.Hour.Time, HourEntries: v.HourEntries}); ok {
				return h.show(c, a, data, v.Role)
			}
		}
	}
	row, err := q.GetDashboard(ctx, store.GetDashboardParams{
		UserClerkID: a.UserID, OrgClerkID: a.OrgID,
	})
	if err != nil {
		return h.notLoaded(c, q, a, err)
	}
	data, err := dashboardData(row)
	if err != nil {
		return err
	}
	if org != 0 && row.Version != nil {
		// Stored with the stamp of the snapshot the data was read in: a
		// change committed since the stamp above is in the data, and the
		// next request's stamp tells.
		h.Cache.put(org, Stamp{Version: *row.Version, Hour: row.Hour.Time, HourEntries: row.HourEntries}, data)
	}
	return h.show(c, a, data, row.Role)
}

// notLoaded answers a dashboard whose statement failed: no row means the
// caller is not a live member, or the organisation is not synced yet.
func (h *Handlers) notLoaded(c echo.Context, q *store.Queries, a *auth.Auth, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		err = tenant.Missing(c.Request().Context(), q, a)
	}
	if errors.Is(err, tenant.ErrNotSynced) {
		// Signed in to an organisation the webhook has not delivered yet
		// (typically one just created): not an error from the user's side.
		return h.Render.Page(c, http.StatusOK, "Setting up", pages.DashboardSettingUp())
	}
	return err
}

// show renders the organisation's dashboard data for this request: the
// caller's role, and the forms their permissions allow.
func (h *Handlers) show(c echo.Context, a *auth.Auth, data pages.DashboardProps, role string) error {
	data.Role = role
	data.Projects = forRequest(c, a, data.Projects, components.ReturnDashboard)
	return h.Render.Page(c, http.StatusOK, data.Name, pages.Dashboard(data))
}

// dashboardData turns the statement's row into the page's props, but for
// what depends on the request (show). Each preview arrives as one array per
// column (store.GetDashboard), all of a preview's arrays in the same order
// and of the same length.
func dashboardData(row store.GetDashboardRow) (pages.DashboardProps, error) {
	if !sameLength(len(row.MemberEmails), len(row.MemberFirstNames), len(row.MemberLastNames), len(row.MemberImageUrls), len(row.MemberRoles)) ||
		!sameLength(len(row.ActivityActions), len(row.ActivityActors), len(row.ActivityActorNames), len(row.ActivityImpersonators),
			len(row.ActivityTargets), len(row.ActivityTargetNames), len(row.ActivityDetails), len(row.ActivityAts)) ||
		!sameLength(len(row.ProjectIds), len(row.ProjectNames), len(row.ProjectCreatedAts)) {
		return pages.DashboardProps{}, errors.New("dashboard: preview columns of different lengths")
	}
	p := pages.DashboardProps{
		Name: row.Name, Slug: row.Slug, ImageURL: row.ImageUrl, Plan: row.Plan,
		MembersCount: row.MembersCount, ProjectsCount: row.ProjectsCount, RecentActivity: row.RecentActivity,
		Projects: components.ProjectsProps{Projects: make([]components.Project, 0, len(row.ProjectIds)), Total: row.ProjectsCount},
	}
	for i, id := range row.ProjectIds {
		p.Projects.Projects = append(p.Projects.Projects, components.Project{ID: id, Name: row.ProjectNames[i], CreatedAt: row.ProjectCreatedAts[i].Time})
	}
	members := make([]pages.MemberItem, 0, len(row.MemberEmails))
	for i, email := range row.MemberEmails {
		members = append(members, pages.MemberItem{Name: displayName(row.MemberFirstNames[i], row.MemberLastNames[i], email),
			Email: email, Role: row.MemberRoles[i], ImageURL: row.MemberImageUrls[i]})
	}
	entries := make([]pages.ActivityItem, 0, len(row.ActivityActions))
	for i, action := range row.ActivityActions {
		it := audit.Item{Action: action, Actor: row.ActivityActors[i], ActorName: row.ActivityActorNames[i],
			Impersonator: row.ActivityImpersonators[i], Target: row.ActivityTargets[i], TargetName: row.ActivityTargetNames[i],
			Details: audit.DetailsOf(row.ActivityDetails[i]), At: row.ActivityAts[i].Time}
		entries = append(entries, activity(it))
	}
	// The lists are the same for every member, so they are rendered here,
	// once per state of the organisation when the Cache keeps them, instead
	// of on every request: a third of a full dashboard's rendering.
	var lists strings.Builder
	if err := pages.DashboardLists(members, entries).Render(context.Background(), &lists); err != nil {
		return pages.DashboardProps{}, err
	}
	p.Lists = templ.Raw(lists.String())
	return p, nil
}

func (h *Handlers) projectsProps(c echo.Context, a *auth.Auth, list projects.Page, returnTo string) components.ProjectsProps {
	p := components.ProjectsProps{Projects: make([]components.Project, 0, len(list.Projects)), Total: list.TotalCount}
	for _, pr := range list.Projects {
		p.Projects = append(p.Projects, item(pr))
	}
	return forRequest(c, a, p, returnTo)
}

// forRequest adds to a projects list what depends on the request: the CSRF
// token, the forms the caller's permissions allow, where a form post lands.
func forRequest(c echo.Context, a *auth.Auth, p components.ProjectsProps, returnTo string) components.ProjectsProps {
	p.CSRFToken = render.CSRFToken(c)
	p.CanCreate = tenant.Can(a, tenant.CreateProjects)
	p.CanManage = tenant.Can(a, tenant.ManageProjects)
	p.ReturnTo = returnTo
	return p
}

func item(p projects.Project) components.Project {
	return components.Project{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}
}

// sameLength reports whether every n is the first.
func sameLength(n ...int) bool {
	for _, m := range n[1:] {
		if m != n[0] {
			return false
		}
	}
	return true
}

func displayName(first, last, email string) string {
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	return email
}

// activity is an audit entry as the dashboard shows it: a sentence with
// names (audit.Sentence).
func activity(e audit.Item) pages.ActivityItem {
	return pages.ActivityItem{Sentence: audit.Sentence(e), At: e.At}
}
