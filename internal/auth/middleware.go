package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/m2m_token"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/web"
)

// Authenticator verifies Clerk tokens and provides the request middleware.
// Create one per process with New; it is safe for concurrent use.
type Authenticator struct {
	cfg      Config
	suffix   string
	secure   bool
	now      func() time.Time
	keys     *keySet
	parties  map[string]struct{}
	sessions *ttlCache[*Auth]
	machines *ttlCache[*Machine]
	revoked  *Revocations
	// m2m calls the Backend API as this app's machine (with its machine
	// secret key); nil when no machine secret key is configured.
	m2m  *m2m_token.Client
	self selfMachine
	// http calls the Backend API for handshake nonces.
	http *http.Client

	// cacheHits and cacheMisses count verified-claims cache lookups, for
	// the metrics endpoint.
	cacheHits, cacheMisses atomic.Uint64
}

// CacheStats returns how many session tokens were answered from the
// verified-claims cache and how many needed full verification.
func (a *Authenticator) CacheStats() (hits, misses uint64) {
	return a.cacheHits.Load(), a.cacheMisses.Load()
}

// New checks cfg and returns an Authenticator. It does no network I/O: with
// CLERK_JWT_KEY set nothing is ever fetched, and otherwise the JWKS is fetched
// on the first token.
func New(cfg Config) (*Authenticator, error) {
	cfg.FrontendAPI = strings.TrimRight(cfg.FrontendAPI, "/")
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(cfg.FrontendAPI); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("auth: Frontend API URL %q is not an absolute URL", cfg.FrontendAPI)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("auth: base URL %q is not an origin", cfg.BaseURL)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	keys, err := newKeySet(cfg, now)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		cfg:      cfg,
		suffix:   CookieSuffix(cfg.PublishableKey),
		secure:   base.Scheme == "https",
		now:      now,
		keys:     keys,
		parties:  map[string]struct{}{},
		sessions: newTTLCache[*Auth](cacheSize),
		machines: newTTLCache[*Machine](cacheSize),
		revoked:  cfg.Revocations,
		http:     httpClient(cfg),
	}
	for _, p := range cfg.AuthorizedParties {
		a.parties[strings.TrimRight(p, "/")] = struct{}{}
	}
	if cfg.MachineSecretKey != "" && cfg.APIURL != "" {
		a.m2m = m2m_token.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			HTTPClient: httpClient(cfg),
			URL:        clerk.String(cfg.APIURL),
			Key:        clerk.String(cfg.MachineSecretKey),
		}})
		a.self.id = cfg.MachineID
	}
	return a, nil
}

// Middleware authenticates every request and never rejects one: it puts the
// caller's *Auth (possibly signed out) in the request context for From. The
// one exception to "always call next" is Clerk's handshake: a document GET
// whose cookies are stale is answered with a 307 to the Frontend API, and the
// request that comes back with the handshake token is answered with the
// cookies it carries and a 307 to the same URL without the token.
//
// Transport, in the contract's order: "Authorization: Bearer <jwt>" (scheme
// case-insensitive; a bearer header is final and never mixed with cookies),
// then the __session_<suffix> cookie, then __session, with __client_uat.
// Machine tokens are signed out here; MachineMiddleware accepts them on
// machine routes.
func (a *Authenticator) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			au, handled, err := a.authenticate(c)
			if handled {
				return err
			}
			r := c.Request()
			c.SetRequest(r.WithContext(NewContext(r.Context(), au)))
			return next(c)
		}
	}
}

// authenticate is Clerk's authenticateRequest decision tree (clerk.md §2.3)
// without satellite domains and organisation sync. handled reports that it
// has written the response (a handshake redirect).
func (a *Authenticator) authenticate(c echo.Context) (au *Auth, handled bool, err error) {
	r := c.Request()
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		if tok, ok := bearerToken(h); ok {
			// A header token cannot be refreshed by a handshake (the
			// browser does not resend it), so a stale one is signed out,
			// marked so the caller knows to get a fresh token and retry.
			au, err := a.Verify(r.Context(), tok)
			var se *staleError
			switch {
			case errors.As(err, &se):
				return staleAuth, false, nil
			case err != nil:
				return signedOut, false, nil
			}
			return au, false, nil
		}
	}

	ck := readCookies(r.Header, a.suffix)
	if web.IsDocument(c) {
		if ret, ok := handshakeReturned(c, ck); ok {
			if au, handled, err := a.finishHandshake(c, ret); handled {
				return au, handled, err
			}
			// An invalid handshake payload is dropped and the request goes
			// on with its cookies, as @clerk/backend's authenticateRequest
			// does: a signed-in browser sent to a URL with a stale or
			// foreign __clerk_handshake must not bounce to sign-in and back.
			ck = a.dropHandshake(c, ck, ret)
			r = c.Request()
		}
	}
	tok, rawUAT, _ := ck.sessionToken()
	uat, _ := strconv.ParseInt(rawUAT, 10, 64)
	switch {
	case uat <= 0 && tok == "":
		return signedOut, false, nil
	case uat <= 0:
		return a.handshake(c, ck, "session-token-but-no-client-uat")
	case tok == "":
		return a.handshake(c, ck, "client-uat-but-no-session-token")
	}
	au, err = a.Verify(r.Context(), tok)
	var se *staleError
	switch {
	case errors.As(err, &se):
		return a.handshake(c, ck, se.reason)
	case err != nil:
		return signedOut, false, nil
	case au.IssuedAt.Unix() < uat:
		// The user signed in or out elsewhere after this token was minted.
		return a.handshake(c, ck, "session-token-iat-before-client-uat")
	}
	return au, false, nil
}
