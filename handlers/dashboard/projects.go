package dashboard

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/projects"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/tenant"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/components"
	"github.com/saasstarter/saas/views/pages"
)

func (h *Handlers) projectsPage(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	org, err := tenant.Load(ctx, store.New(h.Pool), a)
	if err != nil {
		return err
	}
	list, err := h.Projects.List(ctx, a, projects.ListParams{Limit: projects.MaxLimit})
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Projects", pages.ProjectsPage(org.Name, h.projectsProps(c, a, list, components.ReturnProjects)))
}

// create adds a project. HTMX gets the refreshed projects section; a plain
// form post is redirected back to the page it came from.
func (h *Handlers) create(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	if _, err := h.Projects.Create(ctx, a, c.FormValue("name")); err != nil {
		return h.back(c, err)
	}
	if !web.IsHTMX(c) {
		_ = h.Render.Sessions.AddFlash(c, appsession.FlashSuccess, "Project created.")
		return web.Redirect(c, returnPath(c))
	}
	return h.section(c, a, "")
}

// section answers an HTMX create or delete with the whole projects section
// (list, count and the notice, which takes the focus) and, on the
// dashboard, the Projects statistic swapped out of band.
func (h *Handlers) section(c echo.Context, a *auth.Auth, notice string) error {
	limit := previewProjects
	if returnTo(c) == components.ReturnProjects {
		limit = projects.MaxLimit
	}
	list, err := h.Projects.List(c.Request().Context(), a, projects.ListParams{Limit: limit})
	if err != nil {
		return err
	}
	p := h.projectsProps(c, a, list, returnTo(c))
	p.Notice = notice
	return render.Component(c, http.StatusOK, components.ProjectsAnswer(p))
}

// rename changes a project's name. HTMX gets the new row.
func (h *Handlers) rename(c echo.Context) error {
	ctx := c.Request().Context()
	a := auth.From(ctx)
	id, ok := tenant.ParseID(c.Param("id"))
	if !ok {
		return apperr.New(apperr.NotFound, projects.MsgNotFound)
	}
	p, err := h.Projects.Rename(ctx, a, id, c.FormValue("name"))
	if err != nil {
		return h.back(c, err)
	}
	if !web.IsHTMX(c) {
		_ = h.Render.Sessions.AddFlash(c, appsession.FlashSuccess, "Project renamed.")
		return web.Redirect(c, returnPath(c))
	}
	return render.Component(c, http.StatusOK, components.ProjectRow(components.ProjectRowProps{
		Project: item(p), CSRFToken: render.CSRFToken(c), CanManage: true, ReturnTo: returnTo(c),
	}))
}

// confirmDelete is the confirmation page of a delete, for browsers
// without JavaScript (with it, the row's button opens a <dialog> instead).
func (h *Handlers) confirmDelete(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok := tenant.ParseID(c.Param("id"))
	if !ok {
		return apperr.New(apperr.NotFound, projects.MsgNotFound)
	}
	p, err := h.Projects.Get(ctx, auth.From(ctx), id)
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Delete "+p.Name, pages.ConfirmProjectDelete(components.ProjectRowProps{
		Project: item(p), CSRFToken: render.CSRFToken(c), CanManage: true, ReturnTo: returnTo(c),
	}))
}

// delete removes a project. HTMX gets the projects section again, with the
// new count and a notice; a plain post goes back with a flash message.
func (h *Handlers) delete(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok := tenant.ParseID(c.Param("id"))
	if !ok {
		return apperr.New(apperr.NotFound, projects.MsgNotFound)
	}
	a := auth.From(ctx)
	name, err := h.Projects.Delete(ctx, a, id)
	if err != nil {
		return h.back(c, err)
	}
	notice := "Project “" + name + "” deleted."
	if !web.IsHTMX(c) {
		_ = h.Render.Sessions.AddFlash(c, appsession.FlashSuccess, notice)
		return web.Redirect(c, returnPath(c))
	}
	return h.section(c, a, notice)
}

// back answers a refused form: HTMX gets the error (shown in #flash); a
// plain post of invalid input returns to its page with a flash message.
// Other errors (403, 404, 500) are answered as errors either way.
func (h *Handlers) back(c echo.Context, err error) error {
	var ae *apperr.Error
	if web.IsHTMX(c) || !errors.As(err, &ae) || ae.Code != apperr.Invalid {
		return err
	}
	_ = h.Render.Sessions.AddFlash(c, appsession.FlashError, ae.Message)
	return web.Redirect(c, returnPath(c))
}

// returnTo reads the form's "return" field as one of two fixed values; it
// is never used as a URL, so it cannot redirect anywhere else.
func returnTo(c echo.Context) string {
	if c.FormValue("return") == components.ReturnDashboard {
		return components.ReturnDashboard
	}
	return components.ReturnProjects
}

func returnPath(c echo.Context) string {
	if returnTo(c) == components.ReturnDashboard {
		return routes.Dashboard
	}
	return routes.Projects
}
