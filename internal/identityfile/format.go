// Package identityfile writes and reads the identity file: the app's users,
// organisations, memberships and pending invitations in a provider-neutral
// form, for moving to another identity provider (docs/MIGRATION.md). The
// app's database is the source of truth: Export reads it, and Import maps a
// new provider's ids onto its rows without touching anything else.
//
// # Format
//
// UTF-8 JSON Lines (https://jsonlines.org): one JSON object per line, each
// line ending in "\n". Every object has a "type". The first line is the
// header, then come every user, every organisation, every membership and
// every pending invitation, each group in id order, so a reader can create
// people and organisations before the memberships that refer to them:
//
//	{"type":"header","format":"saas-identities","version":1,"exported_at":"2026-05-04T09:30:00Z"}
//	{"type":"user","id":1,"external_ids":{"clerk":"user_2x…"},"email":"alice@acme.test","first_name":"Alice",…}
//	{"type":"organization","id":1,"external_ids":{"clerk":"org_2x…"},"name":"Acme","slug":"acme",…}
//	{"type":"membership","id":1,"external_ids":{"clerk":"orgmem_2x…"},"organization_id":1,"user_id":1,"role":"org:admin",…}
//	{"type":"invitation","id":1,"external_ids":{"clerk":"orginv_2x…"},"organization_id":1,"email":"new@acme.test",…}
//
// The fields of each type are those of User, Organization, Membership,
// Invitation and Header below; their names are snake_case and do not change
// within a version. "id" is the app's own id (users.id, organizations.id, …),
// and organization_id and user_id refer to the ids of other lines.
// "external_ids" maps a provider's name to that provider's id of the record:
// "clerk" is always there, and every provider imported before is too.
// Timestamps are RFC 3339 in UTC. Deleted users and organisations, their
// memberships, and invitations that are no longer pending are left out.
//
// # Importing
//
// Import reads the same format. Each line names a row by "id", else (for a
// provider other than Clerk) by external_ids.clerk, else, for a user, by
// email; it must carry external_ids.<provider>, the new provider's id. Only
// "type" and those fields are used; the rest may be left out, and a field
// the format does not define makes the line malformed (a typo in a
// hand-edited file is caught, not ignored).
package identityfile

import (
	"encoding/json"
	"regexp"
	"time"
)

// Format and Version identify the file in its header line. A change that
// renames or removes a field, or changes its meaning, is a new version.
const (
	Format  = "saas-identities"
	Version = 1
)

// The values of "type".
const (
	TypeHeader       = "header"
	TypeUser         = "user"
	TypeOrganization = "organization"
	TypeMembership   = "membership"
	TypeInvitation   = "invitation"
)

// Clerk is the provider name of Clerk's ids in external_ids. Importing with
// it replaces the ids the running app looks people up by (a move to another
// Clerk instance); any other provider's ids go to external_identities.
const Clerk = "clerk"

// providerName is the rule for provider names, the same as the database's
// check on external_identities.provider.
var providerName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidProvider reports whether name can name a provider: lower-case
// letters, digits, "-" and "_", starting with a letter, at most 32 long.
func ValidProvider(name string) bool { return providerName.MatchString(name) }

// Header is the first line of a file.
type Header struct {
	Type       string    `json:"type"`
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	ExportedAt time.Time `json:"exported_at"`
}

// User is a person. Email is their primary email address.
type User struct {
	Type           string            `json:"type"`
	ID             int64             `json:"id"`
	ExternalIDs    map[string]string `json:"external_ids"`
	Email          string            `json:"email"`
	FirstName      string            `json:"first_name"`
	LastName       string            `json:"last_name"`
	ImageURL       string            `json:"image_url"`
	PublicMetadata json.RawMessage   `json:"public_metadata"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Organization is a tenant. Plan is the app's plan name ("" is free);
// PublicMetadata holds it too, with the feature flags.
type Organization struct {
	Type           string            `json:"type"`
	ID             int64             `json:"id"`
	ExternalIDs    map[string]string `json:"external_ids"`
	Name           string            `json:"name"`
	Slug           string            `json:"slug"`
	ImageURL       string            `json:"image_url"`
	Plan           string            `json:"plan"`
	PublicMetadata json.RawMessage   `json:"public_metadata"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Membership is a user's role in an organisation. Role keeps Clerk's "org:"
// prefix ("org:admin", "org:member", custom "org:…" roles); Permissions are
// the role's custom permissions ("org:<feature>:<permission>").
type Membership struct {
	Type           string            `json:"type"`
	ID             int64             `json:"id"`
	ExternalIDs    map[string]string `json:"external_ids"`
	OrganizationID int64             `json:"organization_id"`
	UserID         int64             `json:"user_id"`
	Role           string            `json:"role"`
	Permissions    []string          `json:"permissions"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Invitation is a pending invitation to an organisation. Status is always
// "pending" in an export.
type Invitation struct {
	Type           string            `json:"type"`
	ID             int64             `json:"id"`
	ExternalIDs    map[string]string `json:"external_ids"`
	OrganizationID int64             `json:"organization_id"`
	Email          string            `json:"email"`
	Role           string            `json:"role"`
	Status         string            `json:"status"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}
