package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/clerk/clerk-sdk-go/v2/m2m_token"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
)

// machineCacheTTL bounds how long an opaque token's Backend API verdict is
// reused: a revoked token keeps working at most this long.
const machineCacheTTL = 30 * time.Second

var errNotMachine = errors.New("auth: not a machine token")

// MachineMiddleware authenticates machine-to-machine calls on the routes
// whose template starts with one of prefixes (e.g. "/api/m2m/"), and leaves
// every other route alone. On those routes only a Clerk M2M token in
// "Authorization: Bearer" is accepted, opaque (mt_…, verified by the Backend
// API) or JWT (sub mch_…, verified locally); anything else, session tokens
// included, gets 401. The machine is put on the request's Auth. Register it
// with e.Use between Middleware and Policy: matching on route templates
// needs the router, and Policy must see the machine to let it through.
func (a *Authenticator) MachineMiddleware(prefixes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !hasAnyPrefix(c.Path(), prefixes) {
				return next(c)
			}
			r := c.Request()
			tok, ok := bearerToken(r.Header.Get(echo.HeaderAuthorization))
			if !ok {
				return apperr.New(apperr.Unauthorized, MsgUnauthenticated)
			}
			m, err := a.VerifyMachine(r.Context(), tok)
			if err != nil {
				var ae *apperr.Error
				if errors.As(err, &ae) {
					return ae
				}
				return apperr.Wrap(apperr.Unauthorized, MsgUnauthenticated, err)
			}
			c.SetRequest(r.WithContext(NewContext(r.Context(), &Auth{Machine: m})))
			return next(c)
		}
	}
}

// RequireScope lets a machine through only if its token is scoped to scope
// (typically this app's machine id, mch_…). Use it on machine routes.
func RequireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			m := From(c.Request().Context()).Machine
			if m == nil {
				return apperr.New(apperr.Unauthorized, MsgUnauthenticated)
			}
			if scope == "" || !slices.Contains(m.Scopes, scope) {
				return apperr.New(apperr.Forbidden, "Insufficient scope")
			}
			return next(c)
		}
	}
}

// VerifyMachine checks an M2M token. Opaque tokens are verified by the
// Backend API (POST /m2m_tokens/verify) and the verdict cached for 30 s;
// JWT-format tokens are verified with the session keys and must have a
// mch_ subject, exp and iat. A Backend API outage is 503, not 401.
func (a *Authenticator) VerifyMachine(ctx context.Context, token string) (*Machine, error) {
	if strings.HasPrefix(token, "mt_") {
		return a.verifyOpaqueMachine(ctx, token)
	}
	if !wellFormed(token) {
		return nil, errMalformed
	}
	now := a.now()
	key := keyOf(token)
	if m, ok := a.machines.get(key, now); ok && m != nil {
		return m, nil
	}
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	if h.Cat != "" && h.Cat != catM2M {
		return nil, errNotMachine
	}
	var custom map[string]any
	claims, err := a.verifySigned(ctx, token, h, &jwt.VerifyParams{
		// M2M JWTs are not session tokens: their issuer is not the Frontend
		// API. The instance key is what ties them to us.
		IsSatellite:             true,
		CustomClaimsConstructor: func(context.Context) any { return &custom },
	})
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(claims.Subject, "mch_") || claims.SessionID != "" {
		return nil, errNotMachine
	}
	if claims.Expiry == nil || claims.IssuedAt == nil {
		return nil, errClaims
	}
	m := &Machine{ID: claims.Subject, TokenID: claims.ID, Scopes: jwtScopes(custom, claims.Audience), Claims: custom}
	for _, k := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scopes"} {
		delete(m.Claims, k)
	}
	a.machines.put(key, m, time.Unix(*claims.Expiry, 0).Add(leeway), now)
	return m, nil
}

// jwtScopes reads the scopes claim (space-separated) or, failing that, aud.
func jwtScopes(custom map[string]any, aud []string) []string {
	if s, ok := custom["scopes"].(string); ok && s != "" {
		return strings.Fields(s)
	}
	return aud
}

func (a *Authenticator) verifyOpaqueMachine(ctx context.Context, token string) (*Machine, error) {
	if len(token) > 256 || !isTokenChars(token[3:]) || len(token) == 3 {
		return nil, errMalformed
	}
	if a.m2m == nil {
		return nil, apperr.New(apperr.Unavailable, "Machine authentication is not configured")
	}
	now := a.now()
	key := keyOf(token)
	if m, ok := a.machines.get(key, now); ok {
		if m == nil {
			return nil, errNotMachine // cached refusal
		}
		return m, nil
	}
	t, err := a.m2m.Verify(ctx, &m2m_token.VerifyParams{Token: token})
	var apiErr *clerk.APIErrorResponse
	switch {
	case errors.As(err, &apiErr) && refusal(apiErr.HTTPStatusCode):
		// Cache refusals too, so a client retrying a bad token does not
		// turn into one billed Backend API call per request.
		a.machines.put(key, nil, now.Add(machineCacheTTL), now)
		return nil, errNotMachine
	case err != nil:
		return nil, apperr.Wrap(apperr.Unavailable, "Machine authentication is unavailable", err)
	}
	if t.Revoked || t.Expired || !strings.HasPrefix(t.Subject, "mch_") ||
		(t.Expiration != nil && !now.Before(time.UnixMilli(*t.Expiration))) {
		a.machines.put(key, nil, now.Add(machineCacheTTL), now)
		return nil, errNotMachine
	}
	m := &Machine{ID: t.Subject, TokenID: t.ID, Scopes: t.Scopes}
	if len(t.Claims) > 0 && string(t.Claims) != "null" {
		_ = json.Unmarshal(t.Claims, &m.Claims) // custom claims are informational
	}
	until := now.Add(machineCacheTTL)
	if t.Expiration != nil && time.UnixMilli(*t.Expiration).Before(until) {
		until = time.UnixMilli(*t.Expiration)
	}
	a.machines.put(key, m, until, now)
	return m, nil
}

// refusal reports whether a Backend API status means "this token is not
// valid" (404 is Clerk's answer) rather than "we could not ask" (401/403 mean
// our secret key is wrong; 429 and 5xx are transient).
func refusal(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

func isTokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
