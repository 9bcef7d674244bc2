package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

func (e *Emulator) orgRoutes(h func(string, http.HandlerFunc)) {
	h("GET /organizations", e.handleListOrgs)
	h("POST /organizations", e.handleCreateOrg)
	h("GET /organizations/{id}", e.handleGetOrg)
	h("PATCH /organizations/{id}", e.handleUpdateOrg)
	h("PATCH /organizations/{id}/metadata", e.handleOrgMetadata(mergeMetadata))
	h("PUT /organizations/{id}/metadata", e.handleOrgMetadata(replaceMetadata))
	h("PUT /organizations/{id}/logo", e.handleUploadOrgLogo)
	h("DELETE /organizations/{id}/logo", e.handleDeleteOrgLogo)
	h("DELETE /organizations/{id}", e.handleDeleteOrg)
}

type newOrg struct {
	Name, Slug, CreatedBy string
	MaxAllowed            int64
	PublicMD, PrivateMD   json.RawMessage
	CreatedAt             *int64
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// slugify derives a slug from a name the way Clerk's dashboard does:
// lowercase, runs of other characters become one dash.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if s == "" {
		s = "org"
	}
	return s
}

// createOrg inserts an organization and queues organization.created; with
// CreatedBy set, the creator becomes its first org:admin, Clerk's default
// creator role.
func (e *Emulator) createOrg(ctx context.Context, tx pgx.Tx, n newOrg) (*orgRow, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return nil, invalidParam("form_param_missing", "name", "name is required")
	}
	explicitSlug := n.Slug != ""
	if !explicitSlug {
		n.Slug = slugify(n.Name)
	}
	if !slugRE.MatchString(n.Slug) {
		return nil, invalidParam("form_param_format_invalid", "slug", "slug must contain only lowercase letters, digits and dashes")
	}
	var err error
	for _, md := range []*json.RawMessage{&n.PublicMD, &n.PrivateMD} {
		if *md, err = objectOrEmpty(md); err != nil {
			return nil, invalid("form_param_format_invalid", err.Error())
		}
	}
	if n.CreatedBy != "" {
		if _, err := getUser(ctx, tx, n.CreatedBy); err != nil {
			return nil, invalidParam("form_param_value_invalid", "created_by", "created_by is not a user of this instance")
		}
	}
	id := newID("org")
	now := e.nowMS()
	created := now
	if n.CreatedAt != nil {
		created = *n.CreatedAt
	}
	for attempt := 0; ; attempt++ {
		slug := n.Slug
		if attempt > 0 {
			slug = fmt.Sprintf("%s-%s", n.Slug, strings.ToLower(randomString(4)))
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT org_insert"); err != nil {
			return nil, err
		}
		_, err = tx.Exec(ctx, `INSERT INTO clerkemu.organizations (id, name, slug, max_allowed_memberships, public_metadata,
			private_metadata, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, n.Name, slug, n.MaxAllowed, n.PublicMD, n.PrivateMD, n.CreatedBy, created, now)
		if !isUniqueViolation(err) {
			break
		}
		if _, rbErr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT org_insert"); rbErr != nil {
			return nil, rbErr
		}
		// A chosen slug must be unique; a derived one gets a suffix.
		if explicitSlug || attempt > 3 {
			return nil, invalidParam("form_identifier_exists", "slug", "That slug is taken. Please try another.")
		}
	}
	if err != nil {
		return nil, err
	}
	if err := e.emitOrg(ctx, tx, "organization.created", id); err != nil {
		return nil, err
	}
	if n.CreatedBy != "" {
		if _, err := e.addMember(ctx, tx, id, n.CreatedBy, "org:admin", nil, nil); err != nil {
			return nil, err
		}
	}
	return getOrg(ctx, tx, id)
}

var orgOrder = map[string]string{"created_at": "o.created_at", "name": "o.name", "members_count": "members_count"}

// orgFlags are GET /organizations' include_* switches. The emulator always
// includes members_count and missing_member_with_elevated_permissions, so
// they change nothing but are understood.
var orgFlags = []string{"include_members_count", "include_missing_member_with_elevated_permissions"}

func (e *Emulator) handleListOrgs(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, append(orgFlags, "query", "user_id", "organization_id", "order_by")...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	for _, f := range orgFlags {
		if _, err := boolParam(q, f); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	var wh where
	if inc, exc := includeExclude(q["user_id"]); len(inc)+len(exc) > 0 {
		if len(inc) > 0 {
			wh.add("o.id IN (SELECT org_id FROM clerkemu.memberships WHERE user_id = ANY(%s))", inc)
		}
		if len(exc) > 0 {
			wh.add("o.id NOT IN (SELECT org_id FROM clerkemu.memberships WHERE user_id = ANY(%s))", exc)
		}
	}
	if inc, exc := includeExclude(q["organization_id"]); len(inc)+len(exc) > 0 {
		if len(inc) > 0 {
			wh.add("o.id = ANY(%s)", inc)
		}
		if len(exc) > 0 {
			wh.add("NOT (o.id = ANY(%s))", exc)
		}
	}
	if v := q.Get("query"); v != "" {
		// Clerk: exact match on the id, partial on name and slug.
		wh.add("(o.id = %s OR o.name ILIKE %s OR o.slug ILIKE %s)", v, likePattern(v), likePattern(v))
	}
	order, err := orderBy(q, orgOrder, "o.id", "o.created_at DESC, o.id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	rows, total, err := fetchPage[orgRow](r.Context(), e.pool, orgCols, "clerkemu.organizations o", &wh, order, pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[*orgJSON]{Data: make([]*orgJSON, len(rows)), TotalCount: total}
	for i, o := range rows {
		out.Data[i] = e.orgJSON(o)
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleGetOrg(w http.ResponseWriter, r *http.Request) {
	q, err := checkQuery(r, orgFlags...)
	if err == nil {
		for _, f := range orgFlags {
			if _, err = boolParam(q, f); err != nil {
				break
			}
		}
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	o, err := getOrg(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.orgJSON(o))
}

func (e *Emulator) handleCreateOrg(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name                  string           `json:"name"`
		Slug                  string           `json:"slug"`
		CreatedBy             string           `json:"created_by"`
		MaxAllowedMemberships int64            `json:"max_allowed_memberships"`
		PublicMetadata        *json.RawMessage `json:"public_metadata"`
		PrivateMetadata       *json.RawMessage `json:"private_metadata"`
		CreatedAt             opt[string]      `json:"created_at"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	n := newOrg{Name: in.Name, Slug: in.Slug, CreatedBy: in.CreatedBy, MaxAllowed: in.MaxAllowedMemberships}
	if in.PublicMetadata != nil {
		n.PublicMD = *in.PublicMetadata
	}
	if in.PrivateMetadata != nil {
		n.PrivateMD = *in.PrivateMetadata
	}
	var err error
	if n.CreatedAt, err = rfc3339Millis("created_at", in.CreatedAt); err != nil {
		e.fail(w, r, err)
		return
	}
	var o *orgRow
	err = e.tx(r.Context(), func(tx pgx.Tx) error {
		var err error
		o, err = e.createOrg(r.Context(), tx, n)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.orgJSON(o))
}

// handleUpdateOrg changes the fields the body names.
func (e *Emulator) handleUpdateOrg(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name                  *string     `json:"name"`
		Slug                  *string     `json:"slug"`
		MaxAllowedMemberships *int64      `json:"max_allowed_memberships"`
		AdminDeleteEnabled    *bool       `json:"admin_delete_enabled"`
		CreatedAt             opt[string] `json:"created_at"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if in.Slug != nil && !slugRE.MatchString(*in.Slug) {
		e.fail(w, r, invalidParam("form_param_format_invalid", "slug", "slug must contain only lowercase letters, digits and dashes"))
		return
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		e.fail(w, r, invalidParam("form_param_missing", "name", "name must not be empty"))
		return
	}
	created, err := rfc3339Millis("created_at", in.CreatedAt)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.updateOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
		_, err := tx.Exec(ctx, `UPDATE clerkemu.organizations SET name = COALESCE($2, name), slug = COALESCE($3, slug),
			max_allowed_memberships = COALESCE($4, max_allowed_memberships),
			admin_delete_enabled = COALESCE($5, admin_delete_enabled), created_at = COALESCE($6, created_at)
			WHERE id = $1`, o.ID, in.Name, in.Slug, in.MaxAllowedMemberships, in.AdminDeleteEnabled, created)
		if isUniqueViolation(err) {
			return invalidParam("form_identifier_exists", "slug", "That slug is taken. Please try another.")
		}
		return err
	})
}

// handleOrgMetadata updates an organization's metadata: PATCH merges, PUT
// replaces each field given.
func (e *Emulator) handleOrgMetadata(apply func(base, patch json.RawMessage) (json.RawMessage, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PublicMetadata  opt[json.RawMessage] `json:"public_metadata"`
			PrivateMetadata opt[json.RawMessage] `json:"private_metadata"`
		}
		if err := decodeBody(r, &in); err != nil {
			e.fail(w, r, err)
			return
		}
		e.updateOrg(w, r, func(ctx context.Context, tx pgx.Tx, o *orgRow) error {
			pub, priv := o.PublicMD, o.PrivateMD
			for _, p := range []metadataPatch{{"public_metadata", &pub, in.PublicMetadata}, {"private_metadata", &priv, in.PrivateMetadata}} {
				if err := p.apply(apply); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE clerkemu.organizations SET public_metadata = $2, private_metadata = $3 WHERE id = $1`, o.ID, pub, priv)
			return err
		})
	}
}

// updateOrg runs change on the organization in the path (id or slug), bumps
// updated_at and queues organization.updated.
func (e *Emulator) updateOrg(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *orgRow) error) {
	ctx := r.Context()
	var o *orgRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		old, err := getOrg(ctx, tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT 1 FROM clerkemu.organizations WHERE id = $1 FOR UPDATE", old.ID); err != nil {
			return err
		}
		if err := change(ctx, tx, old); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.organizations SET updated_at = $2 WHERE id = $1", old.ID, e.nowMS()); err != nil {
			return err
		}
		if err := e.emitOrg(ctx, tx, "organization.updated", old.ID); err != nil {
			return err
		}
		o, err = getOrg(ctx, tx, old.ID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.orgJSON(o))
}

// handleDeleteOrg is DELETE /v1/organizations/{id} (deleteOrg).
func (e *Emulator) handleDeleteOrg(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	var o *orgRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if o, err = getOrg(ctx, tx, r.PathValue("id")); err != nil {
			return err
		}
		return e.deleteOrg(ctx, tx, o)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedOrgJSON(o))
}

func deletedOrgJSON(o *orgRow) map[string]any {
	return map[string]any{"object": "organization", "id": o.ID, "slug": o.Slug, "deleted": true}
}

// deleteOrg deletes an organization: each membership's end is announced
// before organization.deleted, and sessions that had it active lose it, so
// their next token carries no org.
func (e *Emulator) deleteOrg(ctx context.Context, tx pgx.Tx, o *orgRow) error {
	mems, err := many[membershipRow](ctx, tx, "SELECT "+membershipCols+" FROM clerkemu.memberships WHERE org_id = $1 ORDER BY created_at", o.ID)
	if err != nil {
		return err
	}
	for _, m := range mems {
		if err := e.emitMembership(ctx, tx, "organizationMembership.deleted", m); err != nil {
			return err
		}
	}
	if err := e.emit(ctx, tx, "organization.deleted", o.ID, deletedOrgJSON(o)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.sessions SET active_org_id = NULL WHERE active_org_id = $1", o.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM clerkemu.organizations WHERE id = $1", o.ID); err != nil {
		return err
	}
	if o.ImageID != nil {
		_, err = tx.Exec(ctx, "DELETE FROM clerkemu.images WHERE id = $1", *o.ImageID)
	}
	return err
}
