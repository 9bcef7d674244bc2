package authtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// Methods are the methods the route inventory tries on every route.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}

// AnonymousDenied walks e.Routes() and proves that every method and route
// template that isPublic does not list refuses an anonymous request: 401 or
// 403, or a redirect to the sign-in page (checklist A-02). Each route is
// tried as a browser page, an HTMX request and, under /api, a JSON call. A
// new route therefore fails this test until it is protected or made public
// on purpose.
func AnonymousDenied(t *testing.T, e *echo.Echo, isPublic func(method, path string) bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		if seen[r.Path] || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		seen[r.Path] = true
		for _, m := range Methods {
			if isPublic(m, r.Path) {
				continue
			}
			for _, kind := range []string{"page", "htmx"} {
				req := httptest.NewRequest(m, PathFor(r.Path), nil)
				if kind == "page" {
					req.Header.Set("Accept", "text/html")
					req.Header.Set("Sec-Fetch-Dest", "document")
				} else {
					req.Header.Set("HX-Request", "true")
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if !denied(rec) {
					t.Errorf("anonymous %s %s (%s, route %s): status %d, Location %q: want 401, 403 or a redirect to sign-in",
						m, req.URL.Path, kind, r.Path, rec.Code, rec.Header().Get("Location"))
				}
			}
		}
	}
}

func denied(rec *httptest.ResponseRecorder) bool {
	switch rec.Code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect:
		return strings.HasPrefix(rec.Header().Get("Location"), "/sign-in")
	}
	return false
}
