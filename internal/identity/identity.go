// Package identity names the seams between the app and its identity
// provider, so that adding a second provider (or leaving Clerk) is an
// addition, not a rewrite. Clerk is the only provider today, and these
// interfaces are what its implementations already satisfy; internal/app
// wires them. docs/MIGRATION.md has the table of seams and of what another
// provider must supply.
//
// The seams, and the Clerk implementation of each:
//
//   - Verifier: a session token becomes the caller's *auth.Auth, verified
//     locally against the provider's keys. Clerk: *auth.Authenticator
//     (RS256, JWKS or CLERK_JWT_KEY, exact iss, azp, v1 and v2 claims).
//   - Handshaker: every request is authenticated from its bearer header or
//     cookies, and a browser's stale session is refreshed by the
//     provider's redirect handshake. Clerk: (*auth.Authenticator).Middleware.
//   - WebhookReceiver: the provider's change notifications reach the
//     database. Clerk: *webhooks.Handler on POST /api/webhooks/clerk, which
//     verifies Svix signatures (clerksync.Verifier) and decodes Clerk's
//     event payloads (the event decoder: clerksync.ParseEvent and its
//     per-type decoding) before applying them.
//   - Directory (the provider's admin API): creating organisations, role
//     changes, removals, invitations and metadata, on a person's behalf.
//     Clerk: *clerkdir.Directory, the Backend API through clerk-sdk-go,
//     used by handlers/orgs, handlers/admin and handlers/ops. Listing
//     everything for reconcile is clerksync.Backend, and the last-admin
//     check reads Clerk's memberships in internal/lastadmin.
//   - BrowserScript: the script every page loads to keep the session
//     cookie fresh and to mount sign-in, sign-up and the switchers. Clerk:
//     ClerkJS (the same pinned bundles in emulator mode), described by layouts.ClerkScript
//     and driven by static/app.js; no Go interface yet.
//
// The internal/clerkemu emulator stands in for Clerk on every seam at once.
package identity

import (
	"context"
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/auth"
)

// Verifier verifies a session token without a network round trip and
// returns the identity it carries. A provider supplies its token format,
// its keys, and the mapping of its claims (user, active organisation, role,
// permissions, plan, features) onto auth.Auth.
type Verifier interface {
	Verify(ctx context.Context, token string) (*auth.Auth, error)
}

// Handshaker is the request middleware of a provider's sessions: it reads
// the token from the Authorization header or the provider's cookies, puts
// the verified identity (or "signed out") in the request context for
// auth.From, never rejects a request itself, and answers a document request
// whose session has gone stale with the provider's refresh handshake (for
// an OIDC provider: a silent re-authorisation redirect).
type Handshaker interface {
	Middleware() echo.MiddlewareFunc
}

// WebhookReceiver registers the route on which a provider's change
// notifications (users, organisations, memberships, invitations, sessions)
// arrive, verified and applied to the database in one transaction each. A
// provider supplies its own route, signature scheme and payload decoding;
// the database writes are the app's.
type WebhookReceiver interface {
	Register(e *echo.Echo)
}

// Directory is the provider's admin API: the changes the app asks the
// identity provider to make for a person. Their effect reaches the
// database through the provider's notifications (WebhookReceiver), not
// through these answers. Errors are the provider's own; handlers turn them
// into messages for people.
type Directory interface {
	// CreateOrganization creates an organisation with createdBy (a user
	// id) as its first admin.
	CreateOrganization(ctx context.Context, name, createdBy string, publicMetadata json.RawMessage) (Organization, error)
	UpdateOrganization(ctx context.Context, orgID, name, slug string) error
	// MergeOrganizationMetadata merges public into the organisation's
	// public metadata at the top level, keeping the other keys.
	MergeOrganizationMetadata(ctx context.Context, orgID string, public json.RawMessage) error
	SetRole(ctx context.Context, orgID, userID, role string) error
	RemoveMember(ctx context.Context, orgID, userID string) error
	Invite(ctx context.Context, orgID, email, role, inviterID string) (Invitation, error)
	RevokeInvitation(ctx context.Context, orgID, invitationID, requesterID string) (Invitation, error)
}

// Organization is what Directory reports of an organisation it created.
type Organization struct {
	ID, Name string
}

// Invitation is what Directory reports of an invitation.
type Invitation struct {
	ID, EmailAddress string
}
