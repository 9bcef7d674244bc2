package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
)

// The Frontend API's JSON objects, as ClerkJS parses them (the *JSON types
// of packages/shared/src/types/json.ts in clerk/javascript and the fromJSON
// methods of packages/clerk-js/src/core/resources). They differ from the
// Backend API's: a browser never sees private metadata, and a user carries
// its organization memberships.

type orgFAPIJSON struct {
	Object                  string          `json:"object"`
	ID                      string          `json:"id"`
	Name                    string          `json:"name"`
	Slug                    string          `json:"slug"`
	ImageURL                string          `json:"image_url"`
	HasImage                bool            `json:"has_image"`
	PublicMetadata          json.RawMessage `json:"public_metadata"`
	MembersCount            int64           `json:"members_count"`
	PendingInvitationsCount int64           `json:"pending_invitations_count"`
	AdminDeleteEnabled      bool            `json:"admin_delete_enabled"`
	MaxAllowedMemberships   int64           `json:"max_allowed_memberships"`
	CreatedAt               int64           `json:"created_at"`
	UpdatedAt               int64           `json:"updated_at"`
}

func (e *Emulator) orgFAPI(o *orgRow) *orgFAPIJSON {
	img, has := e.orgImage(o)
	return &orgFAPIJSON{Object: "organization", ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: img, HasImage: has,
		PublicMetadata: o.PublicMD, MembersCount: o.MembersCount, PendingInvitationsCount: o.PendingInvitations,
		AdminDeleteEnabled: o.AdminDeleteEnabled, MaxAllowedMemberships: o.MaxAllowedMemberships,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

type membershipFAPIJSON struct {
	Object         string              `json:"object"`
	ID             string              `json:"id"`
	Role           string              `json:"role"`
	RoleName       string              `json:"role_name"`
	Permissions    []string            `json:"permissions"`
	PublicMetadata json.RawMessage     `json:"public_metadata"`
	Organization   *orgFAPIJSON        `json:"organization"`
	PublicUserData *publicUserDataJSON `json:"public_user_data"`
	CreatedAt      int64               `json:"created_at"`
	UpdatedAt      int64               `json:"updated_at"`
}

func (e *Emulator) membershipFAPI(m *membershipRow, o *orgRow, u *userRow) *membershipFAPIJSON {
	return &membershipFAPIJSON{Object: "organization_membership", ID: m.ID, Role: m.Role, RoleName: roleName(m.Role),
		Permissions: membershipPermissions(m.Role, orgFeatures(o)), PublicMetadata: m.PublicMD,
		Organization: e.orgFAPI(o), PublicUserData: e.publicUserData(u), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

// loadMembershipFAPI loads a membership's organization and user.
func (e *Emulator) loadMembershipFAPI(ctx context.Context, q querier, m *membershipRow) (*membershipFAPIJSON, error) {
	o, u, err := membershipParts(ctx, q, m)
	if err != nil {
		return nil, err
	}
	return e.membershipFAPI(m, o, u), nil
}

type userFAPIJSON struct {
	Object                    string                `json:"object"`
	ID                        string                `json:"id"`
	ExternalID                *string               `json:"external_id"`
	PrimaryEmailAddressID     *string               `json:"primary_email_address_id"`
	PrimaryPhoneNumberID      *string               `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID       *string               `json:"primary_web3_wallet_id"`
	Username                  *string               `json:"username"`
	FirstName                 *string               `json:"first_name"`
	LastName                  *string               `json:"last_name"`
	ImageURL                  string                `json:"image_url"`
	HasImage                  bool                  `json:"has_image"`
	ProfileImageID            string                `json:"profile_image_id"`
	EmailAddresses            []emailAddressJSON    `json:"email_addresses"`
	PhoneNumbers              []any                 `json:"phone_numbers"`
	Web3Wallets               []any                 `json:"web3_wallets"`
	ExternalAccounts          []any                 `json:"external_accounts"`
	EnterpriseAccounts        []any                 `json:"enterprise_accounts"`
	Passkeys                  []any                 `json:"passkeys"`
	OrganizationMemberships   []*membershipFAPIJSON `json:"organization_memberships"`
	PasswordEnabled           bool                  `json:"password_enabled"`
	TOTPEnabled               bool                  `json:"totp_enabled"`
	BackupCodeEnabled         bool                  `json:"backup_code_enabled"`
	TwoFactorEnabled          bool                  `json:"two_factor_enabled"`
	PublicMetadata            json.RawMessage       `json:"public_metadata"`
	UnsafeMetadata            json.RawMessage       `json:"unsafe_metadata"`
	LastSignInAt              *int64                `json:"last_sign_in_at"`
	CreateOrganizationEnabled bool                  `json:"create_organization_enabled"`
	CreateOrganizationsLimit  *int64                `json:"create_organizations_limit"`
	DeleteSelfEnabled         bool                  `json:"delete_self_enabled"`
	LegalAcceptedAt           *int64                `json:"legal_accepted_at"`
	CreatedAt                 int64                 `json:"created_at"`
	UpdatedAt                 int64                 `json:"updated_at"`
}

// userFAPI is the signed-in user as ClerkJS sees it (Clerk.user), with
// every organization membership (Clerk.organization is the one matching
// the session's last_active_organization_id).
func (e *Emulator) userFAPI(ctx context.Context, q querier, u *userRow) (*userFAPIJSON, error) {
	mems, err := userMemberships(ctx, q, u.ID)
	if err != nil {
		return nil, err
	}
	out := &userFAPIJSON{Object: "user", ID: u.ID, ExternalID: u.ExternalID, PrimaryEmailAddressID: strp(u.EmailID),
		Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, ImageURL: e.imageURL(u.ID),
		EmailAddresses: []emailAddressJSON{e.emailJSON(u)}, PhoneNumbers: []any{}, Web3Wallets: []any{},
		ExternalAccounts: []any{}, EnterpriseAccounts: []any{}, Passkeys: []any{},
		OrganizationMemberships: make([]*membershipFAPIJSON, 0, len(mems)),
		PasswordEnabled:         u.PasswordHash != nil, PublicMetadata: u.PublicMD, UnsafeMetadata: u.UnsafeMD,
		LastSignInAt: u.LastSignInAt, CreateOrganizationEnabled: u.CreateOrganizationEnabled,
		CreateOrganizationsLimit: u.CreateOrganizationsLimit, DeleteSelfEnabled: u.DeleteSelfEnabled,
		LegalAcceptedAt: u.LegalAcceptedAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	for _, m := range mems {
		o, err := getOrg(ctx, q, m.OrgID)
		if err != nil {
			return nil, err
		}
		out.OrganizationMemberships = append(out.OrganizationMemberships, e.membershipFAPI(m, o, u))
	}
	return out, nil
}

type tokenJSON struct {
	Object string `json:"object"`
	JWT    string `json:"jwt"`
}

type sessionFAPIJSON struct {
	Object                   string              `json:"object"`
	ID                       string              `json:"id"`
	Status                   string              `json:"status"`
	FactorVerificationAge    [2]int              `json:"factor_verification_age"`
	ExpireAt                 int64               `json:"expire_at"`
	AbandonAt                int64               `json:"abandon_at"`
	LastActiveAt             int64               `json:"last_active_at"`
	LastActiveToken          *tokenJSON          `json:"last_active_token"`
	LastActiveOrganizationID *string             `json:"last_active_organization_id"`
	Actor                    any                 `json:"actor"`
	Tasks                    []any               `json:"tasks"`
	User                     *userFAPIJSON       `json:"user"`
	PublicUserData           *publicUserDataJSON `json:"public_user_data"`
	CreatedAt                int64               `json:"created_at"`
	UpdatedAt                int64               `json:"updated_at"`
}

// sessionFAPI describes an active session with a freshly minted token:
// ClerkJS writes last_active_token to __session without another request.
func (e *Emulator) sessionFAPI(ctx context.Context, q querier, s *sessionRow) (*sessionFAPIJSON, error) {
	u, err := getUser(ctx, q, s.UserID)
	if err != nil {
		return nil, err
	}
	uj, err := e.userFAPI(ctx, q, u)
	if err != nil {
		return nil, err
	}
	out := &sessionFAPIJSON{Object: "session", ID: s.ID, Status: s.Status, FactorVerificationAge: [2]int{0, -1},
		ExpireAt: s.ExpireAt, AbandonAt: s.AbandonAt, LastActiveAt: s.LastActiveAt,
		LastActiveOrganizationID: s.ActiveOrgID, User: uj, PublicUserData: e.publicUserData(u),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.Status == "active" {
		jwt, err := e.mintSessionToken(ctx, q, tokenRequest{session: s})
		if err != nil {
			return nil, err
		}
		out.LastActiveToken = &tokenJSON{Object: "token", JWT: jwt}
	}
	return out, nil
}

type clientFAPIJSON struct {
	Object                     string             `json:"object"`
	ID                         string             `json:"id"`
	Sessions                   []*sessionFAPIJSON `json:"sessions"`
	SignIn                     *signInJSON        `json:"sign_in"`
	SignUp                     *signUpJSON        `json:"sign_up"`
	LastActiveSessionID        *string            `json:"last_active_session_id"`
	LastAuthenticationStrategy *string            `json:"last_authentication_strategy"`
	CookieExpiresAt            *int64             `json:"cookie_expires_at"`
	CreatedAt                  int64              `json:"created_at"`
	UpdatedAt                  int64              `json:"updated_at"`
}

type clientStateRow struct {
	ID                         string  `db:"id"`
	ActiveSession              *string `db:"active_session"`
	SignInID                   *string `db:"sign_in_id"`
	SignUpID                   *string `db:"sign_up_id"`
	LastAuthenticationStrategy *string `db:"last_authentication_strategy"`
	CreatedAt                  int64   `db:"created_at"`
	UpdatedAt                  int64   `db:"updated_at"`
}

// clientFAPI describes the browser's client: its active session (Clerk's
// default single-session mode), and the sign-in and sign-up in progress.
func (e *Emulator) clientFAPI(ctx context.Context, q querier, clientID string) (*clientFAPIJSON, error) {
	c, err := one[clientStateRow](ctx, q, `SELECT id, active_session, sign_in_id, sign_up_id, last_authentication_strategy,
		created_at, updated_at FROM clerkemu.clients WHERE id = $1`, clientID)
	if err != nil {
		return nil, err
	}
	out := &clientFAPIJSON{Object: "client", ID: c.ID, Sessions: []*sessionFAPIJSON{},
		LastAuthenticationStrategy: c.LastAuthenticationStrategy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.ActiveSession != nil {
		s, err := getSession(ctx, q, *c.ActiveSession)
		if err != nil {
			return nil, err
		}
		if s.Status == "active" {
			sj, err := e.sessionFAPI(ctx, q, s)
			if err != nil {
				return nil, err
			}
			out.Sessions = append(out.Sessions, sj)
			out.LastActiveSessionID = &s.ID
		}
	}
	if c.SignInID != nil {
		if si, err := getSignIn(ctx, q, *c.SignInID); err == nil {
			out.SignIn = e.signInJSON(si)
		} else if !errors.Is(err, errNotFound) {
			return nil, err
		}
	}
	if c.SignUpID != nil {
		if su, err := getSignUp(ctx, q, *c.SignUpID); err == nil {
			out.SignUp = signUpJSONOf(su)
		} else if !errors.Is(err, errNotFound) {
			return nil, err
		}
	}
	return out, nil
}
