package clerkemu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/jackc/pgx/v5"
)

func (e *Emulator) membershipRoutes(h func(string, http.HandlerFunc)) {
	h("GET /organization_memberships", e.handleListInstanceMemberships)
	h("GET /organizations/{id}/memberships", e.handleListMemberships)
	h("POST /organizations/{id}/memberships", e.handleCreateMembership)
	h("PATCH /organizations/{id}/memberships/{user_id}", e.handleUpdateMembership)
	h("PATCH /organizations/{id}/memberships/{user_id}/metadata", e.handleMembershipMetadata)
	h("DELETE /organizations/{id}/memberships/{user_id}", e.handleDeleteMembership)
}

// checkRole accepts the roles of Clerk's default role set, org:admin and
// org:member ("admin" and "basic_member" spelled the legacy way too). The
// emulator has no custom roles, and Clerk refuses a role that is not in the
// organization's role set.
func checkRole(role string) (string, error) {
	switch r := normalizeRole(role); r {
	case "org:admin", "org:member":
		return r, nil
	case "":
		return "", invalidParam("form_param_missing", "role", "role is required")
	default:
		return "", unsupportedValue("role", "role "+role+" is not in the role set; the Clerk emulator has org:admin and org:member only.")
	}
}

// addMember creates a membership and queues organizationMembership.created.
func (e *Emulator) addMember(ctx context.Context, tx pgx.Tx, orgID, userID, role string, publicMD, privateMD json.RawMessage) (*membershipRow, error) {
	role, err := checkRole(role)
	if err != nil {
		return nil, err
	}
	o, err := getOrg(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	if _, err := getUser(ctx, tx, userID); err != nil {
		return nil, invalidParam("form_param_value_invalid", "user_id", "user_id is not a user of this instance")
	}
	if o.MaxAllowedMemberships > 0 && o.MembersCount >= o.MaxAllowedMemberships {
		return nil, invalid("organization_membership_quota_exceeded", "the organization has reached its membership limit")
	}
	if publicMD, err = objectOrEmpty(&publicMD); err != nil {
		return nil, invalidParam("form_param_format_invalid", "public_metadata", err.Error())
	}
	if privateMD, err = objectOrEmpty(&privateMD); err != nil {
		return nil, invalidParam("form_param_format_invalid", "private_metadata", err.Error())
	}
	now := e.nowMS()
	m := &membershipRow{ID: newID("orgmem"), OrgID: o.ID, UserID: userID, Role: role,
		PublicMD: publicMD, PrivateMD: privateMD, CreatedAt: now, UpdatedAt: now}
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.memberships (id, org_id, user_id, role, public_metadata, private_metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, m.ID, m.OrgID, m.UserID, m.Role, m.PublicMD, m.PrivateMD, now)
	if isUniqueViolation(err) {
		return nil, invalid("already_a_member_in_organization", "the user is already a member of this organization")
	}
	if err != nil {
		return nil, err
	}
	return m, e.emitMembership(ctx, tx, "organizationMembership.created", m)
}

// membershipListParams are the filters of an organization's membership
// list: the user filters, plus role.
var membershipListParams = []string{
	"order_by", "user_id", "email_address", "phone_number", "username", "web3_wallet", "role", "query",
	"email_address_query", "phone_number_query", "username_query", "name_query",
	"last_active_at_before", "last_active_at_after", "created_at_before", "created_at_after",
}

var membershipOrder = map[string]string{
	"created_at": "m.created_at", "email_address": "u.email", "first_name": "u.first_name",
	"last_name": "u.last_name", "username": "u.username",
}

// listMemberships answers {data,total_count} for the memberships matching
// wh (over memberships m joined with their users u), newest first unless
// order_by says otherwise, as Clerk's lists are.
func (e *Emulator) listMemberships(w http.ResponseWriter, r *http.Request, q url.Values, pg page, wh *where) {
	order, err := orderBy(q, membershipOrder, "m.id", "m.created_at DESC, m.id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	rows, total, err := fetchPage[membershipRow](ctx, e.pool, membershipColsM,
		"clerkemu.memberships m JOIN clerkemu.users u ON u.id = m.user_id", wh, order, pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[*membershipJSON]{Data: make([]*membershipJSON, len(rows)), TotalCount: total}
	for i, m := range rows {
		if out.Data[i], err = e.loadMembershipJSON(ctx, e.pool, m); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleListMemberships(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, membershipListParams...)
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
	wh.add("m.org_id = %s", o.ID)
	if v := q["role"]; len(v) > 0 {
		roles := make([]string, len(v))
		for i := range v {
			roles[i] = normalizeRole(v[i])
		}
		wh.add("m.role = ANY(%s)", roles)
	}
	if err := userFilter(&wh, q, "u."); err != nil {
		e.fail(w, r, err)
		return
	}
	e.listMemberships(w, r, q, pg, &wh)
}

// handleListInstanceMemberships is GET /organization_memberships: every
// membership of the instance.
func (e *Emulator) handleListInstanceMemberships(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "order_by")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.listMemberships(w, r, q, pg, &where{})
}

func (e *Emulator) handleCreateMembership(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID          string          `json:"user_id"`
		Role            string          `json:"role"`
		PublicMetadata  json.RawMessage `json:"public_metadata"`
		PrivateMetadata json.RawMessage `json:"private_metadata"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if in.UserID == "" {
		e.fail(w, r, invalidParam("form_param_missing", "user_id", "user_id is required"))
		return
	}
	ctx := r.Context()
	var out *membershipJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.addMember(ctx, tx, r.PathValue("id"), in.UserID, in.Role, in.PublicMetadata, in.PrivateMetadata)
		if err != nil {
			return err
		}
		out, err = e.loadMembershipJSON(ctx, tx, m)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleMembershipMetadata merges a membership's metadata as Clerk does.
func (e *Emulator) handleMembershipMetadata(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PublicMetadata  opt[json.RawMessage] `json:"public_metadata"`
		PrivateMetadata opt[json.RawMessage] `json:"private_metadata"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	e.changeMembership(w, r, func(ctx context.Context, tx pgx.Tx, m *membershipRow) error {
		for _, p := range []metadataPatch{{"public_metadata", &m.PublicMD, in.PublicMetadata}, {"private_metadata", &m.PrivateMD, in.PrivateMetadata}} {
			if err := p.apply(mergeMetadata); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "UPDATE clerkemu.memberships SET public_metadata = $2, private_metadata = $3 WHERE id = $1", m.ID, m.PublicMD, m.PrivateMD)
		return err
	})
}

// changeMembership locks the membership in the path, runs change, bumps
// updated_at, queues organizationMembership.updated and answers with it.
func (e *Emulator) changeMembership(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *membershipRow) error) {
	ctx := r.Context()
	var out *membershipJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.pathMembership(ctx, tx, r)
		if err != nil {
			return err
		}
		if err := change(ctx, tx, m); err != nil {
			return err
		}
		m.UpdatedAt = e.nowMS()
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.memberships SET updated_at = $2 WHERE id = $1", m.ID, m.UpdatedAt); err != nil {
			return err
		}
		if err := e.emitMembership(ctx, tx, "organizationMembership.updated", m); err != nil {
			return err
		}
		out, err = e.loadMembershipJSON(ctx, tx, m)
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
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	role, err := checkRole(in.Role)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.changeMembership(w, r, func(ctx context.Context, tx pgx.Tx, m *membershipRow) error {
		m.Role = role
		_, err := tx.Exec(ctx, "UPDATE clerkemu.memberships SET role = $2 WHERE id = $1", m.ID, m.Role)
		return err
	})
}

func (e *Emulator) handleDeleteMembership(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	var out *membershipJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		m, err := e.pathMembership(ctx, tx, r)
		if err != nil {
			return err
		}
		if out, err = e.loadMembershipJSON(ctx, tx, m); err != nil {
			return err
		}
		return e.deleteMembership(ctx, tx, m)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteMembership ends a membership and queues
// organizationMembership.deleted. The removed member's sessions lose the
// organization at once, so their next token (at most one lifetime away)
// carries no org.
func (e *Emulator) deleteMembership(ctx context.Context, tx pgx.Tx, m *membershipRow) error {
	data, err := e.loadMembershipJSON(ctx, tx, m)
	if err != nil {
		return err
	}
	if err := e.emit(ctx, tx, "organizationMembership.deleted", m.ID, data); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.sessions SET active_org_id = NULL WHERE user_id = $1 AND active_org_id = $2", m.UserID, m.OrgID); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "DELETE FROM clerkemu.memberships WHERE id = $1", m.ID)
	return err
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
