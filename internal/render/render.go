// Package render is the one place that turns a templ component into a
// response: the full page inside the layout for browsers, the bare fragment
// for HTMX, and the error page, fragment or JSON for errors.
package render

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/appsession"
	"github.com/saasstarter/saas/internal/secure"
	"github.com/saasstarter/saas/internal/web"
	"github.com/saasstarter/saas/views/layouts"
)

// Renderer renders pages with the layout data of the current request.
type Renderer struct {
	// Sessions holds flash messages; nil means no flashes.
	Sessions *appsession.Store
	// Clerk says which browser script the layout loads.
	Clerk layouts.ClerkScript
	// Identity reads the verified identity of the request for the layout.
	// Nil renders every page as signed out.
	Identity func(c echo.Context) layouts.Identity
}

// Meta builds the layout data for this request.
func (r *Renderer) Meta(c echo.Context, title string) layouts.Meta {
	m := layouts.Meta{
		Title:     title,
		Path:      c.Request().URL.Path,
		Nonce:     secure.NonceFromContext(c.Request().Context()),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Clerk:     r.Clerk,
	}
	m.CSRFToken = CSRFToken(c)
	m.Identity = r.IdentityOf(c)
	if r.Sessions != nil {
		for _, f := range r.Sessions.Flashes(c) {
			m.Flashes = append(m.Flashes, layouts.Flash{Kind: f.Kind, Message: f.Message})
		}
	}
	return m
}

// IdentityOf returns the request's identity as the layout sees it, for
// handlers that vary their content by it without building the whole Meta
// (which would consume the flash messages).
func (r *Renderer) IdentityOf(c echo.Context) layouts.Identity {
	if r.Identity == nil {
		return layouts.Identity{}
	}
	return r.Identity(c)
}

// CSRFContextKey is where the CSRF middleware leaves the request's token.
const CSRFContextKey = "csrf"

// CSRFToken is the request's CSRF token, for the _csrf field of plain forms
// (htmx sends it from the layout's hx-headers).
func CSRFToken(c echo.Context) string {
	tok, _ := c.Get(CSRFContextKey).(string)
	return tok
}

// Page renders content with status: as a fragment for a (non-boosted) HTMX
// request, or inside the layout otherwise. Responses vary by HX-Request, so
// caches must keep the two apart.
func (r *Renderer) Page(c echo.Context, status int, title string, content templ.Component) error {
	c.Response().Header().Add(echo.HeaderVary, "HX-Request")
	if r.IdentityOf(c).SignedIn {
		// The page shows who is signed in (the header names the active
		// organisation), so no cache may keep it (T-08).
		secure.NoStore(c.Response().Header())
	}
	if web.WantsFragment(c) {
		return Component(c, status, content)
	}
	page := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return layouts.Base(r.Meta(c, title)).Render(templ.WithChildren(ctx, content), w)
	})
	return Component(c, status, page)
}

// Component renders one component with status. It renders into a buffer
// first, so that a rendering error becomes a clean 500 instead of half a page.
func Component(c echo.Context, status int, cmp templ.Component) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	if err := cmp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	// With its length known, net/http sends the page in one piece instead
	// of chunked: one write fewer per page (the gzip writer drops the
	// header when it compresses).
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// buffers keeps render buffers between requests: a page is 10–30 KB, and
// growing a fresh buffer to that size for every response was a good part of
// what rendering allocated.
var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// putBuffer returns buf to the pool unless an unusual page grew it large;
// the pool should not pin that memory for every later request.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 256<<10 {
		return
	}
	buf.Reset()
	buffers.Put(buf)
}

// NoContent is the HTMX-friendly empty answer for a successful action.
func NoContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
