package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/clerk/clerk-sdk-go/v2/m2m_token"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/routes"
)

// Machine-token verification follows Clerk's model (Clerk's docs, "Machine
// authentication"; @clerk/backend tokens/verify.ts): this app is a machine
// of the Clerk instance, with its own machine secret key (ak_…), and a
// machine token is valid here only if the machine that requested it is
// scoped to this app's machine.
//
//   - Opaque tokens (mt_…) are verified by the Backend API, POST
//     /m2m_tokens/verify, authenticated with the app's machine secret key: Clerk
//     then answers 404 for every token not scoped to this machine.
//   - JWT tokens (sub mch_…, header cat cl_B7d4PD333AAA) are verified locally
//     with the instance key, and their scopes (the space-separated scopes
//     claim, else aud) must name this app's machine id.
//
// Anything else is refused before any network call, and refusals are
// counted per client so that anonymous callers cannot make the app spend its
// Backend API quota (AttemptLimiter).

// MsgRateLimited is the contract's 429 message.
const MsgRateLimited = "Rate limited"

// machineCacheTTL bounds how long an opaque token's Backend API verdict is
// reused: a revoked token keeps working at most this long.
const machineCacheTTL = 30 * time.Second

// machineIDRetry spaces out attempts to learn this app's machine id after a
// failed one.
const machineIDRetry = 30 * time.Second

var errNotMachine = errors.New("auth: not a machine token")

// opaqueMachineToken is the shape of Clerk's opaque M2M tokens: the mt_
// prefix (@clerk/backend tokens/machine.ts) and a random body. Clerk does
// not publish the body's length; the bounds admit every token seen from
// Clerk and the emulator and stop anything unbounded.
var opaqueMachineToken = regexp.MustCompile(`^mt_[A-Za-z0-9_-]{24,128}$`)

// AttemptLimiter counts refused machine-token requests per client IP. Once a
// client has used up its attempts, its requests are refused with 429 before
// any verification, so nobody can make the app call Clerk's Backend API at
// will. internal/ratelimit provides the PostgreSQL-backed implementation.
type AttemptLimiter interface {
	// Blocked reports whether the client at ip has no attempts left in the
	// current window, and how long until it has.
	Blocked(ctx context.Context, ip string) (retryAfter time.Duration, blocked bool, err error)
	// Failed counts one refused attempt of the client at ip.
	Failed(ctx context.Context, ip string) error
}

// MachinesEnabled reports whether machine tokens can be verified at all:
// only with this app's machine secret key (CLERK_MACHINE_SECRET_KEY). Without
// it the machine routes must not be served.
func (a *Authenticator) MachinesEnabled() bool { return a.m2m != nil }

// MachineMiddleware authenticates machine-to-machine calls on the routes
// whose template starts with one of prefixes (e.g. "/api/m2m/"), and leaves
// every other route alone. On those routes only a Clerk M2M token in
// "Authorization: Bearer" that is scoped to this app's machine is accepted:
// any other bearer token, session tokens included, gets 401 and counts
// against the client's attempts in limit (nil: no limit), and a request
// without one goes on signed out, for the route policy to refuse. A client
// without attempts left gets 429 without any verification. The machine is
// put on the request's Auth. Register it with e.Use between Middleware and Policy, and only when
// MachinesEnabled: matching on route templates needs the router, and Policy
// must see the machine to let it through.
func (a *Authenticator) MachineMiddleware(limit AttemptLimiter, prefixes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !routes.UnderAny(c.Path(), prefixes) {
				return next(c)
			}
			r := c.Request()
			ctx := r.Context()
			tok, ok := bearerToken(r.Header.Get(echo.HeaderAuthorization))
			if !ok || tok == "" {
				// No machine token: the request goes on signed out (a cookie
				// session does not count here), so the route policy answers it
				// 401 like any anonymous /api call, and counts it as one. It
				// cannot reach Clerk, so it costs no attempt.
				c.SetRequest(r.WithContext(NewContext(ctx, signedOut)))
				return next(c)
			}
			// A token verified before is served from the cache without
			// touching the limiter: a busy, well-behaved job costs nothing.
			m, ok := a.cachedMachine(tok)
			if !ok {
				var err error
				if m, err = a.admitMachine(c, limit, tok); err != nil {
					return err
				}
			}
			c.SetRequest(r.WithContext(NewContext(ctx, &Auth{Machine: m})))
			return next(c)
		}
	}
}

// admitMachine verifies a token that is not in the cache. A token that
// cannot be a Clerk machine token is refused on its shape alone, which costs
// nothing. Only a token that goes on to verification (a Backend API call,
// or an RSA signature check) needs an attempt left, and uses one up when it
// is refused.
func (a *Authenticator) admitMachine(c echo.Context, limit AttemptLimiter, tok string) (*Machine, error) {
	h, err := machineShape(tok)
	if err != nil || a.m2m == nil {
		return nil, apperr.Wrap(apperr.Unauthorized, MsgUnauthenticated, err)
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	if limit != nil {
		wait, blocked, err := limit.Blocked(ctx, ip)
		if err != nil {
			// Failing closed: without the count, a flood could reach Clerk.
			return nil, apperr.Wrap(apperr.Unavailable, "Machine authentication is unavailable", err)
		}
		if blocked {
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
			return nil, apperr.New(apperr.RateLimited, MsgRateLimited)
		}
	}
	m, err := a.verifyMachine(ctx, tok, h)
	if err == nil {
		return m, nil
	}
	if apperr.CodeOf(err) == apperr.Unavailable {
		return nil, err // Clerk's outage is not the client's failed attempt
	}
	if limit != nil {
		if lerr := limit.Failed(ctx, ip); lerr != nil {
			return nil, apperr.Wrap(apperr.Unavailable, "Machine authentication is unavailable", lerr)
		}
	}
	return nil, apperr.Wrap(apperr.Unauthorized, MsgUnauthenticated, err)
}

// machineShape checks, without any verification, that token can be a Clerk
// machine token: an opaque mt_ token of the right form, or a compact RS256
// JWT whose category (if any) is M2M and whose subject is a machine, the
// test @clerk/backend's isM2MJwt makes to route a token. It returns the JWT's
// header (zero for an opaque token).
func machineShape(token string) (header, error) {
	if strings.HasPrefix(token, "mt_") {
		if !opaqueMachineToken.MatchString(token) {
			return header{}, errMalformed
		}
		return header{}, nil
	}
	if !wellFormed(token) {
		return header{}, errMalformed
	}
	h, err := parseHeader(token)
	if err != nil {
		return h, err
	}
	if h.Cat != "" && h.Cat != catM2M {
		return h, errNotMachine
	}
	if !machineSubject(token) {
		return h, errNotMachine
	}
	return h, nil
}

// cachedMachine returns the machine of a token verified earlier and still
// cached.
func (a *Authenticator) cachedMachine(token string) (*Machine, bool) {
	if token == "" || len(token) > maxTokenLen || a.m2m == nil {
		return nil, false
	}
	m, ok := a.machines.get(keyOf(token), a.now())
	return m, ok && m != nil
}

// VerifyMachine checks an M2M token as this app's machine. Opaque tokens are
// verified by the Backend API with the machine secret key and the verdict
// cached for 30 s; JWT-format tokens are verified with the session keys,
// must have a mch_ subject, exp and iat, and must be scoped to this app's
// machine. Tokens of any other shape are refused without a network call. A
// Backend API outage is 503, not 401.
func (a *Authenticator) VerifyMachine(ctx context.Context, token string) (*Machine, error) {
	if a.m2m == nil {
		return nil, apperr.New(apperr.Unauthorized, "Machine authentication is not configured")
	}
	// The shape is checked before anything else, so a session token (or
	// anything else) never costs a Backend API call, an RSA verification or
	// a key fetch here.
	h, err := machineShape(token)
	if err != nil {
		return nil, err
	}
	return a.verifyMachine(ctx, token, h)
}

// verifyMachine is VerifyMachine for a token of the right shape, whose JWT
// header (zero for an opaque token) is h.
func (a *Authenticator) verifyMachine(ctx context.Context, token string, h header) (*Machine, error) {
	now := a.now()
	key := keyOf(token)
	if m, ok := a.machines.get(key, now); ok {
		if m == nil {
			return nil, errNotMachine // cached refusal
		}
		return m, nil
	}
	if strings.HasPrefix(token, "mt_") {
		return a.verifyOpaqueMachine(ctx, token, key, now)
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
	self, err := a.machineID(ctx)
	if err != nil {
		return nil, err
	}
	until := time.Unix(*claims.Expiry, 0).Add(leeway)
	scopes := jwtScopes(custom, claims.Audience)
	if !slices.Contains(scopes, self) {
		a.machines.put(key, nil, until, now)
		return nil, errNotMachine
	}
	m := &Machine{ID: claims.Subject, TokenID: claims.ID, Scopes: scopes, Claims: custom}
	for _, k := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scopes"} {
		delete(m.Claims, k)
	}
	a.machines.put(key, m, until, now)
	return m, nil
}

// machineSubject reports whether a well-formed JWT's unverified payload has
// a mch_ subject: @clerk/backend's isM2MJwt, the test it uses to route a
// token to machine verification.
func machineSubject(token string) bool {
	_, rest, _ := strings.Cut(token, ".")
	seg, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	var p struct {
		Sub string `json:"sub"`
	}
	return json.Unmarshal(raw, &p) == nil && strings.HasPrefix(p.Sub, "mch_")
}

// jwtScopes reads the scopes claim (space-separated) or, failing that, aud,
// as @clerk/backend's M2MToken.fromJwtPayload does.
func jwtScopes(custom map[string]any, aud []string) []string {
	if s, ok := custom["scopes"].(string); ok && s != "" {
		return strings.Fields(s)
	}
	return aud
}

// verifyOpaqueMachine asks the Backend API about an opaque token of the
// right shape that is not in the cache (key is its cache key).
func (a *Authenticator) verifyOpaqueMachine(ctx context.Context, token string, key tokenKey, now time.Time) (*Machine, error) {
	// Authenticated with the machine secret key, Clerk verifies the token
	// as this machine: a token of a machine not scoped to it is a 404.
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

// selfMachine is this app's machine id (mch_…), which JWT-format tokens
// must name in their scopes. Config.MachineID gives it; otherwise it is
// learned once from the Backend API, the first time a JWT-format token with
// a valid signature needs it, so only tokens signed by the instance can
// cause that call.
type selfMachine struct {
	mu     sync.Mutex
	id     string
	failed time.Time
}

// machineID returns this app's machine id, learning it if needed.
func (a *Authenticator) machineID(ctx context.Context) (string, error) {
	s := &a.self
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id != "" {
		return s.id, nil
	}
	now := a.now()
	if !s.failed.IsZero() && now.Sub(s.failed) < machineIDRetry {
		return "", apperr.New(apperr.Unavailable, "Machine authentication is unavailable")
	}
	id, err := a.learnMachineID(ctx)
	if err != nil {
		s.failed = now
		return "", apperr.Wrap(apperr.Unavailable, "Machine authentication is unavailable", err)
	}
	s.id = id
	return id, nil
}

// learnMachineID asks Clerk which machine the machine secret key belongs
// to. Clerk's Backend API has no "current machine" endpoint; the one call
// a machine secret key can make that names its machine is creating an M2M
// token, whose subject is the machine. The token lives a minute, never
// leaves this function and is revoked at once.
func (a *Authenticator) learnMachineID(ctx context.Context) (string, error) {
	t, err := a.m2m.Create(ctx, &m2m_token.CreateParams{SecondsUntilExpiration: clerk.Int64(60)})
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(t.Subject, "mch_") {
		return "", errors.New("auth: the Backend API named no machine for CLERK_MACHINE_SECRET_KEY")
	}
	_, _ = a.m2m.Revoke(ctx, t.ID, &m2m_token.RevokeParams{RevocationReason: clerk.String("machine id lookup")})
	return t.Subject, nil
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
