package clerkemu

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// errSignedOut answers a Frontend API call that needs a signed-in browser.
var errSignedOut = &clientError{status: http.StatusUnauthorized, code: "signed_out", msg: "You are signed out."}

// clientCookie identifies the browser's client. It plays the part of
// Clerk's __client cookie: HttpOnly and scoped to the Frontend API path, so
// neither page scripts nor the app's own routes ever see it.
const clientCookie = "__clerk_emu_client"

// frontendRoutes are the Frontend API's routes: what ClerkJS and @clerk/ui
// call, the pinned bundles themselves, the handshake and the development
// browser. Writes must come from the app's origin (sameOrigin).
func (e *Emulator) frontendRoutes(mux *http.ServeMux) {
	p := MountPath
	mux.Handle("GET "+p+"/npm/", http.StripPrefix(p, e.bundles))
	get := func(path string, h http.HandlerFunc) { mux.HandleFunc("GET "+p+path, h) }
	write := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+p+path, e.sameOrigin(h))
	}
	get("/v1/environment", e.handleEnvironment)
	write("PATCH /v1/environment", e.handleEnvironment)
	get("/v1/client", e.handleFrontendClient)
	write("PUT /v1/client", e.handleCreateClient)
	write("DELETE /v1/client", e.handleDestroyClient)
	get("/v1/client/handshake", e.handleHandshake)
	write("POST /v1/dev_browser", e.handleDevBrowser)

	write("POST /v1/client/sign_ins", e.handleCreateSignIn)
	get("/v1/client/sign_ins/{id}", e.handleGetSignIn)
	write("POST /v1/client/sign_ins/{id}/attempt_first_factor", e.handleAttemptFirstFactor)
	write("POST /v1/client/sign_ups", e.handleCreateSignUp)
	get("/v1/client/sign_ups/{id}", e.handleGetSignUp)
	write("PATCH /v1/client/sign_ups/{id}", e.handleUpdateSignUp)
	write("POST /v1/client/sign_ups/{id}/prepare_verification", e.handleSignUpVerification)
	write("POST /v1/client/sign_ups/{id}/attempt_verification", e.handleSignUpVerification)

	write("DELETE /v1/client/sessions", e.handleRemoveSessions)
	get("/v1/client/sessions/{sid}", e.handleGetClientSession)
	write("POST /v1/client/sessions/{sid}/touch", e.handleTouch)
	write("POST /v1/client/sessions/{sid}/tokens", e.handleClientToken)
	write("POST /v1/client/sessions/{sid}/tokens/{template}", e.handleClientToken)
	write("POST /v1/client/sessions/{sid}/end", e.handleEndSession("ended"))
	write("POST /v1/client/sessions/{sid}/remove", e.handleEndSession("removed"))

	e.meRoutes(get, write)
	e.orgFrontendRoutes(get, write)

	get("/accept-invitation", e.handleInvitationPage)
	write("POST /accept-invitation", e.handleAcceptInvitation)
}

// sameOrigin refuses cross-origin writes. The client cookie is SameSite=Lax,
// but other ports on localhost are same-site, so Lax alone would let them
// sign a browser in or out.
func (e *Emulator) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		site := r.Header.Get("Sec-Fetch-Site")
		if (origin != "" && origin != e.origin) || (origin == "" && site != "" && site != "same-origin" && site != "none") {
			writeError(w, http.StatusForbidden, "origin_invalid", "cross-origin requests are not allowed")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CookieSuffix is Clerk's cookie-name suffix for this instance:
// base64url(sha1(publishable key))[:8].
func (e *Emulator) CookieSuffix() string {
	sum := sha1.Sum([]byte(e.PublishableKey()))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:8]
}

type clientRow struct {
	ID            string  `db:"id"`
	ActiveSession *string `db:"active_session"`
	UpdatedAt     int64   `db:"updated_at"`
}

// currentClient returns the browser's client, or nil when it has none. A
// browser is known by the emulator's client cookie (Clerk's __client) or,
// as on Clerk's development instances, by its development browser token in
// the __clerk_db_jwt query parameter. The cookie wins when both name a
// client: it is the browser's own, while a query parameter can be put in a
// link by anyone.
func (e *Emulator) currentClient(ctx context.Context, q querier, r *http.Request) (*clientRow, error) {
	if c, err := r.Cookie(clientCookie); err == nil && c.Value != "" {
		cl, err := one[clientRow](ctx, q, "SELECT id, active_session, updated_at FROM clerkemu.clients WHERE token_hash = $1", hashToken(c.Value))
		if !errors.Is(err, errNotFound) {
			return cl, err
		}
	}
	if db := r.URL.Query().Get(devBrowserParam); db != "" {
		cl, err := one[clientRow](ctx, q, "SELECT id, active_session, updated_at FROM clerkemu.clients WHERE dev_browser_hash = $1", hashToken(db))
		if !errors.Is(err, errNotFound) {
			return cl, err
		}
	}
	return nil, nil
}

// ensureClient returns the browser's client, creating it (and its cookie)
// on first contact.
func (e *Emulator) ensureClient(ctx context.Context, tx pgx.Tx, w http.ResponseWriter, r *http.Request) (*clientRow, error) {
	cl, err := e.currentClient(ctx, tx, r)
	if err != nil || cl != nil {
		return cl, err
	}
	token := randomString(40)
	id, err := e.newClient(ctx, tx, strp(hashToken(token)))
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: clientCookie, Value: token, Path: MountPath, HttpOnly: true,
		Secure: e.cfg.BaseURL.Scheme == "https", SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	return &clientRow{ID: id}, nil
}

// clientSession loads the session named in the path if it belongs to the
// calling browser and is active. One of the browser's sessions that has
// ended (signed out elsewhere, revoked through the Backend API) answers 401:
// ClerkJS then reloads its client and signs the tab out, as it does with
// Clerk. A session of another browser is not found.
func (e *Emulator) clientSession(ctx context.Context, q querier, r *http.Request) (*clientRow, *sessionRow, error) {
	cl, err := e.currentClient(ctx, q, r)
	if err != nil {
		return nil, nil, err
	}
	if cl == nil {
		return nil, nil, errSignedOut
	}
	s, err := getSession(ctx, q, r.PathValue("sid"))
	switch {
	case errors.Is(err, errNotFound) || (err == nil && s.ClientID != cl.ID):
		return nil, nil, &clientError{status: http.StatusNotFound, code: "session_not_found", msg: "Session not found"}
	case err != nil:
		return nil, nil, err
	case s.Status != "active":
		return nil, nil, errSignedOut
	}
	return cl, s, nil
}

// formOrJSON reads a body as ClerkJS sends it (form-encoded) or as JSON.
func formOrJSON(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, invalid("request_body_invalid", "the request body is not valid JSON")
			}
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, invalid("request_body_invalid", "the request body could not be parsed")
	}
	for k := range r.PostForm {
		out[k] = r.PostForm.Get(k)
	}
	return out, nil
}

// safeRedirect resolves target against the app origin and accepts it only
// if it stays there, so the emulator can never be used as an open redirect.
func (e *Emulator) safeRedirect(target string) (string, bool) {
	if target == "" || strings.ContainsAny(target, "\\\r\n\t") {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
			return "", false
		}
		return e.origin + u.String(), true
	}
	if u.Scheme != e.cfg.BaseURL.Scheme || u.Host != e.cfg.BaseURL.Host || u.User != nil {
		return "", false
	}
	return u.String(), true
}
