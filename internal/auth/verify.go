package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
)

var (
	errTokenType = errors.New("auth: not a session token")
	errClaims    = errors.New("auth: token lacks a required claim")
)

// staleError means the token was signed by our key but is outside its time
// window (expired, not yet valid, issued in the future). For a browser that
// is recoverable: the handshake or a refresh gets a fresh token.
type staleError struct{ reason string }

func (e *staleError) Error() string { return "auth: stale session token: " + e.reason }

// stale classifies go-jose's time errors with Clerk's handshake reasons.
func stale(err error) error {
	switch {
	case errors.Is(err, josejwt.ErrExpired):
		return &staleError{"session-token-expired"}
	case errors.Is(err, josejwt.ErrNotValidYet):
		return &staleError{"session-token-nbf"}
	case errors.Is(err, josejwt.ErrIssuedInTheFuture):
		return &staleError{"session-token-iat-in-the-future"}
	}
	return err
}

// clock adapts the injected time source to clerk-sdk-go.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }

// Verify checks a session token and returns its identity. The rules, in
// order: compact-JWS syntax and size; RS256 only; no unknown crit; a cat
// header, if any, of a session token; a key from CLERK_JWT_KEY or the JWKS by
// kid; signature; exp/nbf/iat with 5 s leeway; iss equal to the Frontend API
// URL; azp in the allow-list when present; exp, iat, sub and sid present;
// sub not a machine; the session not revoked (Config.Revocations). Successful
// results are cached by SHA-256 of the token until exp, so a repeat request
// does no cryptography.
func (a *Authenticator) Verify(ctx context.Context, token string) (*Auth, error) {
	if len(token) > maxTokenLen {
		return nil, errMalformed
	}
	now := a.now()
	key := keyOf(token)
	if au, ok := a.sessions.get(key, now); ok {
		a.cacheHits.Add(1)
		// It passed every check below when it was cached; only the
		// session's revocation can have changed since.
		if a.revoked.Revoked(au.SessionID) {
			return nil, errRevoked
		}
		return au, nil
	}
	a.cacheMisses.Add(1)
	if !wellFormed(token) {
		return nil, errMalformed
	}
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	if h.Cat != "" && h.Cat != catSession && h.Cat != catIgnore {
		return nil, errTokenType
	}
	extra := &sessionExtra{}
	claims, err := a.verifySigned(ctx, token, h, &jwt.VerifyParams{
		ProxyURL:                &a.cfg.FrontendAPI,
		AuthorizedPartyHandler:  a.authorizedParty,
		CustomClaimsConstructor: func(context.Context) any { return extra },
	})
	if err != nil {
		return nil, err
	}
	if claims.Expiry == nil || claims.IssuedAt == nil || claims.Subject == "" || claims.SessionID == "" {
		return nil, errClaims
	}
	if strings.HasPrefix(claims.Subject, "mch_") {
		return nil, errTokenType
	}
	au, err := authFromClaims(claims, extra)
	if err != nil {
		return nil, err
	}
	if a.revoked.Revoked(au.SessionID) {
		return nil, errRevoked
	}
	a.sessions.put(key, au, au.ExpiresAt.Add(leeway), now)
	return au, nil
}

// verifySigned runs clerk-sdk-go's verification with the key for h.kid, the
// injected clock and the leeway; p carries the per-kind rules.
func (a *Authenticator) verifySigned(ctx context.Context, token string, h header, p *jwt.VerifyParams) (*clerk.SessionClaims, error) {
	jwk, err := a.keys.key(h.Kid)
	if err != nil {
		return nil, err
	}
	p.Token = token
	p.JWK = jwk
	p.Clock = clock(a.now)
	p.Leeway = leeway
	claims, err := jwt.Verify(ctx, p)
	if err != nil {
		return nil, stale(err)
	}
	return claims, nil
}

// authorizedParty implements the azp rule. A token without azp is accepted:
// Clerk omits azp when the browser sent no Origin, and clerk-sdk-go's
// AuthorizedPartyMatches accepts it too. The signature and exact iss still tie
// such a token to this instance; a present azp must be one of ours, which is
// what stops a token minted for another origin of the same instance.
func (a *Authenticator) authorizedParty(azp string) bool {
	if azp == "" {
		return true
	}
	_, ok := a.parties[azp]
	return ok
}
