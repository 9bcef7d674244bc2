// Package pages serves the public pages: the landing page and the sign-in
// and sign-up pages that host Clerk's components.
package pages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/redirect"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/pages"
)

// Handlers serves the public pages.
type Handlers struct {
	Render *render.Renderer
}

// Routes registers the public pages. Sign-in and sign-up use Clerk's path
// routing, so every path below them serves the same page.
func (h *Handlers) Routes(e *echo.Echo) {
	e.GET(routes.Home, h.home)
	e.GET(routes.SignIn, h.signIn)
	e.GET(routes.SignIn+"/*", h.signIn)
	e.GET(routes.SignUp, h.signUp)
	e.GET(routes.SignUp+"/*", h.signUp)
}

func (h *Handlers) home(c echo.Context) error {
	signedIn := h.Render.IdentityOf(c).SignedIn
	return h.Render.Page(c, http.StatusOK, "", pages.Home(signedIn))
}

// afterAuth is where a user lands after signing in or up: redirect_url when
// it is a same-origin path, else the dashboard.
func afterAuth(c echo.Context) string {
	return redirect.Safe(c.QueryParam("redirect_url"), routes.Dashboard)
}

func (h *Handlers) signIn(c echo.Context) error {
	target := afterAuth(c)
	if h.Render.IdentityOf(c).SignedIn {
		return web.Redirect(c, target)
	}
	return h.Render.Page(c, http.StatusOK, "Sign in", pages.SignIn(target))
}

func (h *Handlers) signUp(c echo.Context) error {
	target := afterAuth(c)
	if h.Render.IdentityOf(c).SignedIn {
		return web.Redirect(c, target)
	}
	return h.Render.Page(c, http.StatusOK, "Sign up", pages.SignUp(target))
}
