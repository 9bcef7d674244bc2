// Package clerkdir is Clerk's implementation of identity.Directory: the
// Backend API through clerk-sdk-go, with the app's Backend API settings
// (Clerk's servers, or the built-in emulator). Errors are clerk-sdk-go's
// (*clerk.APIErrorResponse for Clerk's answers).
package clerkdir

import (
	"context"
	"encoding/json"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/clerk/clerk-sdk-go/v2/organizationinvitation"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"

	"github.com/saasstarter/saas/internal/identity"
)

// Directory calls Clerk's Backend API.
type Directory struct {
	orgs        *organization.Client
	memberships *organizationmembership.Client
	invitations *organizationinvitation.Client
}

var _ identity.Directory = (*Directory)(nil)

// New returns a Directory over the Backend API that cfg names.
func New(cfg *clerk.ClientConfig) *Directory {
	return &Directory{
		orgs:        organization.NewClient(cfg),
		memberships: organizationmembership.NewClient(cfg),
		invitations: organizationinvitation.NewClient(cfg),
	}
}

func (d *Directory) CreateOrganization(ctx context.Context, name, createdBy string, publicMetadata json.RawMessage) (identity.Organization, error) {
	p := &organization.CreateParams{Name: clerk.String(name), CreatedBy: clerk.String(createdBy)}
	if publicMetadata != nil {
		p.PublicMetadata = &publicMetadata
	}
	org, err := d.orgs.Create(ctx, p)
	if err != nil {
		return identity.Organization{}, err
	}
	return identity.Organization{ID: org.ID, Name: org.Name}, nil
}

func (d *Directory) UpdateOrganization(ctx context.Context, orgID, name, slug string) error {
	_, err := d.orgs.Update(ctx, orgID, &organization.UpdateParams{Name: clerk.String(name), Slug: clerk.String(slug)})
	return err
}

// MergeOrganizationMetadata uses Clerk's metadata endpoint, which merges at
// the top level (a key set to null is removed).
func (d *Directory) MergeOrganizationMetadata(ctx context.Context, orgID string, public json.RawMessage) error {
	_, err := d.orgs.UpdateMetadata(ctx, orgID, &organization.UpdateMetadataParams{PublicMetadata: &public})
	return err
}

func (d *Directory) SetRole(ctx context.Context, orgID, userID, role string) error {
	_, err := d.memberships.Update(ctx, &organizationmembership.UpdateParams{OrganizationID: orgID, UserID: userID, Role: clerk.String(role)})
	return err
}

func (d *Directory) RemoveMember(ctx context.Context, orgID, userID string) error {
	_, err := d.memberships.Delete(ctx, &organizationmembership.DeleteParams{OrganizationID: orgID, UserID: userID})
	return err
}

func (d *Directory) Invite(ctx context.Context, orgID, email, role, inviterID string) (identity.Invitation, error) {
	inv, err := d.invitations.Create(ctx, &organizationinvitation.CreateParams{
		OrganizationID: orgID, EmailAddress: clerk.String(email), Role: clerk.String(role), InviterUserID: clerk.String(inviterID),
	})
	if err != nil {
		return identity.Invitation{}, err
	}
	return identity.Invitation{ID: inv.ID, EmailAddress: inv.EmailAddress}, nil
}

func (d *Directory) RevokeInvitation(ctx context.Context, orgID, invitationID, requesterID string) (identity.Invitation, error) {
	inv, err := d.invitations.Revoke(ctx, &organizationinvitation.RevokeParams{
		OrganizationID: orgID, ID: invitationID, RequestingUserID: clerk.String(requesterID),
	})
	if err != nil {
		return identity.Invitation{}, err
	}
	return identity.Invitation{ID: inv.ID, EmailAddress: inv.EmailAddress}, nil
}
