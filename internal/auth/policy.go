package auth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/redirect"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/internal/web/htmx"
)

// HeaderRefresh is set (to "1") on a 401 answered to an HTMX or API request
// whose session cookie was present but stale (expired, or older than
// __client_uat). The page script should then refresh the session token and
// retry once, for example:
//
//	document.body.addEventListener("htmx:responseError", async (e) => {
//	  const xhr = e.detail.xhr;
//	  if (xhr.status !== 401 || xhr.getResponseHeader("X-Session-Refresh") !== "1" || e.detail.requestConfig.retried) return;
//	  await window.Clerk.session?.getToken({ skipCache: true }); // rewrites __session
//	  if (!window.Clerk.session) { location.assign("/sign-in?redirect_url=" + encodeURIComponent(location.pathname + location.search)); return; }
//	  htmx.ajax(e.detail.requestConfig.verb, e.detail.requestConfig.path, { source: e.detail.elt, values: e.detail.requestConfig.parameters, headers: { "X-Session-Refreshed": "1" } });
//	});
//
// A signed-out HTMX request without a stale session gets HX-Redirect to the
// sign-in page instead.
const HeaderRefresh = "X-Session-Refresh"

// Messages of the contract's JSON errors.
const (
	MsgUnauthenticated = "Unauthenticated"
	MsgNoOrg           = "Must be in an org"
)

// AnyMethod in a public Route matches every method.
const AnyMethod = "*"

// Route is one method and Echo route template (c.Path()), such as
// {GET, "/sign-in/*"}. Templates, not URL paths, are compared, so encodings
// and dot segments in a request cannot make a protected route look public.
type Route struct {
	Method string
	Path   string
}

// Policy is the deny-by-default route policy: a request passes when its
// method and route template are in public, when it is signed in, or when
// MachineMiddleware has authenticated a machine (only ever on machine routes).
// Everyone else is answered as unauthenticated: browsers are redirected to
// /sign-in?redirect_url=<path>, HTMX gets 401 with HX-Redirect (or
// HeaderRefresh for a stale session), /api gets 401 {"error":"Unauthenticated"}.
// Register it with e.Use after Middleware (and MachineMiddleware).
func Policy(public []Route) echo.MiddlewareFunc {
	allowed := make(map[Route]struct{}, len(public))
	for _, r := range public {
		allowed[r] = struct{}{}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, ok := allowed[Route{c.Request().Method, c.Path()}]; ok {
				return next(c)
			}
			if _, ok := allowed[Route{AnyMethod, c.Path()}]; ok {
				return next(c)
			}
			if a := From(c.Request().Context()); a.SignedIn() || a.Machine != nil {
				return next(c)
			}
			return Unauthenticated(c)
		}
	}
}

// Unauthenticated answers a request that needs a session and has none, by
// request kind. Handlers and custom guards use it to answer like the policy.
func Unauthenticated(c echo.Context) error {
	stale := From(c.Request().Context()).stale
	switch {
	case web.IsAPI(c):
		if stale {
			c.Response().Header().Set(HeaderRefresh, "1")
		}
	case web.IsHTMX(c):
		if stale {
			c.Response().Header().Set(HeaderRefresh, "1")
		} else {
			c.Response().Header().Set(htmx.HeaderRedirect, SignInURL(currentPageURL(c)))
		}
	default:
		return c.Redirect(http.StatusSeeOther, SignInURL(requestPath(c)))
	}
	return apperr.New(apperr.Unauthorized, MsgUnauthenticated)
}

// SignInURL is the sign-in page with a validated return path:
// SignInURL("/dashboard") == "/sign-in?redirect_url=/dashboard". An unsafe
// returnTo (another origin, //host, …) becomes "/".
func SignInURL(returnTo string) string {
	rt := redirect.Safe(returnTo, routes.Home)
	// Slashes stay readable; everything else a query value needs is escaped.
	return routes.SignIn + "?redirect_url=" + strings.ReplaceAll(url.QueryEscape(rt), "%2F", "/")
}

// requestPath is the path and query of the request as sent (not decoded, and
// never the absolute-form target's host).
func requestPath(c echo.Context) string {
	u := c.Request().URL
	if u.RawQuery == "" {
		return escapedPath(u)
	}
	return escapedPath(u) + "?" + u.RawQuery
}

// currentPageURL is the page an HTMX request came from (HX-Current-URL), as
// a path, falling back to the request path. SignInURL validates it.
func currentPageURL(c echo.Context) string {
	if u, err := url.Parse(c.Request().Header.Get(htmx.HeaderCurrentURL)); err == nil && u.Path != "" {
		if u.RawQuery == "" {
			return escapedPath(u)
		}
		return escapedPath(u) + "?" + u.RawQuery
	}
	return requestPath(c)
}
