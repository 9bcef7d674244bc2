package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2/jwt"
	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/redirect"
	"github.com/saasstarter/saas/internal/web"
)

// maxHandshakes is Clerk's loop guard: after this many handshake redirects
// in a row (counted in the __clerk_redirect_count cookie) the request is
// treated as signed out instead of redirected again.
const maxHandshakes = 3

// handshake answers a stale cookie session. Only a document GET can follow
// the redirect chain; any other request is signed out, marked stale so the
// policy tells the page script to refresh the token and retry.
func (a *Authenticator) handshake(c echo.Context, ck cookies, reason string) (*Auth, bool, error) {
	if !web.IsDocument(c) {
		return staleAuth, false, nil
	}
	n, _ := strconv.Atoi(ck.redirectCount)
	if n >= maxHandshakes || n < 0 {
		return signedOut, false, nil
	}
	r := c.Request()
	current := a.cfg.BaseURL + escapedPath(r.URL) + withoutHandshakeParams(r.URL.RawQuery)
	loc := a.cfg.FrontendAPI + "/v1/client/handshake?redirect_url=" + url.QueryEscape(current) +
		"&__clerk_api_version=" + clerkAPIVersion +
		"&suffixed_cookies=false&format=token&__clerk_hs_reason=" + reason
	if db := ck.devBrowserToken(); db != "" {
		// Development instances identify the browser by this token, not by
		// a cookie on the Frontend API's domain.
		loc += "&" + cookieDevBrowser + "=" + url.QueryEscape(db)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.SetCookie(&http.Cookie{
		Name: cookieRedirectCount, Value: strconv.Itoa(n + 1), Path: "/",
		MaxAge: 3, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil, true, c.Redirect(http.StatusTemporaryRedirect, loc)
}

// handshakeReturn is what the Frontend API sent back from a handshake: a
// signed token (format=token) or a one-time nonce whose payload is fetched
// from the Backend API (format=nonce). Each arrives as a query parameter on
// development instances and the emulator, and as a cookie in production.
type handshakeReturn struct {
	token, nonce string
	// cookie is the name of the cookie that carried it, to be cleared.
	cookie string
}

// handshakeReturned finds a handshake payload in the request, if any; a
// token wins over a nonce, a query parameter over a cookie.
func handshakeReturned(c echo.Context, ck cookies) (handshakeReturn, bool) {
	if raw := c.Request().URL.RawQuery; strings.Contains(raw, paramHandshake) {
		if q, err := url.ParseQuery(raw); err == nil {
			if t := q.Get(paramHandshake); t != "" {
				return handshakeReturn{token: t}, true
			}
			if n := q.Get(paramHandshakeNonce); n != "" {
				return handshakeReturn{nonce: n}, true
			}
		}
	}
	switch {
	case ck.handshake != "":
		return handshakeReturn{token: ck.handshake, cookie: paramHandshake}, true
	case ck.handshakeNonce != "":
		return handshakeReturn{nonce: ck.handshakeNonce, cookie: paramHandshakeNonce}, true
	}
	return handshakeReturn{}, false
}

// finishHandshake applies a handshake payload: every cookie directive of the
// verified token, or of the nonce's payload from the Backend API, becomes a
// Set-Cookie, and the browser is sent back (307) to the same URL without
// the handshake parameters, so the next request carries the fresh cookies.
// An invalid payload is not handled (handled is false): the caller drops it
// and carries on with the request's cookies.
func (a *Authenticator) finishHandshake(c echo.Context, ret handshakeReturn) (*Auth, bool, error) {
	ctx := c.Request().Context()
	var directives []string
	var err error
	if ret.token != "" {
		directives, err = a.verifyHandshake(ctx, ret.token)
	} else {
		directives, err = a.resolveNonce(ctx, c.RealIP(), ret.nonce)
	}
	if err != nil {
		return nil, false, nil
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	if ret.cookie != "" {
		c.SetCookie(&http.Cookie{Name: ret.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	}
	for _, d := range directives {
		// The directives are Clerk's literal Set-Cookie values, signed with
		// the instance key or fetched with the secret key; the check only
		// keeps a broken one from splitting the header.
		if d != "" && len(d) <= maxTokenLen && !strings.ContainsAny(d, "\r\n\x00") {
			h.Add(echo.HeaderSetCookie, d)
		}
	}
	r := c.Request()
	back := redirect.Safe(escapedPath(r.URL)+withoutHandshakeParams(r.URL.RawQuery), "/")
	return nil, true, c.Redirect(http.StatusTemporaryRedirect, back)
}

// dropHandshake removes an invalid handshake payload from the request: the
// parameters from the URL, so neither the handlers nor a sign-in redirect_url
// carry them on, or the cookie, which is also expired in the browser. It
// returns the request's cookies without it.
func (a *Authenticator) dropHandshake(c echo.Context, ck cookies, ret handshakeReturn) cookies {
	if ret.cookie != "" {
		c.SetCookie(&http.Cookie{Name: ret.cookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
		if ret.cookie == paramHandshake {
			ck.handshake = ""
		} else {
			ck.handshakeNonce = ""
		}
		return ck
	}
	r := c.Request()
	u := *r.URL
	u.RawQuery = strings.TrimPrefix(withoutHandshakeParams(u.RawQuery), "?")
	r2 := r.Clone(r.Context())
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	c.SetRequest(r2)
	return ck
}

// errNonceAttempts refuses a nonce from a client out of attempts.
var errNonceAttempts = errors.New("auth: too many unknown handshake nonces from this client")

// resolveNonce resolves a nonce within the client's attempts: a client whose
// nonces keep failing stops costing Backend API calls (HandshakeAttempts).
func (a *Authenticator) resolveNonce(ctx context.Context, ip, nonce string) ([]string, error) {
	limit := a.cfg.HandshakeAttempts
	if limit == nil {
		return a.handshakePayload(ctx, nonce)
	}
	if _, blocked, err := limit.Blocked(ctx, ip); err != nil || blocked {
		return nil, errors.Join(errNonceAttempts, err)
	}
	directives, err := a.handshakePayload(ctx, nonce)
	if err != nil {
		if ferr := limit.Failed(ctx, ip); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return directives, err
}

// maxNonceLen bounds a handshake nonce before it is sent anywhere.
const maxNonceLen = 256

// handshakePayload resolves a format=nonce handshake as @clerk/backend does:
// GET /v1/clients/handshake_payload?nonce=… on the Backend API, with the
// secret key, answers {"directives": […]}. clerk-sdk-go v2.4.2 has no call
// for it, so this is a plain request.
func (a *Authenticator) handshakePayload(ctx context.Context, nonce string) ([]string, error) {
	if a.cfg.SecretKey == "" || a.cfg.APIURL == "" {
		return nil, errors.New("auth: a handshake nonce needs the Backend API")
	}
	if len(nonce) > maxNonceLen || strings.ContainsAny(nonce, "\r\n\x00 ") {
		return nil, errMalformed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.APIURL+"/clients/handshake_payload?nonce="+url.QueryEscape(nonce), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+a.cfg.SecretKey)
	req.Header.Set("Clerk-API-Version", clerkAPIVersion)
	res, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: handshake payload: Backend API answered %d", res.StatusCode)
	}
	var payload struct {
		Directives []string `json:"directives"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&payload); err != nil {
		return nil, fmt.Errorf("auth: handshake payload: %w", err)
	}
	if len(payload.Directives) == 0 {
		return nil, errors.New("auth: handshake payload has no cookie directives")
	}
	return payload.Directives, nil
}

// verifyHandshake checks the handshake token's signature with the session
// keys and its time claims when present. It has no session claims, so iss,
// azp, sub and sid are not required.
func (a *Authenticator) verifyHandshake(ctx context.Context, token string) ([]string, error) {
	if !wellFormed(token) {
		return nil, errMalformed
	}
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	var payload struct {
		Handshake []string `json:"handshake"`
	}
	if _, err := a.verifySigned(ctx, token, h, &jwt.VerifyParams{
		IsSatellite:             true, // no iss rule for this token
		CustomClaimsConstructor: func(context.Context) any { return &payload },
	}); err != nil {
		return nil, err
	}
	if len(payload.Handshake) == 0 {
		return nil, errors.New("auth: handshake token has no cookie directives")
	}
	return payload.Handshake, nil
}

// escapedPath is the request path as sent, never decoded.
func escapedPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// withoutHandshakeParams returns "?query" without Clerk's handshake
// parameters, or "" when nothing is left. The other parameters keep their
// original encoding.
func withoutHandshakeParams(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for pair := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		switch k {
		case paramHandshake, paramHandshakeNonce, paramHelp, cookieDevBrowser:
			continue
		}
		kept = append(kept, pair)
	}
	if len(kept) == 0 {
		return ""
	}
	return "?" + strings.Join(kept, "&")
}
