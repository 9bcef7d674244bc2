package clerkemu

import (
	"context"
	"encoding/json"
	"strings"
)

// The Backend API's JSON objects, field for field as Clerk's OpenAPI
// specification describes them (bapi/2026-05-12.yml in clerk/openapi-specs)
// and as @clerk/backend's resources read them. They are the emulator's own
// types rather than clerk-sdk-go's, whose structs lag behind the API (no
// locale, passkeys or enterprise_accounts) and omit fields Clerk sends as
// null, such as a session's last_active_organization_id. Features the
// emulator has no model of (phone numbers, Web3 wallets, passkeys, MFA,
// external accounts) are always empty, which is what Clerk sends for a user
// without them.

type verificationJSON struct {
	Object   string `json:"object"`
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
	Attempts *int64 `json:"attempts"`
	ExpireAt *int64 `json:"expire_at"`
}

type emailAddressJSON struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	EmailAddress         string            `json:"email_address"`
	Reserved             bool              `json:"reserved"`
	Verification         *verificationJSON `json:"verification"`
	LinkedTo             []any             `json:"linked_to"`
	MatchesSSOConnection bool              `json:"matches_sso_connection"`
	CreatedAt            int64             `json:"created_at"`
	UpdatedAt            int64             `json:"updated_at"`
}

type userJSON struct {
	ID                            string             `json:"id"`
	Object                        string             `json:"object"`
	ExternalID                    *string            `json:"external_id"`
	PrimaryEmailAddressID         *string            `json:"primary_email_address_id"`
	PrimaryPhoneNumberID          *string            `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID           *string            `json:"primary_web3_wallet_id"`
	Username                      *string            `json:"username"`
	FirstName                     *string            `json:"first_name"`
	LastName                      *string            `json:"last_name"`
	Locale                        *string            `json:"locale"`
	ProfileImageURL               string             `json:"profile_image_url"`
	ImageURL                      string             `json:"image_url"`
	HasImage                      bool               `json:"has_image"`
	PublicMetadata                json.RawMessage    `json:"public_metadata"`
	PrivateMetadata               json.RawMessage    `json:"private_metadata"`
	UnsafeMetadata                json.RawMessage    `json:"unsafe_metadata"`
	EmailAddresses                []emailAddressJSON `json:"email_addresses"`
	PhoneNumbers                  []any              `json:"phone_numbers"`
	Web3Wallets                   []any              `json:"web3_wallets"`
	Passkeys                      []any              `json:"passkeys"`
	PasswordEnabled               bool               `json:"password_enabled"`
	TwoFactorEnabled              bool               `json:"two_factor_enabled"`
	TOTPEnabled                   bool               `json:"totp_enabled"`
	BackupCodeEnabled             bool               `json:"backup_code_enabled"`
	MFAEnabledAt                  *int64             `json:"mfa_enabled_at"`
	MFADisabledAt                 *int64             `json:"mfa_disabled_at"`
	PasswordLastUpdatedAt         *int64             `json:"password_last_updated_at"`
	ExternalAccounts              []any              `json:"external_accounts"`
	SAMLAccounts                  []any              `json:"saml_accounts"`
	EnterpriseAccounts            []any              `json:"enterprise_accounts"`
	LastSignInAt                  *int64             `json:"last_sign_in_at"`
	Banned                        bool               `json:"banned"`
	Locked                        bool               `json:"locked"`
	LockoutExpiresInSeconds       *int64             `json:"lockout_expires_in_seconds"`
	VerificationAttemptsRemaining *int64             `json:"verification_attempts_remaining"`
	CreatedAt                     int64              `json:"created_at"`
	UpdatedAt                     int64              `json:"updated_at"`
	DeleteSelfEnabled             bool               `json:"delete_self_enabled"`
	CreateOrganizationEnabled     bool               `json:"create_organization_enabled"`
	CreateOrganizationsLimit      *int64             `json:"create_organizations_limit"`
	LastActiveAt                  *int64             `json:"last_active_at"`
	LegalAcceptedAt               *int64             `json:"legal_accepted_at"`
	BypassClientTrust             bool               `json:"bypass_client_trust"`
}

// imageURL is the absolute URL of the avatar the emulator serves for a user
// or organization (Clerk always sends an absolute image_url). It is on the
// app's origin: Clerk's image CDN is neither reachable offline nor allowed
// by the emulator-mode CSP. has_image stays false, as Clerk reports for a
// generated default avatar.
func (e *Emulator) imageURL(id string) string { return e.issuer + "/img/" + id + ".svg" }

func (e *Emulator) emailJSON(u *userRow) emailAddressJSON {
	return emailAddressJSON{ID: u.EmailID, Object: "email_address", EmailAddress: u.Email,
		Verification: &verificationJSON{Object: "verification_otp", Status: "verified", Strategy: "email_code"},
		LinkedTo:     []any{}, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (e *Emulator) userJSON(u *userRow) *userJSON {
	img := e.imageURL(u.ID)
	return &userJSON{
		ID: u.ID, Object: "user", ExternalID: u.ExternalID, PrimaryEmailAddressID: strp(u.EmailID),
		Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale,
		ProfileImageURL: img, ImageURL: img,
		PublicMetadata: u.PublicMD, PrivateMetadata: u.PrivateMD, UnsafeMetadata: u.UnsafeMD,
		EmailAddresses: []emailAddressJSON{e.emailJSON(u)},
		PhoneNumbers:   []any{}, Web3Wallets: []any{}, Passkeys: []any{},
		PasswordEnabled: u.PasswordHash != nil, PasswordLastUpdatedAt: u.PasswordUpdatedAt,
		ExternalAccounts: []any{}, SAMLAccounts: []any{}, EnterpriseAccounts: []any{},
		LastSignInAt: u.LastSignInAt, Banned: u.Banned, Locked: u.Locked,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		DeleteSelfEnabled: u.DeleteSelfEnabled, CreateOrganizationEnabled: u.CreateOrganizationEnabled,
		CreateOrganizationsLimit: u.CreateOrganizationsLimit, LastActiveAt: u.LastActiveAt,
		LegalAcceptedAt: u.LegalAcceptedAt,
	}
}

type orgJSON struct {
	Object                               string          `json:"object"`
	ID                                   string          `json:"id"`
	Name                                 string          `json:"name"`
	Slug                                 string          `json:"slug"`
	ImageURL                             string          `json:"image_url"`
	HasImage                             bool            `json:"has_image"`
	MembersCount                         int64           `json:"members_count"`
	MissingMemberWithElevatedPermissions bool            `json:"missing_member_with_elevated_permissions"`
	PendingInvitationsCount              int64           `json:"pending_invitations_count"`
	MaxAllowedMemberships                int64           `json:"max_allowed_memberships"`
	AdminDeleteEnabled                   bool            `json:"admin_delete_enabled"`
	PublicMetadata                       json.RawMessage `json:"public_metadata"`
	PrivateMetadata                      json.RawMessage `json:"private_metadata"`
	CreatedBy                            string          `json:"created_by"`
	CreatedAt                            int64           `json:"created_at"`
	UpdatedAt                            int64           `json:"updated_at"`
	RoleSetKey                           *string         `json:"role_set_key"`
}

func (e *Emulator) orgJSON(o *orgRow) *orgJSON {
	img, has := e.orgImage(o)
	return &orgJSON{
		Object: "organization", ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: img, HasImage: has,
		MembersCount: o.MembersCount, PendingInvitationsCount: o.PendingInvitations,
		MaxAllowedMemberships: o.MaxAllowedMemberships, AdminDeleteEnabled: o.AdminDeleteEnabled,
		PublicMetadata: o.PublicMD, PrivateMetadata: o.PrivateMD, CreatedBy: o.CreatedBy,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
}

type publicUserDataJSON struct {
	UserID          string  `json:"user_id"`
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	ProfileImageURL string  `json:"profile_image_url"`
	ImageURL        string  `json:"image_url"`
	HasImage        bool    `json:"has_image"`
	Identifier      string  `json:"identifier"`
	Username        *string `json:"username"`
	Banned          bool    `json:"banned"`
	Deprovisioned   bool    `json:"deprovisioned"`
}

func (e *Emulator) publicUserData(u *userRow) *publicUserDataJSON {
	img := e.imageURL(u.ID)
	return &publicUserDataJSON{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
		ProfileImageURL: img, ImageURL: img, Identifier: u.Email, Username: u.Username, Banned: u.Banned}
}

type membershipJSON struct {
	ID              string              `json:"id"`
	Object          string              `json:"object"`
	Role            string              `json:"role"`
	RoleName        string              `json:"role_name"`
	Permissions     []string            `json:"permissions"`
	PublicMetadata  json.RawMessage     `json:"public_metadata"`
	PrivateMetadata json.RawMessage     `json:"private_metadata"`
	Organization    *orgJSON            `json:"organization"`
	PublicUserData  *publicUserDataJSON `json:"public_user_data"`
	CreatedAt       int64               `json:"created_at"`
	UpdatedAt       int64               `json:"updated_at"`
}

func (e *Emulator) membershipJSON(m *membershipRow, o *orgRow, u *userRow) *membershipJSON {
	return &membershipJSON{
		ID: m.ID, Object: "organization_membership", Role: m.Role, RoleName: roleName(m.Role),
		Permissions:    membershipPermissions(m.Role, orgFeatures(o)),
		PublicMetadata: m.PublicMD, PrivateMetadata: m.PrivateMD,
		Organization: e.orgJSON(o), PublicUserData: e.publicUserData(u),
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

// loadMembershipJSON loads the organization and user a membership needs.
func (e *Emulator) loadMembershipJSON(ctx context.Context, q querier, m *membershipRow) (*membershipJSON, error) {
	o, u, err := membershipParts(ctx, q, m)
	if err != nil {
		return nil, err
	}
	return e.membershipJSON(m, o, u), nil
}

// membershipParts loads a membership's organization and user.
func membershipParts(ctx context.Context, q querier, m *membershipRow) (*orgRow, *userRow, error) {
	o, err := getOrg(ctx, q, m.OrgID)
	if err != nil {
		return nil, nil, err
	}
	u, err := getUser(ctx, q, m.UserID)
	return o, u, err
}

type sessionJSON struct {
	Object                   string  `json:"object"`
	ID                       string  `json:"id"`
	UserID                   string  `json:"user_id"`
	ClientID                 string  `json:"client_id"`
	Actor                    any     `json:"actor"`
	Status                   string  `json:"status"`
	LastActiveOrganizationID *string `json:"last_active_organization_id"`
	LastActiveAt             int64   `json:"last_active_at"`
	LatestActivity           any     `json:"latest_activity"`
	ExpireAt                 int64   `json:"expire_at"`
	AbandonAt                int64   `json:"abandon_at"`
	UpdatedAt                int64   `json:"updated_at"`
	CreatedAt                int64   `json:"created_at"`
	Tasks                    []any   `json:"tasks"`
}

func sessionJSONOf(s *sessionRow) *sessionJSON {
	return &sessionJSON{Object: "session", ID: s.ID, UserID: s.UserID, ClientID: s.ClientID, Status: s.Status,
		LastActiveOrganizationID: s.ActiveOrgID, LastActiveAt: s.LastActiveAt, ExpireAt: s.ExpireAt,
		AbandonAt: s.AbandonAt, UpdatedAt: s.UpdatedAt, CreatedAt: s.CreatedAt, Tasks: []any{}}
}

// deletedJSON is Clerk's DeletedObject.
func deletedJSON(object, id string) map[string]any {
	return map[string]any{"object": object, "id": id, "deleted": true}
}

func strp(s string) *string { return &s }

// roleName is the display name Clerk gives a role key: org:admin → Admin.
func roleName(role string) string {
	name := strings.TrimPrefix(role, "org:")
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "_", " ")
}

// normalizeRole accepts "admin" as well as "org:admin", as Clerk does for
// legacy instances, and always stores the key form.
func normalizeRole(role string) string {
	role = strings.TrimSpace(role)
	switch role {
	case "":
		return ""
	case "basic_member":
		return "org:member"
	}
	if !strings.HasPrefix(role, "org:") {
		return "org:" + role
	}
	return role
}
