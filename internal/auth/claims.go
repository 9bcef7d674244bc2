package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
)

// sessionExtra holds the claims clerk-sdk-go's SessionClaims has no field
// for: v2's sts, pla and fea, and the custom claims a session-token template
// may add (org_plan, feature_flags, operator, name, org_name), whose JSON
// type is up to the template.
type sessionExtra struct {
	Status       string          `json:"sts"`
	Plan         string          `json:"pla"`
	Features     string          `json:"fea"`
	OrgPlan      json.RawMessage `json:"org_plan"`
	FeatureFlags json.RawMessage `json:"feature_flags"`
	Operator     json.RawMessage `json:"operator"`
	Name         json.RawMessage `json:"name"`
	OrgName      json.RawMessage `json:"org_name"`
}

// authFromClaims turns verified claims into an Auth. clerk-sdk-go has
// already folded v2's o claim (rol, per, fpm) into the v1 fields, so from
// here on both formats are the same.
func authFromClaims(c *clerk.SessionClaims, x *sessionExtra) (*Auth, error) {
	a := &Auth{
		UserID:                c.Subject,
		SessionID:             c.SessionID,
		SessionStatus:         x.Status,
		FactorVerificationAge: c.FactorVerificationAge,
		IssuedAt:              time.Unix(*c.IssuedAt, 0),
		ExpiresAt:             time.Unix(*c.Expiry, 0),
	}
	if err := actor(c, a); err != nil {
		return nil, err
	}
	// The operator claim is about the user, not the organisation, so a
	// pending session keeps it. An impersonated session never carries it:
	// impersonation is for seeing what a customer sees, and must not hand
	// deployment-wide powers to whoever impersonates an operator.
	a.Operator = a.Actor == nil && operatorClaim(x.Operator)
	// The display names are for showing only; a template that makes them
	// anything but strings leaves them empty.
	a.UserName = displayClaim(x.Name)
	// A pending session (sts: pending) has not chosen an organisation yet,
	// so nothing org-related in it may grant anything: no org, and no plan or
	// features either (they may be the org's).
	if x.Status == "pending" {
		return a, nil
	}
	if c.ActiveOrganizationID != "" && strings.TrimPrefix(c.ActiveOrganizationRole, "org:") != "" {
		a.OrgID = c.ActiveOrganizationID
		a.OrgSlug = c.ActiveOrganizationSlug
		a.OrgRole = withOrgPrefix(c.ActiveOrganizationRole)
		a.OrgPermissions = c.ActiveOrganizationPermissions
		a.OrgName = displayClaim(x.OrgName)
	}

	plan, err := stringClaim(x.OrgPlan)
	if err != nil {
		return nil, err
	}
	if plan == "" {
		plan = x.Plan
	}
	a.Plan = stripScope(plan)

	flags, set, err := listClaim(x.FeatureFlags)
	if err != nil {
		return nil, err
	}
	if set {
		a.Features = flags
	} else {
		a.Features = orgFeatures(x.Features)
	}

	return a, nil
}

// actor reads the impersonation claim; a malformed one rejects the token
// rather than hiding who is acting.
func actor(c *clerk.SessionClaims, a *Auth) error {
	if len(c.Actor) == 0 || string(c.Actor) == "null" {
		return nil
	}
	var act Actor
	if err := json.Unmarshal(c.Actor, &act); err != nil || act.Subject == "" {
		return errors.New("auth: malformed act claim")
	}
	a.Actor = &act
	return nil
}

// operatorClaim reads the custom operator claim: JSON true, or the string
// "true" when a template interpolates the metadata into a longer string.
// Anything else, including a malformed value, is not an operator: the claim
// only ever grants, so failing closed is the safe reading.
func operatorClaim(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == "true"
}

// stringClaim reads an optional string claim; null and absent are "".
func stringClaim(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New("auth: a custom claim has the wrong type")
	}
	return s, nil
}

// listClaim reads a list claim given either as a JSON array of strings or as
// a comma-separated string: a template interpolating into a string gives the
// latter. set is false when the claim is absent or null.
func listClaim(raw json.RawMessage) (list []string, set bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	var items []string
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, false, errors.New("auth: a custom claim has the wrong type")
		}
	} else {
		s, err := stringClaim(raw)
		if err != nil {
			return nil, false, err
		}
		items = strings.Split(s, ",")
	}
	for _, it := range items {
		if it = stripScope(strings.TrimSpace(it)); it != "" {
			list = append(list, it)
		}
	}
	return list, true, nil
}

// orgFeatures returns the organisation features of a v2 fea claim
// ("o:dashboard,u:beta,ou:teams" → dashboard, teams).
func orgFeatures(fea string) []string {
	var out []string
	for entry := range strings.SplitSeq(fea, ",") {
		scope, name, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if ok && name != "" && isScope(scope) && strings.Contains(scope, "o") {
			out = append(out, name)
		}
	}
	return out
}

// displayClaim is a string claim shown to the user, at most 200 bytes.
func displayClaim(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return ""
	}
	return s
}
