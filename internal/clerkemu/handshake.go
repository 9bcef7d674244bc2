package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// The development browser and Clerk's handshake, as
// packages/backend/src/tokens/{request,handshake}.ts and
// packages/clerk-js/src/core/auth/devBrowser.ts in clerk/javascript use
// them.
//
// A development instance knows a browser by its development browser token,
// __clerk_db_jwt: ClerkJS creates it with POST /v1/dev_browser, keeps it in
// a cookie on the app's origin and adds it to every Frontend API request;
// @clerk/backend insists on it for pk_test_ keys (handshake reason
// dev-browser-missing) and passes it to the handshake. The emulator hands
// one out with every handshake, tied to the browser's client, so a browser
// that came back from a handshake carries what @clerk/backend expects.

const (
	// devBrowserParam is the development browser's query parameter and
	// cookie name.
	devBrowserParam = "__clerk_db_jwt"
	// handshakeNonceTTL is how long a nonce waits for the app's server to
	// fetch its payload. The browser follows the redirect at once.
	handshakeNonceTTL = 5 * time.Minute
)

// handleDevBrowser is POST /v1/dev_browser: a new client known by the
// returned token (ClerkJS reads it from "id").
func (e *Emulator) handleDevBrowser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var token string
	err := e.tx(ctx, func(tx pgx.Tx) error {
		id, err := e.newClient(ctx, tx, nil)
		if err == nil {
			token, err = e.issueDevBrowser(ctx, tx, id)
		}
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.nowMS()
	writeJSON(w, http.StatusOK, map[string]any{"object": "dev_browser", "id": token, "instance_id": e.kid,
		"created_at": now, "updated_at": now})
}

// issueDevBrowser gives a client a new development browser token; only
// its hash is stored, and it replaces any earlier one.
func (e *Emulator) issueDevBrowser(ctx context.Context, q querier, clientID string) (string, error) {
	token := "dvb_" + randomString(32)
	_, err := q.Exec(ctx, "UPDATE clerkemu.clients SET dev_browser_hash = $2 WHERE id = $1", clientID, hashToken(token))
	return token, err
}

// sessionCookies returns the Set-Cookie strings that sign the app's origin
// in with jwt (or out, when jwt is empty), for both the plain and the
// suffixed cookie names, as clerk-js writes both. __client_uat is the
// client's last change in Unix seconds, 0 when signed out. devBrowser, when
// set, is the development browser token to keep in __clerk_db_jwt.
func (e *Emulator) sessionCookies(jwt string, clientUAT int64, devBrowser string) []string {
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
		} else {
			out = append(out, "__session"+suffix+"="+jwt+year+attrs,
				"__client_uat"+suffix+"="+strconv.FormatInt(clientUAT, 10)+year+attrs)
		}
		if devBrowser != "" {
			out = append(out, devBrowserParam+suffix+"="+devBrowser+year+attrs)
		}
	}
	return out
}

// clientCookies mints a token for the client's active session and returns
// the cookie directives for the app's origin: signed in, or signed out when
// the client has no live session. orgID, when set, activates that
// organization first (Clerk's handshake organization sync).
func (e *Emulator) clientCookies(ctx context.Context, q querier, cl *clientRow, orgID, devBrowser string) ([]string, error) {
	if cl == nil || cl.ActiveSession == nil {
		return e.sessionCookies("", 0, devBrowser), nil
	}
	s, err := getSession(ctx, q, *cl.ActiveSession)
	if err != nil || s.Status != "active" {
		return e.sessionCookies("", 0, devBrowser), nil
	}
	if orgID != "" {
		if o, err := getOrg(ctx, q, orgID); err == nil {
			if _, err := getMembership(ctx, q, o.ID, s.UserID); err == nil && (s.ActiveOrgID == nil || *s.ActiveOrgID != o.ID) {
				if err := e.touchSession(ctx, q, s, &o.ID); err != nil {
					return nil, err
				}
				s.ActiveOrgID = &o.ID
			}
		}
	}
	jwt, err := e.mintSessionToken(ctx, q, tokenRequest{session: s})
	if err != nil {
		return nil, err
	}
	return e.sessionCookies(jwt, cl.UpdatedAt/1000, devBrowser), nil
}

// handleHandshake is Clerk's GET /v1/client/handshake as a development
// instance answers it: find the browser's client (by its cookie or its
// __clerk_db_jwt), compute the cookie directives for the app's origin and
// send the browser back to redirect_url with them.
//
//   - format=token (the default): a __clerk_handshake JWT, signed with the
//     instance key, whose "handshake" claim lists literal Set-Cookie strings.
//   - format=nonce (what @clerk/backend sends): a one-time
//     __clerk_handshake_nonce; the app's server fetches the directives with
//     GET /v1/clients/handshake_payload?nonce=… on the Backend API.
//
// The directives always include the development browser, so the next
// request carries the __clerk_db_jwt @clerk/backend requires.
func (e *Emulator) handleHandshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target, ok := e.safeRedirect(q.Get("redirect_url"))
	if !ok {
		writeAPIError(w, http.StatusBadRequest, apiError{Code: "form_param_value_invalid", Message: "redirect_url must be a URL on " + e.origin,
			Meta: map[string]any{"param_name": "redirect_url"}})
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "token"
	}
	if format != "token" && format != "nonce" {
		writeAPIError(w, http.StatusBadRequest, apiError{Code: "form_param_value_invalid", Message: "format must be token or nonce",
			Meta: map[string]any{"param_name": "format"}})
		return
	}
	ctx := r.Context()
	var cookies []string
	err := e.tx(ctx, func(tx pgx.Tx) error {
		cl, err := e.ensureClient(ctx, tx, w, r)
		if err != nil {
			return err
		}
		// Keep the token the browser sent when it names this client;
		// otherwise (none, unknown, or another client's) issue a new one.
		devBrowser := q.Get(devBrowserParam)
		var owner string
		if devBrowser != "" {
			err := tx.QueryRow(ctx, "SELECT id FROM clerkemu.clients WHERE dev_browser_hash = $1", hashToken(devBrowser)).Scan(&owner)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if owner != cl.ID {
			if devBrowser, err = e.issueDevBrowser(ctx, tx, cl.ID); err != nil {
				return err
			}
		}
		// Reload the client: ensureClient may have created it without
		// its updated_at.
		if cl, err = one[clientRow](ctx, tx, "SELECT id, active_session, updated_at FROM clerkemu.clients WHERE id = $1", cl.ID); err != nil {
			return err
		}
		cookies, err = e.clientCookies(ctx, tx, cl, q.Get("organization_id"), devBrowser)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	param, value := "__clerk_handshake", ""
	if format == "nonce" {
		param = "__clerk_handshake_nonce"
		value, err = e.storeHandshakeNonce(ctx, cookies)
	} else {
		now := e.now().Unix()
		// Clerk mints handshake tokens with the session-token category;
		// @clerk/backend refuses any other.
		value, err = e.sign(map[string]any{"handshake": cookies, "iss": e.issuer, "iat": now, "nbf": now - 10, "exp": now + 60}, catSession)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	u, _ := url.Parse(target)
	query := u.Query()
	query.Set(param, value)
	u.RawQuery = query.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}

// storeHandshakeNonce keeps directives under a new one-time nonce and
// drops expired ones.
func (e *Emulator) storeHandshakeNonce(ctx context.Context, directives []string) (string, error) {
	nonce := randomString(40)
	raw, err := json.Marshal(directives)
	if err != nil {
		return "", err
	}
	now := e.nowMS()
	if _, err := e.pool.Exec(ctx, `DELETE FROM clerkemu.handshake_nonces WHERE expires_at < $1`, now); err != nil {
		return "", err
	}
	_, err = e.pool.Exec(ctx, `INSERT INTO clerkemu.handshake_nonces (nonce_hash, directives, expires_at) VALUES ($1, $2, $3)`,
		hashToken(nonce), raw, now+handshakeNonceTTL.Milliseconds())
	return nonce, err
}

// takeHandshakeNonce returns a nonce's directives once.
func (e *Emulator) takeHandshakeNonce(ctx context.Context, nonce string) ([]string, error) {
	var raw []byte
	err := e.pool.QueryRow(ctx, `DELETE FROM clerkemu.handshake_nonces WHERE nonce_hash = $1 AND expires_at >= $2 RETURNING directives`,
		hashToken(nonce), e.nowMS()).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	var out []string
	return out, json.Unmarshal(raw, &out)
}
