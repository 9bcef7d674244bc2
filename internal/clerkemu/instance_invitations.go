package clerkemu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Instance invitations (POST /v1/invitations) invite someone to sign up.
// The invitation link carries Clerk's __clerk_ticket, which the Frontend
// API's sign-up accepts (strategy=ticket); no email is sent.

type instanceInvitationRow struct {
	ID          string          `db:"id"`
	Email       string          `db:"email"`
	Status      string          `db:"status"`
	Token       string          `db:"token"`
	RedirectURL string          `db:"redirect_url"`
	PublicMD    json.RawMessage `db:"public_metadata"`
	ExpiresAt   *int64          `db:"expires_at"`
	CreatedAt   int64           `db:"created_at"`
	UpdatedAt   int64           `db:"updated_at"`
}

const instanceInvitationCols = `id, email, status, token, redirect_url, public_metadata, expires_at, created_at, updated_at`

func (e *Emulator) instanceInvitationRoutes(h func(string, http.HandlerFunc)) {
	h("GET /invitations", e.handleListInstanceInvitations)
	h("POST /invitations", e.handleCreateInstanceInvitation)
	h("POST /invitations/bulk", e.handleCreateInstanceInvitationBulk)
	h("POST /invitations/{id}/revoke", e.handleRevokeInstanceInvitation)
	h("DELETE /invitations/{id}", e.handleDeleteInstanceInvitation)
}

type instanceInvitationJSON struct {
	Object         string          `json:"object"`
	ID             string          `json:"id"`
	EmailAddress   string          `json:"email_address"`
	PublicMetadata json.RawMessage `json:"public_metadata"`
	Revoked        bool            `json:"revoked"`
	Status         string          `json:"status"`
	URL            string          `json:"url"`
	ExpiresAt      *int64          `json:"expires_at"`
	CreatedAt      int64           `json:"created_at"`
	UpdatedAt      int64           `json:"updated_at"`
}

// ticketURL adds Clerk's __clerk_ticket to target (the invitation's
// redirect_url, else the app's sign-up page).
func (e *Emulator) ticketURL(target, fallbackPath, ticket string) string {
	u, err := url.Parse(target)
	if target == "" || err != nil {
		u, _ = url.Parse(e.origin + fallbackPath)
	}
	q := u.Query()
	q.Set("__clerk_ticket", ticket)
	u.RawQuery = q.Encode()
	return u.String()
}

func (e *Emulator) instanceInvitationJSON(inv *instanceInvitationRow) *instanceInvitationJSON {
	return &instanceInvitationJSON{Object: "invitation", ID: inv.ID, EmailAddress: inv.Email, PublicMetadata: inv.PublicMD,
		Revoked: inv.Status == "revoked", Status: effectiveStatus(inv.Status, inv.ExpiresAt, e.nowMS()),
		URL: e.ticketURL(inv.RedirectURL, "/sign-up", inv.Token), ExpiresAt: inv.ExpiresAt,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
}

// newInstanceInvitation is the body of POST /invitations and of each item
// of POST /invitations/bulk. notify and template_slug only shape the email
// Clerk would send; the emulator sends none, whatever they say.
type newInstanceInvitation struct {
	EmailAddress   string           `json:"email_address"`
	PublicMetadata *json.RawMessage `json:"public_metadata"`
	RedirectURL    string           `json:"redirect_url"`
	Notify         *bool            `json:"notify"`
	IgnoreExisting bool             `json:"ignore_existing"`
	ExpiresInDays  *int64           `json:"expires_in_days"`
	TemplateSlug   string           `json:"template_slug"`
}

func (e *Emulator) createInstanceInvitation(ctx context.Context, tx pgx.Tx, in newInstanceInvitation) (*instanceInvitationRow, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(in.EmailAddress))
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", "email_address", "email_address must be a valid email address")
	}
	if in.TemplateSlug != "" && in.TemplateSlug != "invitation" && in.TemplateSlug != "waitlist_invitation" {
		return nil, invalidParam("form_param_value_invalid", "template_slug", "template_slug must be invitation or waitlist_invitation")
	}
	pub, err := objectOrEmpty(in.PublicMetadata)
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", "public_metadata", err.Error())
	}
	if in.RedirectURL != "" {
		if u, err := url.Parse(in.RedirectURL); err != nil || !u.IsAbs() {
			return nil, invalidParam("form_param_format_invalid", "redirect_url", "redirect_url must be an absolute URL")
		}
	}
	email := strings.ToLower(addr.Address)
	if !in.IgnoreExisting {
		var taken, invited bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clerkemu.users WHERE lower(email) = $1),
			EXISTS (SELECT 1 FROM clerkemu.instance_invitations WHERE email = $1 AND status = 'pending'
				AND (expires_at IS NULL OR expires_at >= $2))`, email, e.nowMS()).Scan(&taken, &invited); err != nil {
			return nil, err
		}
		if taken {
			return nil, invalidParam("form_identifier_exists", "email_address", email+" is already taken by a user; set ignore_existing to invite anyway")
		}
		if invited {
			return nil, invalidParam("duplicate_record", "email_address", email+" already has a pending invitation; set ignore_existing to invite anyway")
		}
	}
	days := int64(30)
	if in.ExpiresInDays != nil {
		if *in.ExpiresInDays < 1 || *in.ExpiresInDays > 365 {
			return nil, invalidParam("form_param_value_invalid", "expires_in_days", "expires_in_days must be between 1 and 365")
		}
		days = *in.ExpiresInDays
	}
	now := e.now()
	exp := now.Add(time.Duration(days) * 24 * time.Hour).UnixMilli()
	inv := &instanceInvitationRow{ID: newID("inv"), Email: email, Status: "pending", Token: randomString(40),
		RedirectURL: in.RedirectURL, PublicMD: pub, ExpiresAt: &exp, CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.instance_invitations (`+instanceInvitationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, inv.ID, inv.Email, inv.Status, inv.Token, inv.RedirectURL,
		inv.PublicMD, inv.ExpiresAt, inv.CreatedAt, inv.UpdatedAt)
	if err != nil {
		return nil, err
	}
	e.log.Info("invitation (no email is sent by the emulator)", "email", inv.Email, "url", e.instanceInvitationJSON(inv).URL)
	return inv, nil
}

func (e *Emulator) handleCreateInstanceInvitation(w http.ResponseWriter, r *http.Request) {
	var in newInstanceInvitation
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	var inv *instanceInvitationRow
	err := e.tx(r.Context(), func(tx pgx.Tx) error {
		var err error
		inv, err = e.createInstanceInvitation(r.Context(), tx, in)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.instanceInvitationJSON(inv))
}

// handleCreateInstanceInvitationBulk creates every invitation or none and
// answers with the array, as Clerk does.
func (e *Emulator) handleCreateInstanceInvitationBulk(w http.ResponseWriter, r *http.Request) {
	var in []newInstanceInvitation
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if len(in) == 0 {
		e.fail(w, r, invalid("form_param_missing", "the body must be a non-empty array of invitations"))
		return
	}
	out := make([]*instanceInvitationJSON, len(in))
	err := e.tx(r.Context(), func(tx pgx.Tx) error {
		for i, item := range in {
			inv, err := e.createInstanceInvitation(r.Context(), tx, item)
			if err != nil {
				return err
			}
			out[i] = e.instanceInvitationJSON(inv)
		}
		return nil
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

var instanceInvitationOrder = map[string]string{"created_at": "created_at", "email_address": "email", "expires_at": "expires_at"}

// handleListInstanceInvitations answers {data,total_count} with
// paginated=true (what both SDKs send) and a bare array without it, as
// Clerk's legacy list does.
func (e *Emulator) handleListInstanceInvitations(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "status", "query", "order_by", "paginated")
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
		wh.add("(id = %s OR email ILIKE %s)", v, likePattern(v))
	}
	order, err := orderBy(q, instanceInvitationOrder, "id", "created_at DESC, id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	rows, total, err := fetchPage[instanceInvitationRow](r.Context(), e.pool, instanceInvitationCols, "clerkemu.instance_invitations", &wh, order, pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	data := make([]*instanceInvitationJSON, len(rows))
	for i, inv := range rows {
		data[i] = e.instanceInvitationJSON(inv)
	}
	if err := writeList(w, q, data, total); err != nil {
		e.fail(w, r, err)
	}
}

func (e *Emulator) handleRevokeInstanceInvitation(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var inv *instanceInvitationRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		inv, err = one[instanceInvitationRow](ctx, tx, "SELECT "+instanceInvitationCols+" FROM clerkemu.instance_invitations WHERE id = $1 FOR UPDATE", r.PathValue("id"))
		if err != nil {
			return err
		}
		if effectiveStatus(inv.Status, inv.ExpiresAt, e.nowMS()) != "pending" {
			return invalid("invitation_not_pending", "only pending invitations can be revoked")
		}
		inv.Status, inv.UpdatedAt = "revoked", e.nowMS()
		_, err = tx.Exec(ctx, "UPDATE clerkemu.instance_invitations SET status = $2, updated_at = $3 WHERE id = $1", inv.ID, inv.Status, inv.UpdatedAt)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.instanceInvitationJSON(inv))
}

func (e *Emulator) handleDeleteInstanceInvitation(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	tag, err := e.pool.Exec(r.Context(), "DELETE FROM clerkemu.instance_invitations WHERE id = $1", r.PathValue("id"))
	if err == nil && tag.RowsAffected() == 0 {
		err = errNotFound
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON("invitation", r.PathValue("id")))
}

// redeemInstanceInvitation marks the pending invitation with this ticket
// accepted and returns its email address, for the Frontend API's sign-up.
func (e *Emulator) redeemInstanceInvitation(ctx context.Context, tx pgx.Tx, ticket string) (*instanceInvitationRow, error) {
	inv, err := one[instanceInvitationRow](ctx, tx, "SELECT "+instanceInvitationCols+" FROM clerkemu.instance_invitations WHERE token = $1 FOR UPDATE", ticket)
	if err != nil || effectiveStatus(inv.Status, inv.ExpiresAt, e.nowMS()) != "pending" {
		return nil, invalidParam("ticket_invalid", "ticket", "This invitation is not valid any more.")
	}
	inv.Status, inv.UpdatedAt = "accepted", e.nowMS()
	_, err = tx.Exec(ctx, "UPDATE clerkemu.instance_invitations SET status = $2, updated_at = $3 WHERE id = $1", inv.ID, inv.Status, inv.UpdatedAt)
	return inv, err
}
