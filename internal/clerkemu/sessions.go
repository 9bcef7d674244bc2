package clerkemu

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session lifetimes, Clerk's defaults: a session expires after 7 days and is
// abandoned after 30 days of inactivity.
const (
	sessionExpiry  = 7 * 24 * time.Hour
	sessionAbandon = 30 * 24 * time.Hour
)

func (e *Emulator) sessionRoutes(h func(string, http.HandlerFunc)) {
	h("GET /sessions", e.handleListSessions)
	h("POST /sessions", e.handleCreateSession)
	h("GET /sessions/{id}", e.handleGetSession)
	h("POST /sessions/{id}/revoke", e.handleRevokeSession)
	h("POST /sessions/{id}/tokens", e.handleSessionToken)
	h("POST /sessions/{id}/tokens/{template}", e.handleSessionToken)
}

// newClient creates a client row. Browser clients get a cookie token;
// Backend API test sessions get a client without one, as on Clerk.
func (e *Emulator) newClient(ctx context.Context, q querier, tokenHash *string) (string, error) {
	id := newID("client")
	_, err := q.Exec(ctx, `INSERT INTO clerkemu.clients (id, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $3)`,
		id, tokenHash, e.nowMS())
	return id, err
}

// defaultOrg is the organization a new session starts in: the one the user
// last had active, if they are still a member, else their first.
func defaultOrg(ctx context.Context, q querier, userID string) (*string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT s.active_org_id FROM clerkemu.sessions s
		JOIN clerkemu.memberships m ON m.org_id = s.active_org_id AND m.user_id = s.user_id
		WHERE s.user_id = $1 ORDER BY s.last_active_at DESC LIMIT 1`, userID).Scan(&id)
	if err == nil {
		return &id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	mems, err := userMemberships(ctx, q, userID)
	if err != nil || len(mems) == 0 {
		return nil, err
	}
	return &mems[0].OrgID, nil
}

// createSession starts an active session for userID on clientID, makes it
// the client's active session and queues session.created.
func (e *Emulator) createSession(ctx context.Context, tx pgx.Tx, clientID, userID string) (*sessionRow, error) {
	u, err := getUser(ctx, tx, userID)
	if err != nil {
		return nil, invalidParam("form_param_value_invalid", "user_id", "user_id is not a user of this instance")
	}
	if u.Banned {
		return nil, invalid("user_banned", "This account is banned.")
	}
	if u.Locked {
		return nil, invalid("user_locked", "This account is locked.")
	}
	org, err := defaultOrg(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	now := e.now()
	ms := now.UnixMilli()
	s := &sessionRow{ID: newID("sess"), ClientID: clientID, UserID: userID, Status: "active", ActiveOrgID: org,
		LastActiveAt: ms, ExpireAt: now.Add(sessionExpiry).UnixMilli(), AbandonAt: now.Add(sessionAbandon).UnixMilli(),
		CreatedAt: ms, UpdatedAt: ms}
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.ClientID, s.UserID, s.Status, s.ActiveOrgID, s.LastActiveAt, s.ExpireAt, s.AbandonAt, s.CreatedAt, s.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE clerkemu.clients SET active_session = $2, updated_at = $3 WHERE id = $1`, clientID, s.ID, ms); err != nil {
		return nil, err
	}
	// Sign-in times change silently, as on Clerk: no user.updated for them.
	if _, err := tx.Exec(ctx, `UPDATE clerkemu.users SET last_sign_in_at = $2, last_active_at = $2 WHERE id = $1`, userID, ms); err != nil {
		return nil, err
	}
	return s, e.emitSession(ctx, tx, "session.created", s)
}

// endSession moves an active session to status (ended, removed, revoked)
// and queues session.<status>. Ending an ended session changes nothing.
func (e *Emulator) endSession(ctx context.Context, tx pgx.Tx, s *sessionRow, status string) (*sessionRow, error) {
	if s.Status != "active" {
		return s, nil
	}
	s.Status, s.UpdatedAt = status, e.nowMS()
	if _, err := tx.Exec(ctx, `UPDATE clerkemu.sessions SET status = $2, updated_at = $3 WHERE id = $1`, s.ID, s.Status, s.UpdatedAt); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE clerkemu.clients SET active_session = NULL, updated_at = $2 WHERE active_session = $1`, s.ID, s.UpdatedAt); err != nil {
		return nil, err
	}
	return s, e.emitSession(ctx, tx, "session."+status, s)
}

func (e *Emulator) endUserSessions(ctx context.Context, tx pgx.Tx, userID, status string) error {
	sessions, err := many[sessionRow](ctx, tx, "SELECT "+sessionCols+" FROM clerkemu.sessions WHERE user_id = $1 AND status = 'active' FOR UPDATE", userID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if _, err := e.endSession(ctx, tx, s, status); err != nil {
			return err
		}
	}
	return nil
}

// handleCreateSession is Clerk's testing-only POST /sessions {user_id},
// with the optional active_organization_id of API version 2026-05-12.
func (e *Emulator) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID               string `json:"user_id"`
		ActiveOrganizationID string `json:"active_organization_id"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if in.UserID == "" {
		e.fail(w, r, invalidParam("form_param_missing", "user_id", "user_id is required"))
		return
	}
	ctx := r.Context()
	var s *sessionRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		clientID, err := e.newClient(ctx, tx, nil)
		if err != nil {
			return err
		}
		if s, err = e.createSession(ctx, tx, clientID, in.UserID); err != nil || in.ActiveOrganizationID == "" {
			return err
		}
		o, err := getOrg(ctx, tx, in.ActiveOrganizationID)
		if err == nil {
			_, err = getMembership(ctx, tx, o.ID, in.UserID)
		}
		if err != nil {
			return invalidParam("form_param_value_invalid", "active_organization_id", "the user is not a member of active_organization_id")
		}
		s.ActiveOrgID = &o.ID
		return e.touchSession(ctx, tx, s, s.ActiveOrgID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSONOf(s))
}

// handleListSessions lists the sessions of a client or a user, newest
// first; paginated=true (what both SDKs send) gives {data,total_count},
// without it Clerk's legacy bare array.
func (e *Emulator) handleListSessions(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "client_id", "user_id", "status", "paginated")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	if v := q.Get("client_id"); v != "" {
		wh.add("client_id = %s", v)
	}
	if v := q.Get("user_id"); v != "" {
		wh.add("user_id = %s", v)
	}
	if len(wh.conds) == 0 {
		e.fail(w, r, invalidParam("form_param_missing", "user_id", "client_id or user_id is required"))
		return
	}
	switch v := q.Get("status"); v {
	case "":
	case "active", "ended", "removed", "revoked", "abandoned", "expired", "replaced":
		wh.add("status = %s", v)
	default:
		e.fail(w, r, unsupportedValue("status", "status "+v+" is not a session status"))
		return
	}
	rows, total, err := fetchPage[sessionRow](r.Context(), e.pool, sessionCols, "clerkemu.sessions", &wh, "created_at DESC, id DESC", pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	data := make([]*sessionJSON, len(rows))
	for i, s := range rows {
		data[i] = sessionJSONOf(s)
	}
	if err := writeList(w, q, data, total); err != nil {
		e.fail(w, r, err)
	}
}

func (e *Emulator) handleGetSession(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
		e.fail(w, r, err)
		return
	}
	s, err := getSession(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSONOf(s))
}

func (e *Emulator) handleRevokeSession(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var s *sessionRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		old, err := one[sessionRow](ctx, tx, "SELECT "+sessionCols+" FROM clerkemu.sessions WHERE id = $1 FOR UPDATE", r.PathValue("id"))
		if err != nil {
			return err
		}
		s, err = e.endSession(ctx, tx, old, "revoked")
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSONOf(s))
}

// handleSessionToken mints a session JWT. organization_id (optional) picks
// another of the user's organizations, "" none; expires_in_seconds
// overrides the lifetime. JWT templates are not emulated.
func (e *Emulator) handleSessionToken(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("template") != "" {
		e.fail(w, r, unsupportedFeature("JWT templates (POST /v1/sessions/{id}/tokens/{template})"))
		return
	}
	// organization_id is the emulator's documented extension: Clerk's
	// endpoint takes only expires_in_seconds.
	var in struct {
		OrganizationID   *string `json:"organization_id"`
		ExpiresInSeconds *int64  `json:"expires_in_seconds"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	req := tokenRequest{orgID: in.OrganizationID}
	if in.ExpiresInSeconds != nil {
		if *in.ExpiresInSeconds < 30 || *in.ExpiresInSeconds > 315360000 {
			e.fail(w, r, invalidParam("form_param_value_invalid", "expires_in_seconds", "expires_in_seconds must be between 30 and 315360000"))
			return
		}
		req.lifetime = time.Duration(*in.ExpiresInSeconds) * time.Second
	}
	ctx := r.Context()
	s, err := getSession(ctx, e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	req.session = s
	jwt, err := e.mintSessionToken(ctx, e.pool, req)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"object": "token", "jwt": jwt})
}
