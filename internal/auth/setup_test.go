package auth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
)

const (
	fapi    = "https://clerk.localhost"
	baseURL = "http://localhost:8080"
	pk      = "pk_test_Y2xlcmsubG9jYWxob3N0JA"
	suffix  = "uosMEFaG"
	secret  = "sk_test_emulator"
)

var t0 = time.Unix(1_800_000_000, 0)

var (
	keysOnce       sync.Once
	keyA, keyOther *authtest.Issuer
)

// issuers returns two RSA keys shared by the whole test binary: generating
// 2048-bit keys is the slowest thing these tests do.
func issuers(t testing.TB) (*authtest.Issuer, *authtest.Issuer) {
	keysOnce.Do(func() {
		keyA = authtest.NewIssuer(t, "ins_test_a")
		keyOther = authtest.NewIssuer(t, "ins_test_other")
	})
	return keyA, keyOther
}

// fixture is an Authenticator with its key, clock and (for JWKS mode) fake
// Backend API.
type fixture struct {
	key   *authtest.Issuer
	other *authtest.Issuer
	clock *authtest.Clock
	a     *auth.Authenticator
	jwks  *authtest.JWKSServer
	// attempts, when set, limits refused machine-token requests.
	attempts auth.AttemptLimiter
}

func baseConfig(clock *authtest.Clock) auth.Config {
	return auth.Config{
		FrontendAPI:       fapi,
		BaseURL:           baseURL,
		PublishableKey:    pk,
		AuthorizedParties: []string{baseURL},
		Now:               clock.Now,
	}
}

// pinned uses CLERK_JWT_KEY: no network at all.
func pinned(t testing.TB) *fixture {
	key, other := issuers(t)
	f := &fixture{key: key, other: other, clock: authtest.NewClock(t0)}
	cfg := baseConfig(f.clock)
	cfg.JWTKey = key.PEM()
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	return f
}

// withJWKS fetches keys from a fake Backend API that counts fetches.
func withJWKS(t testing.TB) *fixture {
	key, other := issuers(t)
	f := &fixture{key: key, other: other, clock: authtest.NewClock(t0)}
	f.jwks = authtest.NewJWKSServer(t, secret, key)
	cfg := baseConfig(f.clock)
	cfg.APIURL = f.jwks.URL + "/v1"
	cfg.SecretKey = secret
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	return f
}

// claims are the default session claims at the fixture's time.
func (f *fixture) claims() map[string]any {
	return authtest.Session(fapi, "user_1", "sess_1", f.clock.Now())
}

// token signs claims changed by edit with the fixture's key.
func (f *fixture) token(t testing.TB, edit func(map[string]any)) string {
	c := f.claims()
	if edit != nil {
		edit(c)
	}
	return f.key.Sign(t, nil, c)
}

// testErrorHandler stands in for the app's error handler: *apperr.Error and
// echo errors become {"error": message} with their status.
func testErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := apperr.Status(apperr.CodeOf(err)), apperr.MessageOf(err)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status, msg = he.Code, http.StatusText(he.Code)
	}
	_ = c.JSON(status, map[string]string{"error": msg})
}

// whoami reports the identity the handler saw.
func whoami(c echo.Context) error {
	a := auth.From(c.Request().Context())
	out := map[string]any{"user": a.UserID, "org": a.OrgID, "role": a.OrgRole}
	if a.Machine != nil {
		out["machine"] = a.Machine.ID
	}
	return c.JSON(http.StatusOK, out)
}

// public is the contract's public route list.
var public = []auth.Route{
	{Method: http.MethodGet, Path: "/"},
	{Method: http.MethodGet, Path: "/sign-in"},
	{Method: http.MethodGet, Path: "/sign-in/*"},
	{Method: http.MethodGet, Path: "/sign-up"},
	{Method: http.MethodGet, Path: "/sign-up/*"},
	{Method: http.MethodGet, Path: "/healthz"},
	{Method: http.MethodGet, Path: "/readyz"},
	{Method: http.MethodGet, Path: "/static/*"},
	{Method: http.MethodPost, Path: "/api/webhooks/clerk"},
}

// app is a small router with the contract's routes, wired the way the server
// must wire the package.
func (f *fixture) app() *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = testErrorHandler
	e.Use(f.a.Middleware(), f.a.MachineMiddleware(f.attempts, "/api/m2m/"), auth.Policy(public))
	for _, r := range public {
		e.Add(r.Method, r.Path, whoami)
	}
	e.GET("/dashboard", whoami, auth.RequireOrg())
	e.GET("/orgs", whoami)
	e.GET("/admin", whoami, auth.RequireRole("org:admin", "Admin required"))
	e.GET("/admin/*", whoami, auth.RequireRole("org:admin", "Admin required"))
	e.GET("/api/me", whoami)
	e.GET("/api/org", whoami, auth.RequireOrg())
	e.GET("/api/org/members", whoami, auth.RequireOrg())
	e.POST("/api/org/export", whoami, auth.RequireRole("org:admin", "Admin required"), auth.RequirePlan("enterprise", "Enterprise plan required"))
	e.GET("/api/projects", whoami, auth.RequireOrg())
	e.POST("/api/projects", whoami, auth.RequirePermission("org:projects:create", "Permission required"))
	e.GET("/api/projects/:id", whoami, auth.RequireOrg())
	e.PUT("/api/projects/:id", whoami, auth.RequireOrg())
	e.PATCH("/api/projects/:id", whoami, auth.RequireOrg())
	e.DELETE("/api/projects/:id", whoami, auth.RequireOrg())
	e.GET("/api/beta", whoami, auth.RequireFeature("beta", "Feature not enabled"))
	e.POST("/api/m2m/usage", whoami)
	e.GET("/api/m2m/ping", whoami)
	return e
}

// do sends req through h and returns the recorder.
func do(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// bodyOf decodes a JSON response body.
func bodyOf(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return m
}
