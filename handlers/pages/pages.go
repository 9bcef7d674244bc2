// Package pages serves the public pages: the landing page.
package pages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// Handlers serves the public pages.
type Handlers struct {
	Render *render.Renderer
}

// Routes registers the public pages.
func (h *Handlers) Routes(e *echo.Echo) {
	e.GET(routes.Home, h.home)
}

func (h *Handlers) home(c echo.Context) error {
	signedIn := h.Render.IdentityOf(c).SignedIn
	return h.Render.Page(c, http.StatusOK, "", pages.Home(signedIn))
}
