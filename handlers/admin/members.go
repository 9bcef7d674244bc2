package admin

import (
	"context"
	"errors"
	"net/http"
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
	"github.com/saasstarter/saas/internal/lastadmin"
	"github.com/saasstarter/saas/internal/pagecursor"
	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/views/pages"
)

// expectRemoved is the expectation of a member row whose removal is pending.
const expectRemoved = "removed"

// MsgLastAdmin refuses a change that would leave the organisation without
// an admin: nobody could manage it any more.
const MsgLastAdmin = "An organisation needs at least one admin: make someone else an admin first"

// MsgBusy answers a change that waited too long for another change of the
// same organisation's members.
const MsgBusy = "Another change to this organisation's members is in progress; try again in a moment"

// The 404 messages of a member or invitation that is not (or no longer)
// in the organisation.
const (
	msgMemberNotFound     = "Member not found"
	msgInvitationNotFound = "Invitation not found"
)

func (h *Handlers) members(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q := c.QueryParam("q")
	// sort_name is lower-cased: so is the pattern (LIKE, not ILIKE).
	after := store.AdminListMembersParams{OrgID: s.ID, Search: strings.ToLower(LikePattern(q))}
	cur, err := CursorParam(c, "members", 3)
	if err != nil {
		return err
	}
	if cur != nil {
		if after.AfterID, err = pagecursor.ParseID(cur[2]); err != nil || (cur[0] != "0" && cur[0] != "1") {
			return apperr.New(apperr.Invalid, MsgBadCursor)
		}
		after.AfterNotAdmin, after.AfterSortName = cur[0] == "1", cur[1]
	}
	db := store.New(h.Pool)
	rows, err := db.AdminListMembers(ctx, after)
	if err != nil {
		return err
	}
	base := routes.AdminMembers
	if q != "" {
		base += "?q=" + url.QueryEscape(q)
	}
	next := ""
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		last := rows[pageSize-1]
		rank := "0"
		if last.NotAdmin {
			rank = "1"
		}
		next = pagecursor.Encode("members", rank, last.SortName, strconv.FormatInt(last.MembershipID, 10))
	}
	p := pages.MembersPage{
		Frame: s.frame(c, pages.TabMembers),
		Query: q,
		Pager: PagerOf(c, base, "#members-results", next),
	}
	if q == "" {
		// The unsearched total is a counter; a search is not counted, which
		// would read every match.
		if p.Pager.Total, err = db.AdminCountMembers(ctx, s.ID); err != nil {
			return err
		}
		p.Pager.HasTotal = true
	}
	for _, r := range rows {
		p.Rows = append(p.Rows, memberRow(s, store.AdminGetMemberRow{
			UserID: r.UserID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName,
			ImageUrl: r.ImageUrl, Role: r.Role, JoinedAt: r.JoinedAt,
		}))
	}
	return h.Render.Page(c, http.StatusOK, "Members", pages.AdminMembers(p))
}

func memberRow(s scope, r store.AdminGetMemberRow) pages.MemberRow {
	return pages.MemberRow{
		UserID: r.UserID, Name: displayName(r.FirstName, r.LastName, r.Email), Email: r.Email, Role: r.Role,
		JoinedAt: r.JoinedAt.Time, Self: r.UserID == s.auth.UserID,
	}
}

// memberRow re-renders one member row. With ?expect= it is the poll of a
// pending change: the row stays pending until the database shows the
// expected role (or the member gone), and disappears once a removal landed.
func (h *Handlers) memberRow(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	userID, err := memberParam(c)
	if err != nil {
		return err
	}
	return h.renderMember(c, s, userID, c.QueryParam("expect"), false)
}

// memberParam is the user id in the URL, refused unless it has the shape
// of a Clerk user id: it goes into Backend API paths.
func memberParam(c echo.Context) (string, error) {
	id := c.Param("user_id")
	if !clerkid.Valid(clerkid.User, id) {
		return "", apperr.New(apperr.NotFound, msgMemberNotFound)
	}
	return id, nil
}

func (h *Handlers) renderMember(c echo.Context, s scope, userID, expect string, focus bool) error {
	r, err := store.New(h.Pool).AdminGetMember(c.Request().Context(), store.AdminGetMemberParams{OrgID: s.ID, UserClerkID: userID})
	gone := errors.Is(err, pgx.ErrNoRows)
	if err != nil && !gone {
		return err
	}
	switch {
	case gone && expect == "":
		return apperr.New(apperr.NotFound, msgMemberNotFound)
	case gone:
		// The removal landed (or the member left): the row goes away.
		return c.HTML(http.StatusOK, "")
	}
	row := memberRow(s, r)
	row.Focus = focus
	if expect != "" && expect != r.Role {
		label := pages.RoleLabel(expect)
		if expect == expectRemoved {
			label = "Removal"
		}
		row.Pending = &pages.Pending{Label: label}
		if n, ok := tries(c); ok {
			row.Pending.PollURL = pages.Fill(routes.AdminMember, userID) + "?expect=" + url.QueryEscape(expect) + "&try=" + strconv.Itoa(n)
		}
	}
	return render.Component(c, http.StatusOK, pages.AdminMemberRow(row, render.CSRFToken(c)))
}

// guarded runs change under the last-admin guard: userID's membership is
// read from Clerk (the database may lag a webhook behind) while no other
// membership change of the organisation runs, and change refused with
// MsgLastAdmin when it would leave the organisation without an admin.
func (h *Handlers) guarded(c echo.Context, s scope, userID string, removesAdmin func(role string) bool, change func(context.Context, lastadmin.Membership) error) error {
	err := h.Guard.Do(c.Request().Context(), s.ClerkID, userID, func(ctx context.Context, m lastadmin.Membership) error {
		if m.LastAdmin && removesAdmin(m.Role) {
			return apperr.New(apperr.Conflict, MsgLastAdmin)
		}
		return change(ctx, m)
	})
	var ae *apperr.Error
	switch {
	case errors.Is(err, lastadmin.ErrNotMember):
		return apperr.New(apperr.NotFound, msgMemberNotFound)
	case errors.Is(err, lastadmin.ErrBusy):
		return apperr.Wrap(apperr.Conflict, MsgBusy, err)
	case err != nil && !errors.As(err, &ae):
		return clerkError(err, "Could not read the membership")
	}
	return err
}

func (h *Handlers) changeRole(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	userID, err := memberParam(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if !slices.ContainsFunc(pages.Roles, func(o pages.RoleOption) bool { return o.Key == role }) {
		return apperr.New(apperr.Invalid, "Choose a role from the list")
	}
	var current string
	err = h.guarded(c, s, userID, func(string) bool { return role != RoleAdmin }, func(ctx context.Context, m lastadmin.Membership) error {
		current = m.Role
		if current == role {
			return nil
		}
		if err := h.Directory.SetRole(ctx, s.ClerkID, userID, role); err != nil {
			return clerkError(err, "Could not change the role")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if current == role {
		return h.done(c, routes.AdminMembers, "Nothing to change: the role is already "+pages.RoleLabel(role), func() error {
			return h.renderMember(c, s, userID, "", true)
		})
	}
	h.record(c, s, audit.Entry{Action: "member.role_changed", TargetUser: userID, Details: map[string]any{"from": current, "to": role}})
	return h.done(c, routes.AdminMembers, "Role change to "+pages.RoleLabel(role)+" sent to Clerk; it shows here once its webhook arrives.", func() error {
		return h.renderMember(c, s, userID, role, true)
	})
}

func (h *Handlers) removeMember(c echo.Context) error {
	s, err := h.scopeOf(c)
	if err != nil {
		return err
	}
	userID, err := memberParam(c)
	if err != nil {
		return err
	}
	var current string
	err = h.guarded(c, s, userID, func(string) bool { return true }, func(ctx context.Context, m lastadmin.Membership) error {
		current = m.Role
		if err := h.Directory.RemoveMember(ctx, s.ClerkID, userID); err != nil {
			return clerkError(err, "Could not remove the member")
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.record(c, s, audit.Entry{Action: "member.removed", TargetUser: userID, Details: map[string]any{"role": current}})
	return h.done(c, routes.AdminMembers, "Removal sent to Clerk; the member disappears here once its webhook arrives.", func() error {
		return h.renderMember(c, s, userID, expectRemoved, true)
	})
}
