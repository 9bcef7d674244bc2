package admin

import (
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/audit"
	"github.com/saasstarter/saas/internal/clerkid"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

func (h *Handlers) invitations(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	// expect names an invitation this app just created; anything else is
	// dropped rather than looked up.
	expect := c.QueryParam("expect")
	if !clerkid.Valid(clerkid.OrgInvitation, expect) {
		expect = ""
	}
	return h.renderInvitations(c, s, expect, "")
}

// invitationParam is the invitation id in the URL, refused unless it has
// the shape of a Clerk invitation id: it goes into Backend API paths.
func invitationParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !clerkid.Valid(clerkid.OrgInvitation, id) {
		return "", apperr.New(apperr.NotFound, msgInvitationNotFound)
	}
	return id, nil
}

// renderInvitations renders the screen. expect is an invitation sent to
// Clerk whose webhook may not have landed: until the database has it, the
// list shows it as pending and polls.
func (h *Handlers) renderInvitations(c echo.Context, s scope, expect, notice string) error {
	ctx := c.Request().Context()
	db := store.New(h.Pool)
	p := pages.InvitationsPage{Frame: s.frame(c, pages.TabInvitations), Notice: notice}
	// Look for the expected invitation before listing: if its webhook lands
	// in between, the list shows it anyway; the other order could miss it in
	// the list and still stop polling.
	if expect != "" {
		_, err := db.AdminGetInvitation(ctx, store.AdminGetInvitationParams{OrgID: s.ID, ClerkID: expect})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			p.Expecting = &pages.Pending{Label: "new invitation"}
			if n, ok := tries(c); ok {
				p.Expecting.PollURL = routes.AdminInvitations + "?expect=" + url.QueryEscape(expect) + "&try=" + strconv.Itoa(n)
			}
		case err != nil:
			return err
		}
	}
	rows, err := db.AdminListInvitations(ctx, s.ID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		p.Rows = append(p.Rows, pages.InvitationRow{ID: r.ClerkID, Email: r.Email, Role: r.Role, SentAt: r.ClerkCreatedAt.Time})
	}
	return h.Render.Page(c, http.StatusOK, "Invitations", pages.AdminInvitations(p))
}

func (h *Handlers) invite(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	email, role := strings.TrimSpace(c.FormValue("email")), c.FormValue("role")
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return apperr.New(apperr.Invalid, "Enter a valid email address")
	}
	if !slices.ContainsFunc(pages.Roles, func(o pages.RoleOption) bool { return o.Key == role }) {
		return apperr.New(apperr.Invalid, "Choose a role from the list")
	}
	// A second pending invitation to the same address would only send the
	// same mail twice and leave two identical rows: refuse it.
	dup, err := store.New(h.Pool).AdminPendingInvitationExists(c.Request().Context(), store.AdminPendingInvitationExistsParams{OrgID: s.ID, Email: email})
	if err != nil {
		return err
	}
	if dup {
		return apperr.New(apperr.Conflict, email+" already has a pending invitation; revoke it first to send a new one")
	}
	inv, err := h.Directory.Invite(c.Request().Context(), s.ClerkID, email, role, s.auth.UserID)
	if err != nil {
		return clerkError(err, "Could not send the invitation")
	}
	h.record(c, s, audit.Entry{Action: "invitation.created", Target: inv.ID, Details: map[string]any{"email": email, "role": role}})
	notice := "Invitation sent to " + email + " as " + pages.RoleLabel(role) + "."
	return h.done(c, routes.AdminInvitations, notice, func() error {
		return h.renderInvitations(c, s, inv.ID, notice)
	})
}

// invitationRow re-renders one invitation while its revocation is pending;
// it disappears once the database no longer has it pending.
func (h *Handlers) invitationRow(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	id, err := invitationParam(c)
	if err != nil {
		return err
	}
	return h.renderInvitation(c, s, id, false)
}

func (h *Handlers) renderInvitation(c echo.Context, s scope, id string, focus bool) error {
	r, err := store.New(h.Pool).AdminGetInvitation(c.Request().Context(), store.AdminGetInvitationParams{OrgID: s.ID, ClerkID: id})
	if errors.Is(err, pgx.ErrNoRows) || err == nil && r.Status != "pending" {
		return c.HTML(http.StatusOK, "")
	}
	if err != nil {
		return err
	}
	row := pages.InvitationRow{ID: r.ClerkID, Email: r.Email, Role: r.Role, SentAt: r.ClerkCreatedAt.Time, Focus: focus,
		Pending: &pages.Pending{Label: "revocation"}}
	if n, ok := tries(c); ok {
		row.Pending.PollURL = pages.Fill(routes.AdminInvitation, id) + "?try=" + strconv.Itoa(n)
	}
	return render.Component(c, http.StatusOK, pages.AdminInvitationRow(row, render.CSRFToken(c)))
}

func (h *Handlers) revoke(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	id, err := invitationParam(c)
	if err != nil {
		return err
	}
	inv, err := h.Directory.RevokeInvitation(c.Request().Context(), s.ClerkID, id, s.auth.UserID)
	if err != nil {
		return clerkError(err, "Could not revoke the invitation")
	}
	h.record(c, s, audit.Entry{Action: "invitation.revoked", Target: id, Details: map[string]any{"email": inv.EmailAddress}})
	return h.done(c, routes.AdminInvitations, "Invitation to "+inv.EmailAddress+" revoked.", func() error {
		return h.renderInvitation(c, s, id, true)
	})
}
