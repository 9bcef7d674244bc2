// Package routes names the application's URL paths. Handlers register them and
// templates build links from them, so a path is spelled once.
package routes

import "strings"

// Public pages and endpoints.
const (
	Home    = "/"
	SignIn  = "/sign-in"
	SignUp  = "/sign-up"
	Healthz = "/healthz"
	// Unmatched is the template Echo reports (c.Path()) for a path that
	// matches no route at all: it answers 404 whoever asks, so a signed-out
	// visitor is not sent to sign in for a page that does not exist. (A
	// known path with another method keeps its own template, and is
	// refused like the route itself.)
	Unmatched = ""
	Readyz    = "/readyz"
	Static    = "/static"
	Webhook   = "/api/webhooks/clerk"
)

// Signed-in pages.
const (
	Dashboard = "/dashboard"
	Orgs      = "/orgs"
	Admin     = "/admin"
)

// Organisations and the example resource (forms post to these; the :id
// routes take a project id, validated strictly before any database call).
const (
	OrgsLeave     = "/orgs/leave"
	Projects      = "/projects"
	ProjectRename = "/projects/:id/rename"
	ProjectDelete = "/projects/:id/delete"
	APIProject    = "/api/projects/:id"
)

// JSON API.
const (
	// APIPrefix starts every JSON API route.
	APIPrefix     = "/api/"
	APIMe         = "/api/me"
	APIOrg        = "/api/org"
	APIOrgMembers = "/api/org/members"
	APIOrgExport  = "/api/org/export"
	APIProjects   = "/api/projects"
	APIM2M        = "/api/m2m"
)

// Emulator is where the built-in Clerk emulator is mounted in emulator mode.
const Emulator = "/__clerk"

// Organisation admin screens (handlers/admin); every path is below Admin.
// Paths with :params are route templates; views fill them in.
const (
	AdminMembers     = "/admin/members"
	AdminMember      = "/admin/members/:user_id"
	AdminMemberRole  = "/admin/members/:user_id/role"
	AdminMemberDrop  = "/admin/members/:user_id/remove"
	AdminInvitations = "/admin/invitations"
	AdminInvitation  = "/admin/invitations/:id"
	AdminInviteDrop  = "/admin/invitations/:id/revoke"
	AdminSettings    = "/admin/settings"
	AdminWebhooks    = "/admin/webhooks"
	AdminWebhook     = "/admin/webhooks/:id"
	AdminReplay      = "/admin/webhooks/:id/replay"
	AdminAudit       = "/admin/audit"
)

// Operator console (handlers/ops).
const (
	Ops          = "/ops"
	OpsWebhooks  = "/ops/webhooks"
	OpsWebhook   = "/ops/webhooks/:id"
	OpsReplay    = "/ops/webhooks/:id/replay"
	OpsReconcile = "/ops/reconcile"
	OpsOrg       = "/ops/orgs/:org_id"
	OpsOrgPlan   = "/ops/orgs/:org_id/plan"
)

// UnderAny reports whether the route template (Echo's c.Path()) starts with
// one of prefixes; an empty prefix matches nothing. Middleware that treats
// groups of routes alike (no CSRF on forms-free routes, no deadline for
// instant ones, the JSON policy, machine tokens) decides with it.
func UnderAny(route string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(route, p) {
			return true
		}
	}
	return false
}
