package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5"
)

func (e *Emulator) membershipRoutes(h func(string, http.HandlerFunc)) {
	h("GET /organizations/{id}/memberships", e.handleListMemberships)
	h("POST /organizations/{id}/memberships", e.handleCreateMembership)
	h("PATCH /organizations/{id}/memberships/{user_id}", e.handleUpdateMembership)
	h("DELETE /organizations/{id}/memberships/{user_id}", e.handleDeleteMembership)
}

// addMember creates a membership and queues organizationMembership.created.
func (e *Emulator) addMember(ctx context.Context, tx pgx.Tx, orgID, userID, role string, publicMD json.RawMessage) (*membershipRow, error) {
	role = normalizeRole(role)
	if role == "" {
		return nil, invalid("form_param_missing", "role is required")
	}
	o, err := getOrg(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	if _, err := getUser(ctx, tx, userID); err != nil {
		return nil, invalid("form_param_value_invalid", "user_id is not a user of this instance")
	}
	if o.MaxAllowedMemberships > 0 && o.MembersCount >= o.MaxAllowedMemberships {
		return nil, invalid("organization_membership_quota_exceeded", "the organization has reached its membership limit")
	}
	if publicMD, err = objectOrEmpty(&publicMD); err != nil {
		return nil, invalid("form_param_format_invalid", err.Error())
	}
	now := e.nowMS()
	m := &membershipRow{ID: newID("orgmem"), OrgID: o.ID, UserID: userID, Role: role,
		PublicMD: publicMD, PrivateMD: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now}
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.memberships (id, org_id, user_id, role, public_metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, m.ID, m.OrgID, m.UserID, m.Role, m.PublicMD, now)
	if isUniqueViolation(err) {
		return nil, invalid("already_a_member_in_organization", "the user is already a member of this organization")
	}
	if err != nil {
		return nil, err
	}
	return m, e.emitMembership(ctx, tx, "organizationMembership.created", m)
}

// listMemberships answers {data,total_count} for memberships matching cond
// ($1 = arg), with Clerk's role[] and user_id[] filters.
func (e *Emulator) listMemberships(w http.ResponseWriter, r *http.Request, cond string, arg any) {
	pg, err := pageOf(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	args := []any{arg}
	q := r.URL.Query()
	if v := q["role"]; len(v) > 0 {
		for i := range v {
			v[i] = normalizeRole(v[i])
		}
		args = append(args, v)
		cond += fmt.Sprintf(" AND role = ANY($%d)", len(args))
	}
	if v := q["user_id"]; len(v) > 0 {
		args = append(args, v)
		cond += fmt.Sprintf(" AND user_id = ANY($%d)", len(args))
	}
	ctx := r.Context()
	var total int64
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM clerkemu.memberships WHERE "+cond, args...).Scan(&total); err != nil {
		e.fail(w, r, err)
		return
	}
	args = append(args, pg.limit, pg.offset)
	order := orderBy(r, map[string]string{"created_at": "created_at", "role": "role"}, "created_at ASC, id ASC")
	rows, err := many[membershipRow](ctx, e.pool, fmt.Sprintf("SELECT %s FROM clerkemu.memberships WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d",
		membershipCols, cond, order, len(args)-1, len(args)), args...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[*clerk.OrganizationMembership]{Data: make([]*clerk.OrganizationMembership, len(rows)), TotalCount: total}
	for i, m := range rows {
		if out.Data[i], err = loadMembershipJSON(ctx, e.pool, m); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleListMemberships(w http.ResponseWriter, r *http.Request) {
	o, err := getOrg(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.listMemberships(w, r, "org_id = $1", o.ID)
}

func (e *Emulator) handleCreateMembership(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID         string          `json:"user_id"`
		Role           string          `json:"role"`
		PublicMetadata json.RawMessage `json:"public_metadata"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var out *clerk.OrganizationMembership
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.addMember(ctx, tx, r.PathValue("id"), in.UserID, in.Role, in.PublicMetadata)
		if err != nil {
			return err
		}
		out, err = loadMembershipJSON(ctx, tx, m)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleUpdateMembership(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	role := normalizeRole(in.Role)
	if role == "" {
		e.fail(w, r, invalid("form_param_missing", "role is required"))
		return
	}
	ctx := r.Context()
	var out *clerk.OrganizationMembership
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.pathMembership(ctx, tx, r)
		if err != nil {
			return err
		}
		m.Role, m.UpdatedAt = role, e.nowMS()
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.memberships SET role = $2, updated_at = $3 WHERE id = $1", m.ID, m.Role, m.UpdatedAt); err != nil {
			return err
		}
		if err := e.emitMembership(ctx, tx, "organizationMembership.updated", m); err != nil {
			return err
		}
		out, err = loadMembershipJSON(ctx, tx, m)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleDeleteMembership(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var out *clerk.OrganizationMembership
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.pathMembership(ctx, tx, r)
		if err != nil {
			return err
		}
		if out, err = loadMembershipJSON(ctx, tx, m); err != nil {
			return err
		}
		if err := e.emit(ctx, tx, "organizationMembership.deleted", m.ID, out); err != nil {
			return err
		}
		// The removed member's sessions lose the organization at once, so
		// their next token (at most one lifetime away) carries no org.
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.sessions SET active_org_id = NULL WHERE user_id = $1 AND active_org_id = $2", m.UserID, m.OrgID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM clerkemu.memberships WHERE id = $1", m.ID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pathMembership locks the membership named by /organizations/{id}/memberships/{user_id}.
func (e *Emulator) pathMembership(ctx context.Context, tx pgx.Tx, r *http.Request) (*membershipRow, error) {
	o, err := getOrg(ctx, tx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return one[membershipRow](ctx, tx, "SELECT "+membershipCols+" FROM clerkemu.memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE",
		o.ID, r.PathValue("user_id"))
}
