// Package auth authenticates requests with Clerk session tokens and decides
// what the caller may do, the way Clerk's clerkMiddleware(), auth(), has() and
// auth.protect() do for a Next.js app.
//
// The pipeline is: Middleware (never rejects; puts an *Auth in the request
// context, or performs Clerk's handshake for stale document requests) →
// MachineMiddleware on machine routes → Policy (deny by default) → guards on
// routes (RequireOrg, RequireRole, …). Handlers read identity only through
// From(ctx).
//
// Wiring, in the server:
//
//	cfg, err := auth.ConfigFrom(appConfig) // Frontend API, keys, parties
//	authn, err := auth.New(cfg)            // no network I/O
//	e.Use(recover, requestID, accessLog, securityHeaders, bodyLimit,
//	    authn.Middleware(),                      // identity, handshake
//	    authn.MachineMiddleware(attempts, routes.APIM2M+"/"), // machine routes, if MachinesEnabled
//	    auth.Policy(publicRoutes),               // deny by default
//	    csrf)
//	g.POST("/org/export", h, auth.RequireRole("org:admin", "Admin required"),
//	    auth.RequirePlan("enterprise", "Enterprise plan required"))
//
// The access log reads auth.From(c.Request().Context()) after next returns
// (the middleware replaces the request) and logs it with slog.Any: *Auth is
// a slog.LogValuer.
//
// # Identity seams
//
// This package is where the app assumes Clerk's sessions. Authenticator is
// Clerk's implementation of identity.Verifier (Verify: Clerk's session-token
// format, keys and claims) and of identity.Handshaker (Middleware: Clerk's
// cookies, __client_uat and the handshake redirect of handshake.go); its
// MachineMiddleware verifies Clerk's machine tokens. Auth, Check, the guards
// and Policy are the app's own and stay whatever the provider: another
// provider supplies its own Verifier and Handshaker that produce an *Auth
// (docs/MIGRATION.md).
package auth

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Auth is the identity of a request: a signed-in session, a machine, or
// nobody. Values are shared between requests through the verified-token
// cache, so treat them (slices included) as read-only.
type Auth struct {
	UserID    string
	SessionID string
	// OrgID, OrgSlug, OrgRole and OrgPermissions describe the active
	// organisation; they are empty when there is none or the session is
	// pending. OrgRole always carries the "org:" prefix. OrgPermissions hold
	// custom permissions only (Clerk never puts org:sys_* in tokens), the same
	// for v1 and v2 tokens.
	OrgID          string
	OrgSlug        string
	OrgRole        string
	OrgPermissions []string
	// UserName and OrgName are the custom name and org_name claims (the
	// session-token template maps them from {{user.full_name}} and
	// {{org.name}}), for display only: the header shows them before
	// Clerk's components render. Empty when the template lacks them.
	UserName string
	OrgName  string
	// Plan is the custom org_plan claim, else pla, without its o:/u: scope.
	// It is empty for a pending session.
	Plan string
	// Features are the custom feature_flags claim, else the org-scoped
	// entries of fea, without scope. Empty for a pending session.
	Features []string
	// Actor is set when someone is impersonating the user.
	Actor *Actor
	// Operator is the custom operator claim: the user runs this deployment
	// (the /ops console). The session-token template maps it from the
	// user's public metadata: {"operator":"{{user.public_metadata.operator}}"}.
	Operator bool
	// SessionStatus is Clerk's sts: "active", "pending" or empty for older
	// tokens. A pending session has no active organisation.
	SessionStatus string
	// FactorVerificationAge is fva: minutes since the first and second factor
	// were verified, -1 meaning never.
	FactorVerificationAge [2]int64
	IssuedAt              time.Time
	ExpiresAt             time.Time
	// Machine is set, instead of UserID and SessionID, for requests made with
	// a machine token on machine routes.
	Machine *Machine

	// stale marks a signed-out request that carried a session which only
	// needs refreshing: the policy tells HTMX and API callers to refresh.
	stale bool
}

// Actor is the impersonator from the act claim.
type Actor struct {
	Subject   string `json:"sub"`
	Issuer    string `json:"iss,omitempty"`
	SessionID string `json:"sid,omitempty"`
}

// Machine is the identity of a machine-to-machine caller.
type Machine struct {
	// ID is the calling machine, mch_….
	ID string
	// TokenID is the token's id (mt_… for opaque tokens, jti for JWTs).
	TokenID string
	// Scopes are the machines the token is valid for.
	Scopes []string
	// Claims are the token's custom claims.
	Claims map[string]any
}

// Check is a has() query. Every non-empty field must hold; an empty Check
// holds for nobody, so a forgotten field cannot grant access.
type Check struct {
	Role       string
	Permission string
	Plan       string
	Feature    string
}

var (
	signedOut = &Auth{}
	staleAuth = &Auth{stale: true}
)

type contextKey struct{}

// NewContext returns ctx carrying a.
func NewContext(ctx context.Context, a *Auth) context.Context {
	return context.WithValue(ctx, contextKey{}, a)
}

// From returns the request's identity; it is never nil. Without the
// middleware, or for an anonymous request, it is a signed-out value. This is
// the only place handlers, views and the access log learn who is calling.
func From(ctx context.Context) *Auth {
	if a, ok := ctx.Value(contextKey{}).(*Auth); ok && a != nil {
		return a
	}
	return signedOut
}

// SignedIn reports whether a user session authenticated the request.
func (a *Auth) SignedIn() bool {
	return a != nil && a.Machine == nil && a.UserID != "" && a.SessionID != ""
}

// Stale reports whether a signed-out request carried a session of this
// instance that only needs refreshing (an expired token, or one older than
// __client_uat): a user of the app, not an anonymous caller.
func (a *Auth) Stale() bool { return a != nil && a.stale }

// HasOrg reports whether the session has an active organisation.
func (a *Auth) HasOrg() bool {
	return a.SignedIn() && a.OrgID != "" && a.SessionStatus != "pending"
}

// Has reports whether every field set in c holds for a. Role and permission
// need an active organisation; plan and feature are compared without their
// scope prefix. As in Clerk's has(), a role does not imply permissions.
func (a *Auth) Has(c Check) bool {
	if !a.SignedIn() || c == (Check{}) {
		return false
	}
	if c.Role != "" && (!a.HasOrg() || a.OrgRole != withOrgPrefix(c.Role)) {
		return false
	}
	if c.Permission != "" && (!a.HasOrg() || !slices.Contains(a.OrgPermissions, withOrgPrefix(c.Permission))) {
		return false
	}
	if c.Plan != "" && (a.Plan == "" || a.Plan != stripScope(c.Plan)) {
		return false
	}
	if c.Feature != "" && !slices.Contains(a.Features, stripScope(c.Feature)) {
		return false
	}
	return true
}

// HasRole is Has(Check{Role: role}); "admin" and "org:admin" are the same.
func (a *Auth) HasRole(role string) bool { return a.Has(Check{Role: role}) }

// HasPermission is Has(Check{Permission: p}).
func (a *Auth) HasPermission(p string) bool { return a.Has(Check{Permission: p}) }

// HasPlan is Has(Check{Plan: plan}).
func (a *Auth) HasPlan(plan string) bool { return a.Has(Check{Plan: plan}) }

// HasFeature is Has(Check{Feature: f}).
func (a *Auth) HasFeature(f string) bool { return a.Has(Check{Feature: f}) }

// LogValue lets the access log write the caller as one attribute group:
// slog.Any("auth", auth.From(ctx)).
func (a *Auth) LogValue() slog.Value {
	switch {
	case a == nil:
		return slog.GroupValue()
	case a.Machine != nil:
		return slog.GroupValue(slog.String("machine", a.Machine.ID))
	case !a.SignedIn():
		return slog.GroupValue()
	}
	attrs := []slog.Attr{slog.String("user", a.UserID), slog.String("session", a.SessionID)}
	if a.OrgID != "" {
		attrs = append(attrs, slog.String("org", a.OrgID))
	}
	if a.Actor != nil {
		attrs = append(attrs, slog.String("actor", a.Actor.Subject))
	}
	return slog.GroupValue(attrs...)
}

func withOrgPrefix(s string) string {
	if s == "" || strings.HasPrefix(s, "org:") {
		return s
	}
	return "org:" + s
}

// stripScope removes a Clerk billing scope prefix: "o:pro" → "pro". Only the
// scopes Clerk uses (o, u, ou, uo) are removed.
func stripScope(s string) string {
	scope, name, ok := strings.Cut(s, ":")
	if ok && isScope(scope) {
		return name
	}
	return s
}

func isScope(s string) bool { return s == "o" || s == "u" || s == "ou" || s == "uo" }
