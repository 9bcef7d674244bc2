package admin

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// The confirmation pages of the destructive admin actions, for browsers
// without JavaScript: the row's button is a GET form that lands here, and
// the page's form posts the action. With JavaScript htmx posts from the row
// after the page's confirmation dialog (hx-confirm).

func (h *Handlers) confirmRemoveMember(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	userID, err := memberParam(c)
	if err != nil {
		return err
	}
	r, err := store.New(h.Pool).AdminGetMember(c.Request().Context(), store.AdminGetMemberParams{OrgID: s.ID, UserClerkID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, msgMemberNotFound)
	}
	if err != nil {
		return err
	}
	name := displayName(r.FirstName, r.LastName, r.Email)
	return h.Render.Page(c, http.StatusOK, "Remove "+name, pages.AdminConfirm(s.frame(c, pages.TabMembers), pages.Confirm{
		Question: "Remove " + name + " from " + s.Name + "?",
		Detail:   "They lose access at once. You can invite them again later.",
		Action:   pages.Fill(routes.AdminMemberDrop, userID), Button: "Remove " + name, Back: routes.AdminMembers,
	}))
}

func (h *Handlers) confirmRevoke(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	id, err := invitationParam(c)
	if err != nil {
		return err
	}
	r, err := store.New(h.Pool).AdminGetInvitation(c.Request().Context(), store.AdminGetInvitationParams{OrgID: s.ID, ClerkID: id})
	if errors.Is(err, pgx.ErrNoRows) || err == nil && r.Status != "pending" {
		return apperr.New(apperr.NotFound, msgInvitationNotFound)
	}
	if err != nil {
		return err
	}
	return h.Render.Page(c, http.StatusOK, "Revoke invitation", pages.AdminConfirm(s.frame(c, pages.TabInvitations), pages.Confirm{
		Question: "Revoke the invitation to " + r.Email + "?",
		Detail:   "The link in the invitation stops working. You can invite the address again.",
		Action:   pages.Fill(routes.AdminInviteDrop, id), Button: "Revoke invitation", Back: routes.AdminInvitations,
	}))
}
