package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type invitationRow struct {
	ID            string          `db:"id"`
	OrgID         string          `db:"org_id"`
	Email         string          `db:"email"`
	Role          string          `db:"role"`
	Status        string          `db:"status"`
	Token         string          `db:"token"`
	RedirectURL   string          `db:"redirect_url"`
	UserID        *string         `db:"user_id"`
	InviterUserID *string         `db:"inviter_user_id"`
	PublicMD      json.RawMessage `db:"public_metadata"`
	PrivateMD     json.RawMessage `db:"private_metadata"`
	ExpiresAt     int64           `db:"expires_at"`
	CreatedAt     int64           `db:"created_at"`
	UpdatedAt     int64           `db:"updated_at"`
}

const invitationCols = `id, org_id, email, role, status, token, redirect_url, user_id, inviter_user_id, public_metadata,
	private_metadata, expires_at, created_at, updated_at`

func (e *Emulator) invitationRoutes(h func(string, http.HandlerFunc)) {
	h("GET /organization_invitations", e.handleListInstanceOrgInvitations)
	h("GET /organizations/{id}/invitations", e.handleListInvitations)
	h("GET /organizations/{id}/invitations/pending", e.handleListPendingInvitations)
	h("POST /organizations/{id}/invitations", e.handleCreateInvitation)
	h("POST /organizations/{id}/invitations/bulk", e.handleCreateInvitationBulk)
	h("GET /organizations/{id}/invitations/{inv}", e.handleGetInvitation)
	h("POST /organizations/{id}/invitations/{inv}/revoke", e.handleRevokeInvitation)
}

type publicOrgDataJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	ImageURL string `json:"image_url"`
	HasImage bool   `json:"has_image"`
}

type publicInviterJSON struct {
	UserID     string  `json:"user_id"`
	FirstName  *string `json:"first_name"`
	LastName   *string `json:"last_name"`
	ImageURL   string  `json:"image_url"`
	HasImage   bool    `json:"has_image"`
	Identifier string  `json:"identifier"`
}

// orgInvitationJSON is Clerk's OrganizationInvitation, plus user_id, which
// organizationInvitation.accepted carries.
type orgInvitationJSON struct {
	Object                 string             `json:"object"`
	ID                     string             `json:"id"`
	EmailAddress           string             `json:"email_address"`
	Role                   string             `json:"role"`
	RoleName               string             `json:"role_name"`
	OrganizationID         string             `json:"organization_id"`
	InviterID              *string            `json:"inviter_id"`
	PublicInviterData      *publicInviterJSON `json:"public_inviter_data"`
	Status                 string             `json:"status"`
	PublicMetadata         json.RawMessage    `json:"public_metadata"`
	PrivateMetadata        json.RawMessage    `json:"private_metadata"`
	URL                    string             `json:"url"`
	ExpiresAt              int64              `json:"expires_at"`
	CreatedAt              int64              `json:"created_at"`
	UpdatedAt              int64              `json:"updated_at"`
	PublicOrganizationData *publicOrgDataJSON `json:"public_organization_data"`
	UserID                 *string            `json:"user_id,omitempty"`
}

// effectiveStatus is the status Clerk reports: a pending invitation past its
// expiry is "expired".
func effectiveStatus(status string, expiresAt *int64, now int64) string {
	if status == "pending" && expiresAt != nil && *expiresAt < now {
		return "expired"
	}
	return status
}

func (e *Emulator) invitationJSON(ctx context.Context, q querier, inv *invitationRow, o *orgRow) (*orgInvitationJSON, error) {
	out := &orgInvitationJSON{
		Object: "organization_invitation", ID: inv.ID, EmailAddress: inv.Email, Role: inv.Role,
		RoleName: roleName(inv.Role), OrganizationID: inv.OrgID, InviterID: inv.InviterUserID,
		Status:         effectiveStatus(inv.Status, &inv.ExpiresAt, e.nowMS()),
		URL:            e.issuer + "/accept-invitation?token=" + url.QueryEscape(inv.Token),
		PublicMetadata: inv.PublicMD, PrivateMetadata: inv.PrivateMD, ExpiresAt: inv.ExpiresAt,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
		PublicOrganizationData: e.publicOrgData(o),
		UserID:                 inv.UserID,
	}
	if inv.InviterUserID != nil {
		if u, err := getUser(ctx, q, *inv.InviterUserID); err == nil {
			out.PublicInviterData = &publicInviterJSON{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
				ImageURL: e.imageURL(u.ID), Identifier: u.Email}
		} else if !errors.Is(err, errNotFound) {
			return nil, err
		}
	}
	return out, nil
}

func (e *Emulator) emitInvitation(ctx context.Context, q querier, typ string, inv *invitationRow) (*orgInvitationJSON, error) {
	o, err := getOrg(ctx, q, inv.OrgID)
	if err != nil {
		return nil, err
	}
	data, err := e.invitationJSON(ctx, q, inv, o)
	if err != nil {
		return nil, err
	}
	return data, e.emit(ctx, q, typ, inv.ID, data)
}

// newOrgInvitation is the body of POST …/invitations and of each item of
// POST …/invitations/bulk. Clerk's notify switch is accepted: the emulator
// never sends email (it logs the link), whatever it says.
type newOrgInvitation struct {
	EmailAddress    string           `json:"email_address"`
	Role            string           `json:"role"`
	InviterUserID   string           `json:"inviter_user_id"`
	RedirectURL     string           `json:"redirect_url"`
	PublicMetadata  *json.RawMessage `json:"public_metadata"`
	PrivateMetadata *json.RawMessage `json:"private_metadata"`
	ExpiresInDays   *int64           `json:"expires_in_days"`
	Notify          *bool            `json:"notify"`
}

// createInvitation inserts one organization invitation and queues
// organizationInvitation.created.
func (e *Emulator) createInvitation(ctx context.Context, tx pgx.Tx, orgIDOrSlug string, in newOrgInvitation) (*orgInvitationJSON, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(in.EmailAddress))
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", "email_address", "email_address must be a valid email address")
	}
	role, err := checkRole(in.Role)
	if err != nil {
		return nil, err
	}
	days := int64(30)
	if in.ExpiresInDays != nil {
		if *in.ExpiresInDays < 1 || *in.ExpiresInDays > 365 {
			return nil, invalidParam("form_param_value_invalid", "expires_in_days", "expires_in_days must be between 1 and 365")
		}
		days = *in.ExpiresInDays
	}
	pub, err1 := objectOrEmpty(in.PublicMetadata)
	priv, err2 := objectOrEmpty(in.PrivateMetadata)
	if err1 != nil || err2 != nil {
		return nil, invalid("form_param_format_invalid", "metadata must be a JSON object")
	}
	if in.RedirectURL != "" {
		if u, err := url.Parse(in.RedirectURL); err != nil || !u.IsAbs() {
			return nil, invalidParam("form_param_format_invalid", "redirect_url", "redirect_url must be an absolute URL")
		}
	}
	o, err := getOrg(ctx, tx, orgIDOrSlug)
	if err != nil {
		return nil, err
	}
	var inviter *string
	if in.InviterUserID != "" {
		if m, err := getMembership(ctx, tx, o.ID, in.InviterUserID); err != nil || m.Role != "org:admin" {
			return nil, invalidParam("form_param_value_invalid", "inviter_user_id", "inviter_user_id must be an admin of the organization")
		}
		inviter = &in.InviterUserID
	}
	var member bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clerkemu.memberships m JOIN clerkemu.users u ON u.id = m.user_id
		WHERE m.org_id = $1 AND lower(u.email) = lower($2))`, o.ID, addr.Address).Scan(&member); err != nil {
		return nil, err
	}
	if member {
		return nil, invalid("already_a_member_in_organization", addr.Address+" is already a member of this organization")
	}
	now := e.now()
	inv := &invitationRow{ID: newID("orginv"), OrgID: o.ID, Email: strings.ToLower(addr.Address), Role: role,
		Status: "pending", Token: randomString(32), RedirectURL: in.RedirectURL, InviterUserID: inviter,
		PublicMD: pub, PrivateMD: priv,
		ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour).UnixMilli(), CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.invitations (`+invitationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		inv.ID, inv.OrgID, inv.Email, inv.Role, inv.Status, inv.Token, inv.RedirectURL, inv.UserID, inv.InviterUserID,
		inv.PublicMD, inv.PrivateMD, inv.ExpiresAt, inv.CreatedAt, inv.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return e.emitInvitation(ctx, tx, "organizationInvitation.created", inv)
}

func (e *Emulator) logInvitation(inv *orgInvitationJSON) {
	// No mail leaves the machine: the log line is the "email".
	e.log.Info("organization invitation (no email is sent by the emulator)", "email", inv.EmailAddress, "url", inv.URL)
}

func (e *Emulator) handleCreateInvitation(w http.ResponseWriter, r *http.Request) {
	var in newOrgInvitation
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var out *orgInvitationJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = e.createInvitation(ctx, tx, r.PathValue("id"), in)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.logInvitation(out)
	writeJSON(w, http.StatusOK, out)
}

// handleCreateInvitationBulk creates every invitation of the array or none.
func (e *Emulator) handleCreateInvitationBulk(w http.ResponseWriter, r *http.Request) {
	var in []newOrgInvitation
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if len(in) == 0 {
		e.fail(w, r, invalid("form_param_missing", "the body must be a non-empty array of invitations"))
		return
	}
	ctx := r.Context()
	out := list[*orgInvitationJSON]{Data: make([]*orgInvitationJSON, len(in)), TotalCount: int64(len(in))}
	err := e.tx(ctx, func(tx pgx.Tx) error {
		for i, item := range in {
			var err error
			if out.Data[i], err = e.createInvitation(ctx, tx, r.PathValue("id"), item); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	for _, inv := range out.Data {
		e.logInvitation(inv)
	}
	writeJSON(w, http.StatusOK, out)
}

// invitationStatusFilter applies Clerk's status filter, where "expired"
// is a pending invitation past its expiry.
func invitationStatusFilter(wh *where, q url.Values, now int64) error {
	statuses := q["status"]
	if len(statuses) == 0 {
		return nil
	}
	var conds []string
	for _, s := range statuses {
		switch s {
		case "pending":
			conds = append(conds, "(status = 'pending' AND expires_at >= "+wh.next()+")")
			wh.args = append(wh.args, now)
		case "expired":
			conds = append(conds, "(status = 'pending' AND expires_at < "+wh.next()+")")
			wh.args = append(wh.args, now)
		case "accepted", "revoked":
			conds = append(conds, "status = '"+s+"'")
		default:
			return unsupportedValue("status", "status must be pending, accepted, revoked or expired, not "+s)
		}
	}
	wh.conds = append(wh.conds, "("+strings.Join(conds, " OR ")+")")
	return nil
}

// listOrgInvitations answers {data,total_count} for the invitations
// matching wh.
func (e *Emulator) listOrgInvitations(w http.ResponseWriter, r *http.Request, wh *where, pg page, order string) {
	ctx := r.Context()
	rows, total, err := fetchPage[invitationRow](ctx, e.pool, invitationCols, "clerkemu.invitations", wh, order, pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[*orgInvitationJSON]{Data: make([]*orgInvitationJSON, len(rows)), TotalCount: total}
	for i, inv := range rows {
		o, err := getOrg(ctx, e.pool, inv.OrgID)
		if err == nil {
			out.Data[i], err = e.invitationJSON(ctx, e.pool, inv, o)
		}
		if err != nil {
			e.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

var orgInvitationOrder = map[string]string{"created_at": "created_at", "email_address": "email"}

func (e *Emulator) handleListInvitations(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "status", "email_address", "order_by")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	o, err := getOrg(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	wh.add("org_id = %s", o.ID)
	if err := invitationStatusFilter(&wh, q, e.nowMS()); err != nil {
		e.fail(w, r, err)
		return
	}
	if v := q["email_address"]; len(v) > 0 {
		emails := make([]string, len(v))
		for i := range v {
			emails[i] = strings.ToLower(strings.TrimSpace(v[i]))
		}
		wh.add("email = ANY(%s)", emails)
	}
	order, err := orderBy(q, orgInvitationOrder, "id", "created_at DESC, id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.listOrgInvitations(w, r, &wh, pg, order)
}

// handleListInstanceOrgInvitations is GET /organization_invitations: the
// organization invitations of every organization, newest first.
func (e *Emulator) handleListInstanceOrgInvitations(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "status", "query", "order_by")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	if err := invitationStatusFilter(&wh, q, e.nowMS()); err != nil {
		e.fail(w, r, err)
		return
	}
	if v := q.Get("query"); v != "" {
		wh.add("email ILIKE %s", likePattern(v))
	}
	order, err := orderBy(q, orgInvitationOrder, "id", "created_at DESC, id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.listOrgInvitations(w, r, &wh, pg, order)
}

// handleListPendingInvitations is Clerk's deprecated GET
// …/invitations/pending: the pending, unexpired invitations.
func (e *Emulator) handleListPendingInvitations(w http.ResponseWriter, r *http.Request) {
	_, pg, err := listQuery(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	o, err := getOrg(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	wh.add("org_id = %s AND status = 'pending' AND expires_at >= %s", o.ID, e.nowMS())
	e.listOrgInvitations(w, r, &wh, pg, "created_at DESC, id DESC")
}

func (e *Emulator) pathInvitation(ctx context.Context, q querier, r *http.Request, lock string) (*invitationRow, *orgRow, error) {
	o, err := getOrg(ctx, q, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	inv, err := one[invitationRow](ctx, q, "SELECT "+invitationCols+" FROM clerkemu.invitations WHERE id = $1 AND org_id = $2"+lock,
		r.PathValue("inv"), o.ID)
	return inv, o, err
}

func (e *Emulator) handleGetInvitation(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
		e.fail(w, r, err)
		return
	}
	inv, o, err := e.pathInvitation(r.Context(), e.pool, r, "")
	var out *orgInvitationJSON
	if err == nil {
		out, err = e.invitationJSON(r.Context(), e.pool, inv, o)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RequestingUserID string `json:"requesting_user_id"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var out *orgInvitationJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		inv, o, err := e.pathInvitation(ctx, tx, r, " FOR UPDATE")
		if err != nil {
			return err
		}
		if in.RequestingUserID != "" {
			if m, err := getMembership(ctx, tx, o.ID, in.RequestingUserID); err != nil || m.Role != "org:admin" {
				return invalidParam("form_param_value_invalid", "requesting_user_id", "requesting_user_id must be an admin of the organization")
			}
		}
		out, err = e.revokeInvitation(ctx, tx, inv)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeInvitation revokes a pending invitation and queues
// organizationInvitation.revoked.
func (e *Emulator) revokeInvitation(ctx context.Context, tx pgx.Tx, inv *invitationRow) (*orgInvitationJSON, error) {
	if effectiveStatus(inv.Status, &inv.ExpiresAt, e.nowMS()) != "pending" {
		return nil, invalid("organization_invitation_not_pending", "only pending invitations can be revoked")
	}
	inv.Status, inv.UpdatedAt = "revoked", e.nowMS()
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.invitations SET status = $2, updated_at = $3 WHERE id = $1", inv.ID, inv.Status, inv.UpdatedAt); err != nil {
		return nil, err
	}
	return e.emitInvitation(ctx, tx, "organizationInvitation.revoked", inv)
}

// pendingInvitation loads a usable invitation by its secret token.
func (e *Emulator) pendingInvitation(ctx context.Context, q querier, token, lock string) (*invitationRow, error) {
	inv, err := one[invitationRow](ctx, q, "SELECT "+invitationCols+" FROM clerkemu.invitations WHERE token = $1"+lock, token)
	if err != nil {
		return nil, invalid("organization_invitation_not_found", "This invitation link is not valid.")
	}
	if inv.Status != "pending" {
		return nil, invalid("organization_invitation_not_pending", "This invitation has already been "+inv.Status+".")
	}
	if inv.ExpiresAt < e.nowMS() {
		return nil, invalid("organization_invitation_expired", "This invitation has expired.")
	}
	return inv, nil
}

// acceptInvitation makes userID a member with the invited role and marks the
// invitation accepted, queueing both events.
func (e *Emulator) acceptInvitation(ctx context.Context, tx pgx.Tx, inv *invitationRow, userID string) error {
	if _, err := e.addMember(ctx, tx, inv.OrgID, userID, inv.Role, nil, nil); err != nil {
		return err
	}
	inv.Status, inv.UserID, inv.UpdatedAt = "accepted", &userID, e.nowMS()
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.invitations SET status = $2, user_id = $3, updated_at = $4 WHERE id = $1",
		inv.ID, inv.Status, userID, inv.UpdatedAt); err != nil {
		return err
	}
	_, err := e.emitInvitation(ctx, tx, "organizationInvitation.accepted", inv)
	return err
}
