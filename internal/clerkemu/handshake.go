package clerkemu

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// sessionCookies returns the Set-Cookie strings that sign the app's origin
// in with jwt (or out, when jwt is empty), for both the plain and the
// suffixed cookie names, as clerk-js writes both. __client_uat is the
// client's last change in Unix seconds, 0 when signed out.
func (e *Emulator) sessionCookies(jwt string, clientUAT int64) []string {
	attrs := "; Path=/; SameSite=Lax"
	if e.cfg.BaseURL.Scheme == "https" {
		attrs += "; Secure"
	}
	const year = "; Max-Age=31536000"
	const gone = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	var out []string
	for _, suffix := range []string{"", "_" + e.CookieSuffix()} {
		if jwt == "" {
			out = append(out, "__session"+suffix+"="+gone+attrs, "__client_uat"+suffix+"=0"+year+attrs)
			continue
		}
		out = append(out, "__session"+suffix+"="+jwt+year+attrs,
			"__client_uat"+suffix+"="+strconv.FormatInt(clientUAT, 10)+year+attrs)
	}
	return out
}

// clientCookies mints a token for the client's active session and returns
// the cookie directives for the app's origin: signed in, or signed out when
// the client has no live session. orgID, when set, activates that
// organization first (Clerk's handshake organization sync).
func (e *Emulator) clientCookies(ctx context.Context, cl *clientRow, orgID string) ([]string, error) {
	if cl == nil || cl.ActiveSession == nil {
		return e.sessionCookies("", 0), nil
	}
	s, err := getSession(ctx, e.pool, *cl.ActiveSession)
	if err != nil || s.Status != "active" {
		return e.sessionCookies("", 0), nil
	}
	if orgID != "" {
		if o, err := getOrg(ctx, e.pool, orgID); err == nil {
			if _, err := getMembership(ctx, e.pool, o.ID, s.UserID); err == nil && (s.ActiveOrgID == nil || *s.ActiveOrgID != o.ID) {
				if err := e.touchSession(ctx, e.pool, s, &o.ID); err != nil {
					return nil, err
				}
				s.ActiveOrgID = &o.ID
			}
		}
	}
	jwt, err := e.mintSessionToken(ctx, e.pool, tokenRequest{session: s})
	if err != nil {
		return nil, err
	}
	return e.sessionCookies(jwt, cl.UpdatedAt/1000), nil
}

// handleHandshake is Clerk's GET /v1/client/handshake as a development
// instance answers it (clerk.md §2.4): read the client, mint a
// __clerk_handshake JWT whose "handshake" claim lists literal Set-Cookie
// strings, and 307 back to redirect_url with it as a query parameter.
func (e *Emulator) handleHandshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target, ok := e.safeRedirect(q.Get("redirect_url"))
	if !ok {
		writeError(w, http.StatusBadRequest, "form_param_value_invalid", "redirect_url must be a URL on "+e.origin)
		return
	}
	if f := q.Get("format"); f != "" && f != "token" {
		writeError(w, http.StatusBadRequest, "form_param_value_invalid", fmt.Sprintf("format %q is not supported by the emulator; use format=token", f))
		return
	}
	ctx := r.Context()
	cl, err := e.currentClient(ctx, e.pool, r)
	var cookies []string
	if err == nil {
		cookies, err = e.clientCookies(ctx, cl, q.Get("organization_id"))
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.now().Unix()
	hs, err := e.sign(map[string]any{"handshake": cookies, "iss": e.issuer, "iat": now, "nbf": now - 10, "exp": now + 60}, "")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	u, _ := url.Parse(target)
	query := u.Query()
	query.Set("__clerk_handshake", hs)
	u.RawQuery = query.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}
