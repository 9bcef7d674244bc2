package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Organizations through the Frontend API, as ClerkJS's Organization,
// OrganizationMembership and OrganizationInvitation resources and the
// <OrganizationSwitcher/>, <CreateOrganization/> and
// <OrganizationProfile/> components use them. The signed-in user acts for
// themselves: members may read, admins (org:admin, whose permissions
// include org:sys_profile:manage and org:sys_memberships:manage) may
// change. Every change is delivered as a webhook, as on Clerk.

func (e *Emulator) orgFrontendRoutes(get, write func(string, http.HandlerFunc)) {
	// POST /v1/organizations is also the Backend API's create when the
	// request carries the secret key (see routes).
	write("POST /v1/organizations", e.handleFrontendCreateOrg)
	get("/v1/organizations/{id}", e.handleFrontendGetOrg)
	write("PATCH /v1/organizations/{id}", e.handleFrontendUpdateOrg)
	write("DELETE /v1/organizations/{id}", e.handleFrontendDeleteOrg)
	write("PUT /v1/organizations/{id}/logo", e.handleFrontendLogo)
	write("DELETE /v1/organizations/{id}/logo", e.handleFrontendLogo)
	get("/v1/organizations/{id}/memberships", e.handleFrontendMemberships)
	write("PATCH /v1/organizations/{id}/memberships/{user_id}", e.handleFrontendUpdateMember)
	write("DELETE /v1/organizations/{id}/memberships/{user_id}", e.handleFrontendRemoveMember)
	get("/v1/organizations/{id}/invitations", e.handleFrontendInvitations)
	write("POST /v1/organizations/{id}/invitations", e.handleFrontendInvite)
	write("POST /v1/organizations/{id}/invitations/bulk", e.handleFrontendInvite)
	write("POST /v1/organizations/{id}/invitations/{inv}/revoke", e.handleFrontendRevokeInvitation)
	get("/v1/organizations/{id}/roles", e.handleFrontendRoles)
	get("/v1/organizations/{id}/domains", e.handleFrontendEmptyList)
	get("/v1/organizations/{id}/membership_requests", e.handleFrontendEmptyList)
}

// errNotAllowed is Clerk's answer to a member acting beyond their role.
var errNotAllowed = &clientError{status: http.StatusForbidden, code: "authorization_invalid",
	msg: "You are not authorized to perform this request", long: "Only an admin of the organization can do this."}

// orgAccess is the signed-in caller's standing in the organization in the
// path.
type orgAccess struct {
	client  *clientRow
	session *sessionRow
	org     *orgRow
	member  *membershipRow
}

// orgAccessFor checks that the caller is a member of the organization in
// the path, and an admin when admin is set.
func (e *Emulator) orgAccessFor(ctx context.Context, q querier, r *http.Request, admin bool) (*orgAccess, error) {
	cl, s, err := e.fapiSession(ctx, q, r)
	if err != nil {
		return nil, err
	}
	o, err := getOrg(ctx, q, r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		return nil, errNotMember
	}
	if err != nil {
		return nil, err
	}
	m, err := getMembership(ctx, q, o.ID, s.UserID)
	if errors.Is(err, errNotFound) {
		return nil, errNotMember
	}
	if err != nil {
		return nil, err
	}
	if admin && m.Role != "org:admin" {
		return nil, errNotAllowed
	}
	return &orgAccess{client: cl, session: s, org: o, member: m}, nil
}

// handleFrontendCreateOrg is Clerk.createOrganization: the signed-in user
// creates an organization and becomes its admin. Switching to it is a
// separate setActive, as with Clerk.
func (e *Emulator) handleFrontendCreateOrg(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "name", "slug")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var o *orgRow
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
		if !u.CreateOrganizationEnabled {
			return &clientError{status: http.StatusForbidden, code: "not_allowed_to_create_organization",
				msg: "You are not allowed to create organizations."}
		}
		o, err = e.createOrg(ctx, tx, newOrg{Name: in["name"], Slug: strings.TrimSpace(in["slug"]), CreatedBy: s.UserID})
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, e.orgFAPI(o))
}

func (e *Emulator) handleFrontendGetOrg(w http.ResponseWriter, r *http.Request) {
	a, err := e.orgAccessFor(r.Context(), e.pool, r, false)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": e.orgFAPI(a.org)})
}

// changeOrg runs change as an admin of the organization in the path, then
// records the change (updated_at, organization.updated) and answers with
// the organization and the client.
func (e *Emulator) changeOrg(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *orgRow) error) {
	ctx := r.Context()
	var a *orgAccess
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = e.orgAccessFor(ctx, tx, r, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT 1 FROM clerkemu.organizations WHERE id = $1 FOR UPDATE", a.org.ID); err != nil {
			return err
		}
		if err := change(ctx, tx, a.org); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.organizations SET updated_at = $2 WHERE id = $1", a.org.ID, e.nowMS()); err != nil {
			return err
		}
		if err := e.emitOrg(ctx, tx, "organization.updated", a.org.ID); err != nil {
			return err
		}
		a.org, err = getOrg(ctx, tx, a.org.ID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, a.client.ID, e.orgFAPI(a.org))
}

// handleFrontendUpdateOrg is organization.update({name, slug}).
func (e *Emulator) handleFrontendUpdateOrg(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "name", "slug")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	name, slug := nonEmpty(in["name"]), nonEmpty(in["slug"])
	if _, ok := in["name"]; ok && name == nil {
		e.fail(w, r, invalidParam("form_param_nil", "name", "Enter a name."))
		return
	}
	if slug != nil && !slugRE.MatchString(*slug) {
		e.fail(w, r, invalidParam("form_param_format_invalid", "slug", "Slug can only contain lowercase letters, digits and dashes."))
		return
	}
	e.changeOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
		_, err := tx.Exec(ctx, "UPDATE clerkemu.organizations SET name = COALESCE($2, name), slug = COALESCE($3, slug) WHERE id = $1",
			o.ID, name, slug)
		if isUniqueViolation(err) {
			return invalidParam("form_identifier_exists", "slug", "That slug is taken. Please try another.")
		}
		return err
	})
}

// handleFrontendDeleteOrg is organization.destroy(), for admins when the
// organization allows it (admin_delete_enabled).
func (e *Emulator) handleFrontendDeleteOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var a *orgAccess
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = e.orgAccessFor(ctx, tx, r, true); err != nil {
			return err
		}
		if !a.org.AdminDeleteEnabled {
			return errNotAllowed
		}
		return e.deleteOrg(ctx, tx, a.org)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, a.client.ID, deletedJSON("organization", a.org.ID))
}

// handleFrontendMemberships is organization.getMemberships(): the members,
// oldest first, optionally of some roles.
func (e *Emulator) handleFrontendMemberships(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, offset, err := fapiPage(r)
	var a *orgAccess
	if err == nil {
		a, err = e.orgAccessFor(ctx, e.pool, r, false)
	}
	var mems []*membershipRow
	if err == nil {
		roles := []string{}
		for _, role := range r.URL.Query()["role"] {
			roles = append(roles, normalizeRole(role))
		}
		mems, err = many[membershipRow](ctx, e.pool, "SELECT "+membershipCols+
			" FROM clerkemu.memberships WHERE org_id = $1 AND (cardinality($2::text[]) = 0 OR role = ANY($2)) ORDER BY created_at, id",
			a.org.ID, roles)
	}
	out := make([]*membershipFAPIJSON, 0, len(mems))
	for _, m := range mems {
		if err != nil {
			break
		}
		var u *userRow
		if u, err = getUser(ctx, e.pool, m.UserID); err == nil {
			out = append(out, e.membershipFAPI(m, a.org, u))
		}
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, out, limit, offset)
}

// handleFrontendUpdateMember changes a member's role (admins only). The
// organization keeps at least one admin.
func (e *Emulator) handleFrontendUpdateMember(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "role")
	var role string
	if err == nil {
		role, err = checkRole(in["role"])
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.changeMember(w, r, func(ctx context.Context, tx pgx.Tx, m *membershipRow) (any, error) {
		if m.Role == "org:admin" && role != "org:admin" {
			if err := e.keepAnAdmin(ctx, tx, m); err != nil {
				return nil, err
			}
		}
		m.Role, m.UpdatedAt = role, e.nowMS()
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.memberships SET role = $2, updated_at = $3 WHERE id = $1", m.ID, m.Role, m.UpdatedAt); err != nil {
			return nil, err
		}
		if err := e.emitMembership(ctx, tx, "organizationMembership.updated", m); err != nil {
			return nil, err
		}
		return e.loadMembershipFAPI(ctx, tx, m)
	})
}

// handleFrontendRemoveMember removes a member (admins only), never the
// last admin.
func (e *Emulator) handleFrontendRemoveMember(w http.ResponseWriter, r *http.Request) {
	e.changeMember(w, r, func(ctx context.Context, tx pgx.Tx, m *membershipRow) (any, error) {
		out, err := e.loadMembershipFAPI(ctx, tx, m)
		if err != nil {
			return nil, err
		}
		return out, e.removeMember(ctx, tx, m)
	})
}

// changeMember runs change on the membership in the path as an admin.
func (e *Emulator) changeMember(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *membershipRow) (any, error)) {
	if _, err := fapiForm(r, "role"); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var a *orgAccess
	var out any
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = e.orgAccessFor(ctx, tx, r, true); err != nil {
			return err
		}
		m, err := lockMembership(ctx, tx, a.org.ID, r.PathValue("user_id"))
		if err != nil {
			return err
		}
		out, err = change(ctx, tx, m)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, a.client.ID, out)
}

func lockMembership(ctx context.Context, tx pgx.Tx, orgID, userID string) (*membershipRow, error) {
	return one[membershipRow](ctx, tx, "SELECT "+membershipCols+" FROM clerkemu.memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE",
		orgID, userID)
}

// keepAnAdmin refuses to take away the organization's last admin, with
// Clerk's organization_minimum_permissions_needed.
func (e *Emulator) keepAnAdmin(ctx context.Context, tx pgx.Tx, m *membershipRow) error {
	var others int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM clerkemu.memberships WHERE org_id = $1 AND role = 'org:admin' AND id <> $2`,
		m.OrgID, m.ID).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return invalid("organization_minimum_permissions_needed",
			"There has to be at least one organization member with the minimum required permissions.")
	}
	return nil
}

// removeMember ends a membership through the Frontend API (a member
// leaving, an admin removing them), keeping an admin in the organization.
func (e *Emulator) removeMember(ctx context.Context, tx pgx.Tx, m *membershipRow) error {
	if m.Role == "org:admin" {
		if err := e.keepAnAdmin(ctx, tx, m); err != nil {
			return err
		}
	}
	return e.deleteMembership(ctx, tx, m)
}

type orgInvitationFAPIJSON struct {
	Object         string          `json:"object"`
	ID             string          `json:"id"`
	EmailAddress   string          `json:"email_address"`
	OrganizationID string          `json:"organization_id"`
	PublicMetadata json.RawMessage `json:"public_metadata"`
	Status         string          `json:"status"`
	Role           string          `json:"role"`
	RoleName       string          `json:"role_name"`
	CreatedAt      int64           `json:"created_at"`
	UpdatedAt      int64           `json:"updated_at"`
}

func (e *Emulator) invitationFAPI(inv *orgInvitationJSON) *orgInvitationFAPIJSON {
	return &orgInvitationFAPIJSON{Object: "organization_invitation", ID: inv.ID, EmailAddress: inv.EmailAddress,
		OrganizationID: inv.OrganizationID, PublicMetadata: inv.PublicMetadata, Status: inv.Status, Role: inv.Role,
		RoleName: inv.RoleName, CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
}

// handleFrontendInvitations is organization.getInvitations(): admins see
// the invitations, newest first, optionally by status.
func (e *Emulator) handleFrontendInvitations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, offset, err := fapiPage(r)
	var a *orgAccess
	if err == nil {
		a, err = e.orgAccessFor(ctx, e.pool, r, true)
	}
	var invs []*invitationRow
	if err == nil {
		wh := where{}
		wh.add("org_id = %s", a.org.ID)
		if err = invitationStatusFilter(&wh, r.URL.Query(), e.nowMS()); err == nil {
			invs, err = many[invitationRow](ctx, e.pool, "SELECT "+invitationCols+" FROM clerkemu.invitations"+wh.sql()+
				" ORDER BY created_at DESC, id DESC", wh.args...)
		}
	}
	out := make([]*orgInvitationFAPIJSON, 0, len(invs))
	for _, inv := range invs {
		if err != nil {
			break
		}
		var j *orgInvitationJSON
		if j, err = e.invitationJSON(ctx, e.pool, inv, a.org); err == nil {
			out = append(out, e.invitationFAPI(j))
		}
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, out, limit, offset)
}

// handleFrontendInvite is organization.inviteMember and inviteMembers
// (…/bulk, one email_address per address): admins invite, as the inviter.
// The emulator sends no email; the accept link is logged.
func (e *Emulator) handleFrontendInvite(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "email_address", "role")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	bulk := strings.HasSuffix(r.URL.Path, "/bulk")
	emails := r.PostForm["email_address"]
	if !bulk {
		emails = []string{in["email_address"]}
	}
	ctx := r.Context()
	var a *orgAccess
	var out []*orgInvitationFAPIJSON
	var logged []*orgInvitationJSON
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = e.orgAccessFor(ctx, tx, r, true); err != nil {
			return err
		}
		for _, email := range emails {
			inv, err := e.createInvitation(ctx, tx, a.org.ID, newOrgInvitation{EmailAddress: email, Role: in["role"],
				InviterUserID: a.session.UserID})
			if err != nil {
				return err
			}
			logged = append(logged, inv)
			out = append(out, e.invitationFAPI(inv))
		}
		return nil
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	for _, inv := range logged {
		e.logInvitation(inv)
	}
	if bulk {
		e.respondClient(w, r, a.client.ID, out)
		return
	}
	e.respondClient(w, r, a.client.ID, out[0])
}

// handleFrontendRevokeInvitation is invitation.revoke(), for admins.
func (e *Emulator) handleFrontendRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	if _, err := fapiForm(r); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var a *orgAccess
	var out *orgInvitationJSON
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = e.orgAccessFor(ctx, tx, r, true); err != nil {
			return err
		}
		inv, err := one[invitationRow](ctx, tx, "SELECT "+invitationCols+" FROM clerkemu.invitations WHERE id = $1 AND org_id = $2 FOR UPDATE",
			r.PathValue("inv"), a.org.ID)
		if err != nil {
			return err
		}
		out, err = e.revokeInvitation(ctx, tx, inv)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, a.client.ID, e.invitationFAPI(out))
}

type permissionJSON struct {
	Object      string `json:"object"`
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
}

type roleJSON struct {
	Object      string           `json:"object"`
	ID          string           `json:"id"`
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Permissions []permissionJSON `json:"permissions"`
	CreatedAt   int64            `json:"created_at"`
	UpdatedAt   int64            `json:"updated_at"`
}

// handleFrontendRoles is organization.getRoles(): Clerk's default role
// set, the only one the emulator has.
func (e *Emulator) handleFrontendRoles(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := fapiPage(r)
	if err == nil {
		_, err = e.orgAccessFor(r.Context(), e.pool, r, false)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	created := int64(0)
	var roles []roleJSON
	for _, key := range []string{"org:admin", "org:member"} {
		role := roleJSON{Object: "role", ID: "role_" + strings.TrimPrefix(key, "org:"), Key: key, Name: roleName(key),
			Permissions: []permissionJSON{}, CreatedAt: created, UpdatedAt: created}
		for _, p := range systemPermissions[key] {
			role.Permissions = append(role.Permissions, permissionJSON{Object: "permission", ID: "perm_" + strings.ReplaceAll(p, ":", "_"),
				Key: p, Name: p, Type: "system", CreatedAt: created, UpdatedAt: created})
		}
		roles = append(roles, role)
	}
	data := []roleJSON{}
	if offset < len(roles) {
		data = roles[offset:min(offset+limit, len(roles))]
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": map[string]any{"data": data, "total_count": len(roles),
		"has_role_set_migration": false}})
}

// handleFrontendEmptyList answers the lists of features the emulator does
// not have (verified domains, membership requests): always empty, which is
// Clerk's answer for an organization without them.
func (e *Emulator) handleFrontendEmptyList(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := fapiPage(r)
	if err == nil {
		_, err = e.orgAccessFor(r.Context(), e.pool, r, false)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writePage(w, []any{}, limit, offset)
}
