// Package web holds the small HTTP helpers every handler shares: what kind of
// request this is (page, HTMX fragment, JSON API), how to redirect it, and how
// to render a templ component as a full page or a fragment.
package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/web/htmx"
)

// IsHTMX reports whether the request was made by htmx.
func IsHTMX(c echo.Context) bool {
	return c.Request().Header.Get(htmx.HeaderRequest) == "true"
}

// IsBoosted reports whether htmx made the request for a boosted link or form,
// which wants the whole page rather than a fragment.
func IsBoosted(c echo.Context) bool {
	return c.Request().Header.Get(htmx.HeaderBoosted) == "true"
}

// WantsFragment reports whether the response should be a fragment: an HTMX
// request that is not boosted and not a history restore.
func WantsFragment(c echo.Context) bool {
	h := c.Request().Header
	return IsHTMX(c) && !IsBoosted(c) && h.Get(htmx.HeaderHistRestore) != "true"
}

// IsAPI reports whether the request is for the JSON API. The decision is made
// on the path alone so that headers a client controls cannot turn an API
// request into a page request or back.
func IsAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

// IsDocument reports whether the request is a top-level browser navigation
// that can follow a redirect chain: a GET whose Sec-Fetch-Dest is document or
// iframe, or, for browsers without fetch metadata, one that accepts HTML. This
// is the rule Clerk uses to decide whether a request may be handshaken.
func IsDocument(c echo.Context) bool {
	r := c.Request()
	if r.Method != http.MethodGet || IsAPI(c) || IsHTMX(c) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe":
		return true
	case "":
		return strings.HasPrefix(r.Header.Get(echo.HeaderAccept), "text/html")
	}
	return false
}

// Redirect sends the client to url: HTMX requests get HX-Redirect (a full
// navigation, since a fragment swap of another page would be wrong), everyone
// else a 303 so that a POST is followed by a GET.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c) {
		c.Response().Header().Set(htmx.HeaderRedirect, url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}
