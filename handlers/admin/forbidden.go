package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/pages"
)

// adminsOnly is the org:admin guard of the admin screens. A person who
// opens them as a plain member gets a 403 page that says why and offers the
// way out: the organisations where they are an admin (one click switches),
// or else to ask an admin of this one. Fragments, API calls and refusals
// for other reasons are answered by the plain guard.
func (h *Handlers) adminsOnly(next echo.HandlerFunc) echo.HandlerFunc {
	guarded := auth.RequireRole(RoleAdmin, MsgAdminsOnly)(next)
	return func(c echo.Context) error {
		a := auth.From(c.Request().Context())
		if c.Request().Method != http.MethodGet || web.IsHTMX(c) || web.IsAPI(c) ||
			!a.SignedIn() || !a.HasOrg() || a.Has(auth.Check{Role: RoleAdmin}) {
			return guarded(c)
		}
		rows, err := store.New(h.Pool).ListMyMemberships(c.Request().Context(), a.UserID)
		if err != nil {
			return err
		}
		p := pages.ForbiddenAdmin{Message: MsgAdminsOnly, RedirectURL: c.Request().URL.Path}
		for _, r := range rows {
			switch {
			case r.ClerkID == a.OrgID:
				p.OrgName = r.Name
			case r.Role == RoleAdmin:
				p.AdminOf = append(p.AdminOf, pages.OrgChoice{ClerkID: r.ClerkID, Name: r.Name})
			}
		}
		return h.Render.Page(c, http.StatusForbidden, "Admins only", pages.AdminForbidden(p))
	}
}
