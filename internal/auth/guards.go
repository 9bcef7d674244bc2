package auth

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/internal/web/htmx"
)

// Guards are route middleware that check the caller's claims, like Clerk's
// auth.protect(). They compose by listing several on a route, e.g.
//
//	g.POST("/org/export", h, auth.RequireRole("org:admin", "Admin required"),
//	    auth.RequirePlan("enterprise", "Enterprise plan required"))
//
// Each answers a signed-out caller like the policy does. A guard that needs
// an organisation sends a signed-in browser without one to /orgs. Any other
// failure, including an indeterminate one, is 403 with the guard's public
// message (rendered by the app's error handler as a page, fragment or JSON).

// RequireSignedIn lets only signed-in sessions through.
func RequireSignedIn() echo.MiddlewareFunc {
	return guard(false, MsgUnauthenticated, func(*Auth) bool { return true })
}

// RequireOrg lets only sessions with an active organisation through; an API
// caller without one gets 403 "Must be in an org".
func RequireOrg() echo.MiddlewareFunc {
	return guard(true, MsgNoOrg, func(*Auth) bool { return true })
}

// RequireRole requires the active organisation role ("org:admin" or "admin").
func RequireRole(role, message string) echo.MiddlewareFunc {
	return Require(Check{Role: role}, message)
}

// RequirePermission requires an organisation permission such as
// "org:invoices:create". Roles do not imply permissions.
func RequirePermission(permission, message string) echo.MiddlewareFunc {
	return Require(Check{Permission: permission}, message)
}

// RequirePlan requires a plan, compared without its o:/u: scope.
func RequirePlan(plan, message string) echo.MiddlewareFunc {
	return Require(Check{Plan: plan}, message)
}

// RequireFeature requires a feature, compared without its scope.
func RequireFeature(feature, message string) echo.MiddlewareFunc {
	return Require(Check{Feature: feature}, message)
}

// Require lets through callers for whom a.Has(check) holds; message is the
// public 403 text (empty means "Forbidden"). Role and permission checks need
// an active organisation.
func Require(check Check, message string) echo.MiddlewareFunc {
	return guard(check.Role != "" || check.Permission != "", message, func(a *Auth) bool { return a.Has(check) })
}

func guard(needsOrg bool, message string, ok func(*Auth) bool) echo.MiddlewareFunc {
	if message == "" {
		message = "Forbidden"
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := From(c.Request().Context())
			if !a.SignedIn() {
				return Unauthenticated(c)
			}
			if needsOrg && !a.HasOrg() {
				return noOrg(c, message)
			}
			if !ok(a) {
				return apperr.New(apperr.Forbidden, message)
			}
			return next(c)
		}
	}
}

// noOrg sends a browser to choose an organisation; API callers get 403.
func noOrg(c echo.Context, message string) error {
	switch {
	case web.IsAPI(c):
		return apperr.New(apperr.Forbidden, message)
	case web.IsHTMX(c):
		c.Response().Header().Set(htmx.HeaderRedirect, routes.Orgs)
		return apperr.New(apperr.Forbidden, message)
	default:
		return c.Redirect(http.StatusSeeOther, routes.Orgs)
	}
}
