package secure_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/secure"
)

// TestNonceInEveryDirectiveThatTakesIt: the policy is assembled once and
// each response joins its own nonce in; every directive that names the
// nonce gets this response's, and nothing of the placeholder remains.
func TestNonceInEveryDirectiveThatTakesIt(t *testing.T) {
	t.Parallel()
	e := echo.New()
	var nonce string
	h := secure.Headers(secure.Config{})(func(c echo.Context) error {
		nonce = secure.NonceFromContext(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	rec := httptest.NewRecorder()
	if err := h(e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)); err != nil {
		t.Fatal(err)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if len(nonce) < 22 || strings.ContainsAny(csp, "\x00\r\n") {
		t.Fatalf("nonce %q, policy %q", nonce, csp)
	}
	for _, directive := range strings.Split(csp, "; ") {
		if strings.Contains(directive, "'nonce-") && !strings.Contains(directive, "'nonce-"+nonce+"'") {
			t.Errorf("directive %q does not carry this response's nonce %q", directive, nonce)
		}
	}
	if got := strings.Count(csp, "'nonce-"+nonce+"'"); got != strings.Count(secure.Config{}.Policy("N"), "'nonce-N'") || got < 2 {
		t.Errorf("the nonce appears %d times in %q", got, csp)
	}
}
