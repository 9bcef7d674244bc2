package clerkemu

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// The Frontend API's environment, client and sessions, as ClerkJS 6 loads
// and drives them (packages/clerk-js/src/core/clerk.ts and resources/ in
// clerk/javascript). Every mutation answers Clerk's envelope
// {"response": …, "client": …}: ClerkJS takes the client from every
// answer ("piggybacking").

//go:embed environment.json
var environmentJSON []byte

// handleEnvironment is GET /v1/environment, and PATCH (which ClerkJS sends
// on development instances, tunnelled as POST ?_method=PATCH): the instance's
// settings. The emulator's instance signs in with an email address and a
// password, has organizations, and needs no captcha.
func (e *Emulator) handleEnvironment(w http.ResponseWriter, r *http.Request) {
	var env map[string]any
	if err := json.Unmarshal(environmentJSON, &env); err != nil {
		e.fail(w, r, err)
		return
	}
	env["id"] = "env_" + e.kid
	display := env["display_config"].(map[string]any)
	display["application_name"] = e.cfg.ApplicationName
	display["home_url"] = e.origin
	display["sign_in_url"] = e.origin + e.cfg.SignInPath
	display["sign_up_url"] = e.origin + e.cfg.SignUpPath
	for _, k := range []string{"after_sign_in_url", "after_sign_up_url", "after_sign_out_one_url", "after_sign_out_all_url",
		"after_switch_session_url", "after_create_organization_url", "after_leave_organization_url"} {
		display[k] = e.origin + "/"
	}
	writeJSON(w, http.StatusOK, env)
}

// respondClient answers Clerk's envelope with the browser's client, and
// sets __client_uat on the app's origin as Clerk's Frontend API does when
// it shares the app's site (production instances, and the proxy setup):
// the client's last change in Unix seconds while signed in, 0 when signed
// out. The app's middleware compares it with the session token's iat.
func (e *Emulator) respondClient(w http.ResponseWriter, r *http.Request, clientID string, response any) {
	c, err := e.clientFAPI(r.Context(), e.pool, clientID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var uat int64
	if len(c.Sessions) > 0 {
		uat = c.UpdatedAt / 1000
	}
	for _, ck := range e.clientUATCookies(uat) {
		w.Header().Add("Set-Cookie", ck)
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": response, "client": c})
}

// clientUATCookies are the Set-Cookie values of __client_uat and its
// suffixed twin.
func (e *Emulator) clientUATCookies(uat int64) []string {
	attrs := "; Path=/; Max-Age=31536000; SameSite=Lax"
	if e.cfg.BaseURL.Scheme == "https" {
		attrs += "; Secure"
	}
	v := strconv.FormatInt(uat, 10)
	return []string{"__client_uat=" + v + attrs, "__client_uat_" + e.CookieSuffix() + "=" + v + attrs}
}

// handleFrontendClient is GET /v1/client: the browser's client, or null
// for a browser the emulator has not met.
func (e *Emulator) handleFrontendClient(w http.ResponseWriter, r *http.Request) {
	cl, err := e.currentClient(r.Context(), e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if cl == nil {
		writeJSON(w, http.StatusOK, map[string]any{"response": nil, "client": nil})
		return
	}
	c, err := e.clientFAPI(r.Context(), e.pool, cl.ID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": c, "client": c})
}

// handleCreateClient is PUT /v1/client (Client.create).
func (e *Emulator) handleCreateClient(w http.ResponseWriter, r *http.Request) {
	var cl *clientRow
	err := e.tx(r.Context(), func(tx pgx.Tx) error {
		var err error
		cl, err = e.ensureClient(r.Context(), tx, w, r)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClientItself(w, r, cl.ID)
}

// respondClientItself answers with the client as both response and client.
func (e *Emulator) respondClientItself(w http.ResponseWriter, r *http.Request, clientID string) {
	c, err := e.clientFAPI(r.Context(), e.pool, clientID)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, clientID, c)
}

// handleRemoveSessions is DELETE /v1/client/sessions, what Clerk.signOut()
// sends: every session of the browser ends (status removed, announced by a
// session.removed webhook) and the client stays, signed out.
// handleDestroyClient (DELETE /v1/client) does the same and also forgets
// the sign-in and sign-up in progress.
func (e *Emulator) handleRemoveSessions(w http.ResponseWriter, r *http.Request) {
	e.signOutClient(w, r, false)
}

func (e *Emulator) handleDestroyClient(w http.ResponseWriter, r *http.Request) {
	e.signOutClient(w, r, true)
}

func (e *Emulator) signOutClient(w http.ResponseWriter, r *http.Request, destroy bool) {
	ctx := r.Context()
	var cl *clientRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, err = e.currentClient(ctx, tx, r); err != nil || cl == nil {
			return err
		}
		sessions, err := many[sessionRow](ctx, tx, "SELECT "+sessionCols+
			" FROM clerkemu.sessions WHERE client_id = $1 AND status = 'active' FOR UPDATE", cl.ID)
		if err != nil {
			return err
		}
		for _, s := range sessions {
			if _, err := e.endSession(ctx, tx, s, "removed"); err != nil {
				return err
			}
		}
		if destroy {
			if _, err := tx.Exec(ctx, "UPDATE clerkemu.clients SET sign_in_id = NULL, sign_up_id = NULL WHERE id = $1", cl.ID); err != nil {
				return err
			}
		}
		return e.touchClient(ctx, tx, cl.ID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if cl == nil {
		for _, ck := range e.clientUATCookies(0) {
			w.Header().Add("Set-Cookie", ck)
		}
		writeJSON(w, http.StatusOK, map[string]any{"response": nil, "client": nil})
		return
	}
	e.respondClientItself(w, r, cl.ID)
}

// handleGetClientSession is GET /v1/client/sessions/{sid}.
func (e *Emulator) handleGetClientSession(w http.ResponseWriter, r *http.Request) {
	cl, s, err := e.clientSession(r.Context(), e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondSession(w, r, cl.ID, s.ID)
}

func (e *Emulator) respondSession(w http.ResponseWriter, r *http.Request, clientID, sessionID string) {
	s, err := getSession(r.Context(), e.pool, sessionID)
	var sj *sessionFAPIJSON
	if err == nil {
		sj, err = e.sessionFAPI(r.Context(), e.pool, s)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, clientID, sj)
}

// handleTouch is POST /v1/client/sessions/{sid}/touch, what setActive and
// a focused tab send: it records activity and, when active_organization_id
// names another of the user's organizations ("" is the personal account),
// switches to it. A switch changes the client, so __client_uat moves on and
// tokens minted before it are stale.
func (e *Emulator) handleTouch(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "active_organization_id", "intent")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var s *sessionRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, s, err = e.clientSession(ctx, tx, r); err != nil {
			return err
		}
		org, ok := in["active_organization_id"]
		if !ok {
			return e.touchSession(ctx, tx, s, s.ActiveOrgID)
		}
		var orgID *string
		if org != "" {
			o, err := getOrg(ctx, tx, org)
			if err == nil {
				_, err = getMembership(ctx, tx, o.ID, s.UserID)
			}
			if err != nil {
				return errNotMember
			}
			orgID = &o.ID
		}
		changed := (orgID == nil) != (s.ActiveOrgID == nil) || (orgID != nil && *orgID != *s.ActiveOrgID)
		if err := e.touchSession(ctx, tx, s, orgID); err != nil || !changed {
			return err
		}
		return e.touchClient(ctx, tx, cl.ID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondSession(w, r, cl.ID, s.ID)
}

func (e *Emulator) touchSession(ctx context.Context, q querier, s *sessionRow, orgID *string) error {
	s.ActiveOrgID, s.LastActiveAt = orgID, e.nowMS()
	_, err := q.Exec(ctx, "UPDATE clerkemu.sessions SET active_org_id = $2, last_active_at = $3, updated_at = $3 WHERE id = $1",
		s.ID, orgID, s.LastActiveAt)
	return err
}

// handleClientToken is POST /v1/client/sessions/{sid}/tokens, what
// session.getToken() calls: a fresh session token, bare {"object":"token",
// "jwt"}. organization_id asks for another of the user's organizations
// without switching ("" is the personal account).
func (e *Emulator) handleClientToken(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("template") != "" {
		e.fail(w, r, unsupportedFeature("JWT templates"))
		return
	}
	in, err := fapiForm(r, "organization_id", "tab_state", "token", "force_origin")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	_, s, err := e.clientSession(ctx, e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	req := tokenRequest{session: s}
	if org, ok := in["organization_id"]; ok {
		req.orgID = &org
	}
	jwt, err := e.mintSessionToken(ctx, e.pool, req)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenJSON{Object: "token", JWT: jwt})
}

// handleEndSession is POST /v1/client/sessions/{sid}/end (status ended)
// and …/remove (status removed, what signing out of one session sends).
func (e *Emulator) handleEndSession(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := fapiForm(r); err != nil {
			e.fail(w, r, err)
			return
		}
		ctx := r.Context()
		var cl *clientRow
		var s *sessionRow
		err := e.tx(ctx, func(tx pgx.Tx) error {
			var err error
			if cl, s, err = e.clientSession(ctx, tx, r); err != nil {
				return err
			}
			if _, err := e.endSession(ctx, tx, s, status); err != nil {
				return err
			}
			return e.touchClient(ctx, tx, cl.ID)
		})
		if err != nil {
			e.fail(w, r, err)
			return
		}
		e.respondSession(w, r, cl.ID, s.ID)
	}
}

// signInClient replaces the client's active session (single-session mode,
// Clerk's default) with a new one for userID.
func (e *Emulator) signInClient(ctx context.Context, tx pgx.Tx, cl *clientRow, userID string) (*sessionRow, error) {
	if cl.ActiveSession != nil {
		if old, err := getSession(ctx, tx, *cl.ActiveSession); err == nil {
			if _, err := e.endSession(ctx, tx, old, "ended"); err != nil {
				return nil, err
			}
		}
	}
	s, err := e.createSession(ctx, tx, cl.ID, userID)
	if err != nil {
		return nil, err
	}
	cl.ActiveSession = &s.ID
	return s, e.touchClient(ctx, tx, cl.ID)
}

// fapiForm reads a Frontend API request body (ClerkJS sends forms) and
// refuses a field the handler does not take, as Clerk answers
// form_param_unknown: a field the emulator silently dropped would make the
// caller believe it took effect.
func fapiForm(r *http.Request, allowed ...string) (map[string]string, error) {
	in, err := formOrJSON(r)
	if err != nil {
		return nil, err
	}
next:
	for k := range in {
		for _, a := range allowed {
			if k == a {
				continue next
			}
		}
		return nil, unsupportedParam(k)
	}
	return in, nil
}

// touchClient bumps the client's updated_at, which becomes __client_uat:
// tokens issued before a sign-in, sign-out or org switch are then stale.
func (e *Emulator) touchClient(ctx context.Context, q querier, id string) error {
	_, err := q.Exec(ctx, "UPDATE clerkemu.clients SET updated_at = $2 WHERE id = $1", id, e.nowMS())
	return err
}
