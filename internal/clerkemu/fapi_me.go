package clerkemu

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The signed-in user's own resources (/v1/me), as ClerkJS's User,
// OrganizationMembership, UserOrganizationInvitation and
// OrganizationSuggestion resources read them. Lists answer Clerk's
// paginated {"data", "total_count"} inside the envelope's response.

func (e *Emulator) meRoutes(get, write func(string, http.HandlerFunc)) {
	get("/v1/me", e.handleGetMe)
	write("PATCH /v1/me", e.handleUpdateMe)
	get("/v1/me/organization_memberships", e.handleMyMemberships)
	write("DELETE /v1/me/organization_memberships/{org}", e.handleLeaveOrganization)
	get("/v1/me/organization_invitations", e.handleMyInvitations)
	write("POST /v1/me/organization_invitations/{inv}/accept", e.handleAcceptMyInvitation)
	get("/v1/me/organization_suggestions", e.handleMySuggestions)
	get("/v1/me/sessions/active", e.handleMyActiveSessions)
	write("POST /v1/me/sessions/{sid}/revoke", e.handleRevokeMySession)
}

// fapiSession is the calling browser's signed-in session: the one ClerkJS
// names in _clerk_session_id when it is the browser's and active, else the
// client's active session. Without one the browser is signed out (401, on
// which ClerkJS reloads its client).
func (e *Emulator) fapiSession(ctx context.Context, q querier, r *http.Request) (*clientRow, *sessionRow, error) {
	cl, err := e.currentClient(ctx, q, r)
	if err != nil {
		return nil, nil, err
	}
	if cl == nil {
		return nil, nil, errSignedOut
	}
	sid := r.URL.Query().Get("_clerk_session_id")
	if sid == "" && cl.ActiveSession != nil {
		sid = *cl.ActiveSession
	}
	s, err := getSession(ctx, q, sid)
	if err != nil || s.ClientID != cl.ID || s.Status != "active" {
		return nil, nil, errSignedOut
	}
	return cl, s, nil
}

// fapiUser is the signed-in user of the calling browser (fapiSession).
func (e *Emulator) fapiUser(ctx context.Context, q querier, r *http.Request) (*userRow, error) {
	_, s, err := e.fapiSession(ctx, q, r)
	if err != nil {
		return nil, err
	}
	return getUser(ctx, q, s.UserID)
}

func (e *Emulator) handleGetMe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := e.fapiUser(ctx, e.pool, r)
	var out *userFAPIJSON
	if err == nil {
		out, err = e.userFAPI(ctx, e.pool, u)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": out})
}

// handleUpdateMe is PATCH /v1/me (user.update()): the names and unsafe
// metadata. Usernames, primary identifiers and passwords are not changed
// here by the emulator.
func (e *Emulator) handleUpdateMe(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "first_name", "last_name", "unsafe_metadata")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var out *userFAPIJSON
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
		var err error
		if cl, s, err = e.fapiSession(ctx, tx, r); err != nil {
			return err
		}
		u, err := getUser(ctx, tx, s.UserID)
		if err != nil {
			return err
		}
		first, last, unsafe := u.FirstName, u.LastName, u.UnsafeMD
		if v, ok := in["first_name"]; ok {
			first = nonEmpty(v)
		}
		if v, ok := in["last_name"]; ok {
			last = nonEmpty(v)
		}
		if v, ok := in["unsafe_metadata"]; ok {
			raw := json.RawMessage(v)
			if unsafe, err = objectOrEmpty(&raw); err != nil {
				return invalidParam("form_param_format_invalid", "unsafe_metadata", "unsafe_metadata must be a JSON object")
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE clerkemu.users SET first_name = $2, last_name = $3, unsafe_metadata = $4, updated_at = $5
			WHERE id = $1`, u.ID, first, last, unsafe, e.nowMS()); err != nil {
			return err
		}
		if err := e.emitUser(ctx, tx, "user.updated", u.ID); err != nil {
			return err
		}
		if u, err = getUser(ctx, tx, u.ID); err != nil {
			return err
		}
		out, err = e.userFAPI(ctx, tx, u)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, out)
}

func nonEmpty(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

// fapiPage reads ClerkJS's limit and offset (convertPageToOffsetSearchParams).
func fapiPage(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	limit, offset = 10, 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, unsupportedValue("limit", "limit must be between 1 and 500")
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, unsupportedValue("offset", "offset must be a non-negative integer")
		}
	}
	return limit, offset, nil
}

// writePage answers a paginated list inside the envelope.
func writePage[T any](w http.ResponseWriter, all []T, limit, offset int) {
	data := []T{}
	if offset < len(all) {
		data = all[offset:min(offset+limit, len(all))]
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": map[string]any{"data": data, "total_count": len(all)}})
}

// handleMyMemberships is GET /v1/me/organization_memberships: what the
// organization switcher lists, oldest first (the user's first organization
// first).
func (e *Emulator) handleMyMemberships(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, offset, err := fapiPage(r)
	var out *userFAPIJSON
	if err == nil {
		var u *userRow
		if u, err = e.fapiUser(ctx, e.pool, r); err == nil {
			out, err = e.userFAPI(ctx, e.pool, u)
		}
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, out.OrganizationMemberships, limit, offset)
}

// handleLeaveOrganization is DELETE /v1/me/organization_memberships/{org}
// (user.leaveOrganization). The last admin cannot leave, as on Clerk.
func (e *Emulator) handleLeaveOrganization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var cl *clientRow
	var m *membershipRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
		var err error
		if cl, s, err = e.fapiSession(ctx, tx, r); err != nil {
			return err
		}
		o, err := getOrg(ctx, tx, r.PathValue("org"))
		if err == nil {
			m, err = lockMembership(ctx, tx, o.ID, s.UserID)
		}
		if err != nil {
			return errNotMember
		}
		return e.removeMember(ctx, tx, m)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, deletedJSON("organization_membership", m.ID))
}

type userInvitationJSON struct {
	Object                 string             `json:"object"`
	ID                     string             `json:"id"`
	EmailAddress           string             `json:"email_address"`
	PublicOrganizationData *publicOrgDataJSON `json:"public_organization_data"`
	PublicMetadata         json.RawMessage    `json:"public_metadata"`
	Status                 string             `json:"status"`
	Role                   string             `json:"role"`
	CreatedAt              int64              `json:"created_at"`
	UpdatedAt              int64              `json:"updated_at"`
}

// userInvitation is an invitation as its invitee sees it.
func (e *Emulator) userInvitation(inv *invitationRow, o *orgRow) *userInvitationJSON {
	return &userInvitationJSON{Object: "organization_invitation", ID: inv.ID, EmailAddress: inv.Email,
		PublicOrganizationData: e.publicOrgData(o), PublicMetadata: inv.PublicMD,
		Status: effectiveStatus(inv.Status, &inv.ExpiresAt, e.nowMS()), Role: inv.Role,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
}

// myPendingInvitations are the pending, unexpired invitations to the
// user's email address.
func (e *Emulator) myPendingInvitations(ctx context.Context, q querier, u *userRow) ([]*userInvitationJSON, error) {
	invs, err := many[invitationRow](ctx, q, "SELECT "+invitationCols+` FROM clerkemu.invitations
		WHERE lower(email) = lower($1) AND status = 'pending' AND expires_at >= $2 ORDER BY created_at DESC, id DESC`,
		u.Email, e.nowMS())
	if err != nil {
		return nil, err
	}
	out := make([]*userInvitationJSON, 0, len(invs))
	for _, inv := range invs {
		o, err := getOrg(ctx, q, inv.OrgID)
		if err != nil {
			return nil, err
		}
		out = append(out, e.userInvitation(inv, o))
	}
	return out, nil
}

// handleMyInvitations is GET /v1/me/organization_invitations; only pending
// invitations are listed (status=pending, what the switcher asks for).
func (e *Emulator) handleMyInvitations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, offset, err := fapiPage(r)
	if err == nil {
		if st := r.URL.Query()["status"]; len(st) > 0 && (len(st) != 1 || st[0] != "pending") {
			err = unsupportedValue("status", "the Clerk emulator lists pending invitations only")
		}
	}
	var invs []*userInvitationJSON
	if err == nil {
		var u *userRow
		if u, err = e.fapiUser(ctx, e.pool, r); err == nil {
			invs, err = e.myPendingInvitations(ctx, e.pool, u)
		}
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, invs, limit, offset)
}

// handleAcceptMyInvitation is POST /v1/me/organization_invitations/{inv}/accept.
func (e *Emulator) handleAcceptMyInvitation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var cl *clientRow
	var out *userInvitationJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
		var err error
		if cl, s, err = e.fapiSession(ctx, tx, r); err != nil {
			return err
		}
		u, err := getUser(ctx, tx, s.UserID)
		if err != nil {
			return err
		}
		inv, err := one[invitationRow](ctx, tx, "SELECT "+invitationCols+" FROM clerkemu.invitations WHERE id = $1 FOR UPDATE", r.PathValue("inv"))
		if err != nil || !strings.EqualFold(inv.Email, u.Email) {
			return errNotFound
		}
		if effectiveStatus(inv.Status, &inv.ExpiresAt, e.nowMS()) != "pending" {
			return invalid("organization_invitation_not_pending", "This invitation is no longer pending.")
		}
		if err := e.acceptInvitation(ctx, tx, inv, u.ID); err != nil {
			return err
		}
		o, err := getOrg(ctx, tx, inv.OrgID)
		if err != nil {
			return err
		}
		out = e.userInvitation(inv, o)
		return nil
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, out)
}

// handleMySuggestions is GET /v1/me/organization_suggestions. Suggestions
// come from verified organization domains, which the emulator does not
// have, so the list is always empty: Clerk's answer for such an instance.
func (e *Emulator) handleMySuggestions(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := fapiPage(r)
	if err == nil {
		_, _, err = e.fapiSession(r.Context(), e.pool, r)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, []any{}, limit, offset)
}

type sessionActivityJSON struct {
	Object   string `json:"object"`
	ID       string `json:"id"`
	IsMobile bool   `json:"is_mobile"`
}

type sessionWithActivitiesJSON struct {
	Object                   string              `json:"object"`
	ID                       string              `json:"id"`
	Status                   string              `json:"status"`
	ExpireAt                 int64               `json:"expire_at"`
	AbandonAt                int64               `json:"abandon_at"`
	LastActiveAt             int64               `json:"last_active_at"`
	LastActiveOrganizationID *string             `json:"last_active_organization_id"`
	LatestActivity           sessionActivityJSON `json:"latest_activity"`
	Actor                    any                 `json:"actor"`
	CreatedAt                int64               `json:"created_at"`
	UpdatedAt                int64               `json:"updated_at"`
}

func sessionWithActivities(s *sessionRow) sessionWithActivitiesJSON {
	return sessionWithActivitiesJSON{Object: "session", ID: s.ID, Status: s.Status, ExpireAt: s.ExpireAt, AbandonAt: s.AbandonAt,
		LastActiveAt: s.LastActiveAt, LastActiveOrganizationID: s.ActiveOrgID,
		LatestActivity: sessionActivityJSON{Object: "session_activity", ID: "sess_activity_" + strings.TrimPrefix(s.ID, "sess_")},
		CreatedAt:      s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// handleMyActiveSessions is GET /v1/me/sessions/active, the devices list of
// <UserProfile/>: the user's active sessions on every browser, as a bare
// array (SessionWithActivities.retrieve reads the payload itself). The
// emulator records no device details, so each activity names none.
func (e *Emulator) handleMyActiveSessions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, s, err := e.fapiSession(ctx, e.pool, r)
	var sessions []*sessionRow
	if err == nil {
		sessions, err = many[sessionRow](ctx, e.pool, "SELECT "+sessionCols+
			" FROM clerkemu.sessions WHERE user_id = $1 AND status = 'active' ORDER BY last_active_at DESC, id", s.UserID)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := make([]sessionWithActivitiesJSON, len(sessions))
	for i, x := range sessions {
		out[i] = sessionWithActivities(x)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleRevokeMySession is POST /v1/me/sessions/{sid}/revoke: signing one
// of the user's other devices out (status revoked, session.revoked).
func (e *Emulator) handleRevokeMySession(w http.ResponseWriter, r *http.Request) {
	if _, err := fapiForm(r); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var revoked *sessionRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
		var err error
		if cl, s, err = e.fapiSession(ctx, tx, r); err != nil {
			return err
		}
		other, err := one[sessionRow](ctx, tx, "SELECT "+sessionCols+" FROM clerkemu.sessions WHERE id = $1 AND user_id = $2 FOR UPDATE",
			r.PathValue("sid"), s.UserID)
		if err != nil {
			return err
		}
		revoked, err = e.endSession(ctx, tx, other, "revoked")
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, sessionWithActivities(revoked))
}
