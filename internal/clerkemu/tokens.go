package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// errNotMember is returned when a token is asked for an organization the
// session's user does not belong to.
var errNotMember = errors.New("the user is not a member of this organization")

// systemPermissions are Clerk's org:sys_* permissions by default role. They
// appear in membership objects but never in session tokens.
var systemPermissions = map[string][]string{
	"org:admin": {
		"org:sys_profile:manage", "org:sys_profile:delete",
		"org:sys_memberships:read", "org:sys_memberships:manage",
		"org:sys_domains:read", "org:sys_domains:manage",
		"org:sys_billing:read", "org:sys_billing:manage",
		"org:sys_entconns:manage",
	},
	"org:member": {"org:sys_memberships:read", "org:sys_billing:read"},
}

// The emulator's custom permissions: every feature in an organization's plan
// has the actions "manage" and "read"; admins hold both, everyone else
// "read". Token masks index this list (bit 0 = tokenPermissions[0]).
var tokenPermissions = []string{"manage", "read"}

func featureMask(role string) int {
	if role == "org:admin" {
		return 0b11
	}
	return 0b10
}

func membershipPermissions(role string, features []string) []string {
	sys, ok := systemPermissions[role]
	if !ok { // a custom role gets what a member gets
		sys = systemPermissions["org:member"]
	}
	perms := append([]string{}, sys...)
	mask := featureMask(role)
	for _, f := range features {
		for i, p := range tokenPermissions {
			if mask&(1<<i) != 0 {
				perms = append(perms, "org:"+f+":"+p)
			}
		}
	}
	return perms
}

// orgMetadata decodes an organization's public metadata.
func orgMetadata(o *orgRow) map[string]any {
	var md map[string]any
	_ = json.Unmarshal(o.PublicMD, &md)
	return md
}

// orgFeatures reads public_metadata.features, the emulator's stand-in for
// Clerk Billing's plan features.
func orgFeatures(o *orgRow) []string {
	var out []string
	if list, ok := orgMetadata(o)["features"].([]any); ok {
		for _, f := range list {
			if s, ok := f.(string); ok && s != "" && !strings.ContainsAny(s, ",:") {
				out = append(out, s)
			}
		}
	}
	return out
}

func orgPlan(o *orgRow) string {
	s, _ := orgMetadata(o)["plan"].(string)
	return s
}

// tokenRequest says what to mint: for which session, which organization
// (nil: the session's active one; "": none) and for how long.
type tokenRequest struct {
	session  *sessionRow
	orgID    *string
	lifetime time.Duration
}

// mintSessionToken issues a session JWT in Clerk's layout from the current
// state of the session's user, organization and membership.
func (e *Emulator) mintSessionToken(ctx context.Context, q querier, r tokenRequest) (string, error) {
	s := r.session
	if s.Status != "active" {
		return "", errSessionInactive
	}
	u, err := getUser(ctx, q, s.UserID)
	if err != nil {
		return "", err
	}
	orgID := s.ActiveOrgID
	if r.orgID != nil {
		orgID = r.orgID
	}
	var org *orgRow
	var mem *membershipRow
	if orgID != nil && *orgID != "" {
		if org, err = getOrg(ctx, q, *orgID); err != nil {
			return "", errNotMember
		}
		if mem, err = getMembership(ctx, q, org.ID, u.ID); err != nil {
			return "", errNotMember
		}
	}
	lifetime := r.lifetime
	if lifetime <= 0 {
		lifetime = e.cfg.TokenLifetime
	}
	now := e.now()
	iat := now.Unix()
	claims := renderTemplate(e.template, e.templateVars(u, org, mem))
	firstFactorAge := max(0, (now.UnixMilli()-s.CreatedAt)/60000)
	claims["iss"] = e.issuer
	claims["sub"] = u.ID
	claims["sid"] = s.ID
	claims["azp"] = e.origin
	claims["iat"] = iat
	claims["nbf"] = iat - 10
	claims["exp"] = iat + int64(lifetime/time.Second)
	claims["jti"] = randomHex(10)
	claims["fva"] = []int64{firstFactorAge, -1}
	if e.cfg.TokenVersion == 1 {
		e.addV1OrgClaims(claims, org, mem)
	} else {
		e.addV2OrgClaims(claims, org, mem)
	}
	return e.sign(claims, catSession)
}

func (e *Emulator) addV2OrgClaims(claims map[string]any, org *orgRow, mem *membershipRow) {
	claims["v"] = 2
	claims["sts"] = "active"
	if org == nil {
		return
	}
	features := orgFeatures(org)
	fea := make([]string, len(features))
	fpm := make([]string, len(features))
	for i, f := range features {
		fea[i] = "o:" + f
		fpm[i] = strconv.Itoa(featureMask(mem.Role))
	}
	per := ""
	if len(features) > 0 {
		per = strings.Join(tokenPermissions, ",")
	}
	claims["o"] = map[string]any{
		"id": org.ID, "slg": org.Slug, "rol": strings.TrimPrefix(mem.Role, "org:"),
		"per": per, "fpm": strings.Join(fpm, ","),
	}
	if len(fea) > 0 {
		claims["fea"] = strings.Join(fea, ",")
	}
	if plan := orgPlan(org); plan != "" {
		claims["pla"] = "o:" + plan
	}
}

func (e *Emulator) addV1OrgClaims(claims map[string]any, org *orgRow, mem *membershipRow) {
	if org == nil {
		return
	}
	var custom []string
	for _, p := range membershipPermissions(mem.Role, orgFeatures(org)) {
		if !strings.HasPrefix(p, "org:sys_") {
			custom = append(custom, p)
		}
	}
	if custom == nil {
		custom = []string{}
	}
	claims["org_id"] = org.ID
	claims["org_slug"] = org.Slug
	claims["org_role"] = mem.Role
	claims["org_permissions"] = custom
}

// templateVars exposes the objects Clerk's shortcodes can reference.
func (e *Emulator) templateVars(u *userRow, org *orgRow, mem *membershipRow) map[string]any {
	vars := map[string]any{}
	first, last := deref(u.FirstName), deref(u.LastName)
	vars["user"] = map[string]any{
		"id": u.ID, "first_name": nilIfEmpty(first), "last_name": nilIfEmpty(last),
		"full_name":             nilIfEmpty(strings.TrimSpace(first + " " + last)),
		"username":              nilIfEmpty(deref(u.Username)),
		"primary_email_address": u.Email, "email_verified": true,
		"image_url": e.imageURL(u.ID), "external_id": nilIfEmpty(deref(u.ExternalID)),
		"public_metadata": decodeObject(u.PublicMD), "unsafe_metadata": decodeObject(u.UnsafeMD),
		"created_at": u.CreatedAt, "updated_at": u.UpdatedAt,
	}
	if org != nil {
		img, _ := e.orgImage(org)
		vars["org"] = map[string]any{
			"id": org.ID, "name": org.Name, "slug": org.Slug, "image_url": img,
			"public_metadata": decodeObject(org.PublicMD),
		}
		vars["org_membership"] = map[string]any{
			"role": mem.Role, "permissions": membershipPermissions(mem.Role, orgFeatures(org)),
			"public_metadata": decodeObject(mem.PublicMD),
		}
	}
	return vars
}

func decodeObject(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
