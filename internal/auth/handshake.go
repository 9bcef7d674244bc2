package auth

import (
	"context"
	"errors"
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
	if ck.devBrowser != "" {
		// Development instances identify the browser by this token, not by
		// a cookie on the Frontend API's domain.
		loc += "&" + cookieDevBrowser + "=" + url.QueryEscape(ck.devBrowser)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.SetCookie(&http.Cookie{
		Name: cookieRedirectCount, Value: strconv.Itoa(n + 1), Path: "/",
		MaxAge: 3, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil, true, c.Redirect(http.StatusTemporaryRedirect, loc)
}

// handshakeToken finds the handshake payload: a query parameter on
// development instances and the emulator, a cookie in production.
func handshakeToken(c echo.Context, ck cookies) (token string, fromCookie bool) {
	if raw := c.Request().URL.RawQuery; strings.Contains(raw, paramHandshake) {
		if q, err := url.ParseQuery(raw); err == nil {
			if t := q.Get(paramHandshake); t != "" {
				return t, false
			}
		}
	}
	return ck.handshake, ck.handshake != ""
}

// finishHandshake applies a handshake payload: every cookie directive of the
// verified token becomes a Set-Cookie, and the browser is sent back (307) to
// the same URL without the handshake parameters, so the next request carries
// the fresh cookies. An invalid payload is not handled (handled is false):
// the caller drops it and carries on with the request's cookies.
func (a *Authenticator) finishHandshake(c echo.Context, token string, fromCookie bool) (*Auth, bool, error) {
	directives, err := a.verifyHandshake(c.Request().Context(), token)
	if err != nil {
		return nil, false, nil
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-store")
	if fromCookie {
		c.SetCookie(&http.Cookie{Name: paramHandshake, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	}
	for _, d := range directives {
		// The directives are Clerk's literal Set-Cookie values, signed with
		// the instance key; the check only keeps a broken one from
		// splitting the header.
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
func (a *Authenticator) dropHandshake(c echo.Context, ck cookies, fromCookie bool) cookies {
	if fromCookie {
		c.SetCookie(&http.Cookie{Name: paramHandshake, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
		ck.handshake = ""
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
