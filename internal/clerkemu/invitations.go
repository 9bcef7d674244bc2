package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5"
)

type invitationRow struct {
	ID          string          `db:"id"`
	OrgID       string          `db:"org_id"`
	Email       string          `db:"email"`
	Role        string          `db:"role"`
	Status      string          `db:"status"`
	Token       string          `db:"token"`
	RedirectURL string          `db:"redirect_url"`
	UserID      *string         `db:"user_id"`
	PublicMD    json.RawMessage `db:"public_metadata"`
	PrivateMD   json.RawMessage `db:"private_metadata"`
	ExpiresAt   int64           `db:"expires_at"`
	CreatedAt   int64           `db:"created_at"`
	UpdatedAt   int64           `db:"updated_at"`
}

const invitationCols = `id, org_id, email, role, status, token, redirect_url, user_id, public_metadata,
	private_metadata, expires_at, created_at, updated_at`

func (e *Emulator) invitationRoutes(h func(string, http.HandlerFunc)) {
	h("GET /organizations/{id}/invitations", e.handleListInvitations)
	h("POST /organizations/{id}/invitations", e.handleCreateInvitation)
	h("GET /organizations/{id}/invitations/{inv}", e.handleGetInvitation)
	h("POST /organizations/{id}/invitations/{inv}/revoke", e.handleRevokeInvitation)
}

// invitationWire adds user_id, which organizationInvitation.accepted carries.
type invitationWire struct {
	*clerk.OrganizationInvitation
	UserID *string `json:"user_id,omitempty"`
}

func (e *Emulator) invitationJSON(inv *invitationRow, o *orgRow) invitationWire {
	exp := inv.ExpiresAt
	return invitationWire{&clerk.OrganizationInvitation{
		Object: "organization_invitation", ID: inv.ID, EmailAddress: inv.Email, Role: inv.Role,
		RoleName: roleName(inv.Role), OrganizationID: inv.OrgID, Status: inv.Status,
		URL:            e.issuer + "/accept-invitation?token=" + url.QueryEscape(inv.Token),
		PublicMetadata: inv.PublicMD, PrivateMetadata: inv.PrivateMD, ExpiresAt: &exp,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
		PublicOrganizationData: &clerk.PublicOrganizationData{ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: imageURL(o.ID)},
	}, inv.UserID}
}

func (e *Emulator) emitInvitation(ctx context.Context, q querier, typ string, inv *invitationRow) (invitationWire, error) {
	o, err := getOrg(ctx, q, inv.OrgID)
	if err != nil {
		return invitationWire{}, err
	}
	data := e.invitationJSON(inv, o)
	return data, e.emit(ctx, q, typ, inv.ID, data)
}

func (e *Emulator) handleCreateInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EmailAddress    string           `json:"email_address"`
		Role            string           `json:"role"`
		RedirectURL     string           `json:"redirect_url"`
		PublicMetadata  *json.RawMessage `json:"public_metadata"`
		PrivateMetadata *json.RawMessage `json:"private_metadata"`
		ExpiresInDays   *int64           `json:"expires_in_days"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	addr, err := mail.ParseAddress(strings.TrimSpace(in.EmailAddress))
	if err != nil {
		e.fail(w, r, invalid("form_param_format_invalid", "email_address must be a valid email address"))
		return
	}
	role := normalizeRole(in.Role)
	if role == "" {
		e.fail(w, r, invalid("form_param_missing", "role is required"))
		return
	}
	days := int64(30)
	if in.ExpiresInDays != nil && *in.ExpiresInDays > 0 {
		days = *in.ExpiresInDays
	}
	pub, err1 := objectOrEmpty(in.PublicMetadata)
	priv, err2 := objectOrEmpty(in.PrivateMetadata)
	if err1 != nil || err2 != nil {
		e.fail(w, r, invalid("form_param_format_invalid", "metadata must be a JSON object"))
		return
	}
	ctx := r.Context()
	var out invitationWire
	err = e.tx(ctx, func(tx pgx.Tx) error {
		o, err := getOrg(ctx, tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		var member bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clerkemu.memberships m JOIN clerkemu.users u ON u.id = m.user_id
			WHERE m.org_id = $1 AND lower(u.email) = lower($2))`, o.ID, addr.Address).Scan(&member); err != nil {
			return err
		}
		if member {
			return invalid("already_a_member_in_organization", addr.Address+" is already a member of this organization")
		}
		now := e.now()
		inv := &invitationRow{ID: newID("orginv"), OrgID: o.ID, Email: strings.ToLower(addr.Address), Role: role,
			Status: "pending", Token: randomString(32), RedirectURL: in.RedirectURL, PublicMD: pub, PrivateMD: priv,
			ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour).UnixMilli(), CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
		_, err = tx.Exec(ctx, `INSERT INTO clerkemu.invitations (`+invitationCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			inv.ID, inv.OrgID, inv.Email, inv.Role, inv.Status, inv.Token, inv.RedirectURL, inv.UserID,
			inv.PublicMD, inv.PrivateMD, inv.ExpiresAt, inv.CreatedAt, inv.UpdatedAt)
		if err != nil {
			return err
		}
		out, err = e.emitInvitation(ctx, tx, "organizationInvitation.created", inv)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	// No mail leaves the machine: the log line is the "email".
	e.log.Info("organization invitation (no email is sent by the emulator)", "email", out.EmailAddress, "url", out.URL)
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleListInvitations(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	o, err := getOrg(ctx, e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	args := []any{o.ID}
	cond := "org_id = $1"
	if v := r.URL.Query()["status"]; len(v) > 0 {
		args = append(args, v)
		cond += " AND status = ANY($2)"
	}
	var total int64
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM clerkemu.invitations WHERE "+cond, args...).Scan(&total); err != nil {
		e.fail(w, r, err)
		return
	}
	args = append(args, pg.limit, pg.offset)
	rows, err := many[invitationRow](ctx, e.pool, fmt.Sprintf("SELECT %s FROM clerkemu.invitations WHERE %s ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d",
		invitationCols, cond, len(args)-1, len(args)), args...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[invitationWire]{Data: make([]invitationWire, len(rows)), TotalCount: total}
	for i, inv := range rows {
		out.Data[i] = e.invitationJSON(inv, o)
	}
	writeJSON(w, http.StatusOK, out)
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
	inv, o, err := e.pathInvitation(r.Context(), e.pool, r, "")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.invitationJSON(inv, o))
}

func (e *Emulator) handleRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var out invitationWire
	err := e.tx(ctx, func(tx pgx.Tx) error {
		inv, _, err := e.pathInvitation(ctx, tx, r, " FOR UPDATE")
		if err != nil {
			return err
		}
		if inv.Status != "pending" {
			return invalid("organization_invitation_not_pending", "only pending invitations can be revoked")
		}
		inv.Status, inv.UpdatedAt = "revoked", e.nowMS()
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.invitations SET status = $2, updated_at = $3 WHERE id = $1", inv.ID, inv.Status, inv.UpdatedAt); err != nil {
			return err
		}
		out, err = e.emitInvitation(ctx, tx, "organizationInvitation.revoked", inv)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
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
	if _, err := e.addMember(ctx, tx, inv.OrgID, userID, inv.Role, nil); err != nil {
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
