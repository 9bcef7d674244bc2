package clerkemu

import (
	"context"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
)

// The JSON shapes come from clerk-sdk-go's own types, so what the emulator
// sends is by construction what the SDK (and the app's webhook decoder, which
// follows the same OpenAPI shapes) reads.

func strp(s string) *string { return &s }

// imageURL is a stable placeholder avatar; Clerk always sends an image_url.
// imageURL points at a generated avatar the emulator serves itself, on the
// app's origin: Clerk's image CDN is neither reachable offline nor allowed by
// the emulator-mode CSP.
func imageURL(id string) *string { return strp(MountPath + "/img/" + id + ".svg") }

func userJSON(u *userRow) *clerk.User {
	verified := &clerk.Verification{Status: "verified", Strategy: "email_code"}
	return &clerk.User{
		Object:                "user",
		ID:                    u.ID,
		Username:              u.Username,
		FirstName:             u.FirstName,
		LastName:              u.LastName,
		ImageURL:              imageURL(u.ID),
		PrimaryEmailAddressID: strp(u.EmailID),
		PasswordEnabled:       u.PasswordHash != nil,
		EmailAddresses: []*clerk.EmailAddress{{
			ID: u.EmailID, Object: "email_address", EmailAddress: u.Email,
			Verification: verified, LinkedTo: []*clerk.LinkedIdentification{},
		}},
		PhoneNumbers:              []*clerk.PhoneNumber{},
		Web3Wallets:               []*clerk.Web3Wallet{},
		ExternalAccounts:          []*clerk.ExternalAccount{},
		SAMLAccounts:              []*clerk.SAMLAccount{},
		PublicMetadata:            u.PublicMD,
		PrivateMetadata:           u.PrivateMD,
		UnsafeMetadata:            u.UnsafeMD,
		ExternalID:                u.ExternalID,
		LastSignInAt:              u.LastSignInAt,
		DeleteSelfEnabled:         true,
		CreateOrganizationEnabled: true,
		LastActiveAt:              u.LastActiveAt,
		CreatedAt:                 u.CreatedAt,
		UpdatedAt:                 u.UpdatedAt,
	}
}

func orgJSON(o *orgRow) *clerk.Organization {
	count := o.MembersCount
	pending := int64(0)
	missing := false
	return &clerk.Organization{
		Object:                               "organization",
		ID:                                   o.ID,
		Name:                                 o.Name,
		Slug:                                 o.Slug,
		ImageURL:                             imageURL(o.ID),
		MembersCount:                         &count,
		PendingInvitationsCount:              &pending,
		MissingMemberWithElevatedPermissions: &missing,
		MaxAllowedMemberships:                o.MaxAllowedMemberships,
		AdminDeleteEnabled:                   true,
		PublicMetadata:                       o.PublicMD,
		PrivateMetadata:                      o.PrivateMD,
		CreatedBy:                            o.CreatedBy,
		CreatedAt:                            o.CreatedAt,
		UpdatedAt:                            o.UpdatedAt,
	}
}

func membershipJSON(m *membershipRow, o *orgRow, u *userRow) *clerk.OrganizationMembership {
	return &clerk.OrganizationMembership{
		Object:          "organization_membership",
		ID:              m.ID,
		Organization:    orgJSON(o),
		Permissions:     membershipPermissions(m.Role, orgFeatures(o)),
		PublicMetadata:  m.PublicMD,
		PrivateMetadata: m.PrivateMD,
		Role:            m.Role,
		RoleName:        roleName(m.Role),
		CreatedAt:       m.CreatedAt,
		UpdatedAt:       m.UpdatedAt,
		PublicUserData: &clerk.OrganizationMembershipPublicUserData{
			UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
			ImageURL: imageURL(u.ID), Identifier: u.Email,
		},
	}
}

// loadMembershipJSON loads the organization and user a membership needs.
func loadMembershipJSON(ctx context.Context, q querier, m *membershipRow) (*clerk.OrganizationMembership, error) {
	o, err := getOrg(ctx, q, m.OrgID)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, q, m.UserID)
	if err != nil {
		return nil, err
	}
	return membershipJSON(m, o, u), nil
}

func sessionJSON(s *sessionRow) *clerk.Session {
	out := &clerk.Session{
		Object: "session", ID: s.ID, ClientID: s.ClientID, UserID: s.UserID, Status: s.Status,
		LastActiveAt: s.LastActiveAt, ExpireAt: s.ExpireAt, AbandonAt: s.AbandonAt,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.ActiveOrgID != nil {
		out.LastActiveOrganizationID = *s.ActiveOrgID
	}
	return out
}

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
