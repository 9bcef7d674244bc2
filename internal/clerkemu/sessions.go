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
	if _, err := getUser(ctx, tx, userID); err != nil {
		return nil, invalid("form_param_value_invalid", "user_id is not a user of this instance")
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

// handleCreateSession is Clerk's testing-only POST /sessions {user_id}.
func (e *Emulator) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if in.UserID == "" {
		e.fail(w, r, invalid("form_param_missing", "user_id is required"))
		return
	}
	ctx := r.Context()
	var s *sessionRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		clientID, err := e.newClient(ctx, tx, nil)
		if err != nil {
			return err
		}
		s, err = e.createSession(ctx, tx, clientID, in.UserID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSON(s))
}

func (e *Emulator) handleGetSession(w http.ResponseWriter, r *http.Request) {
	s, err := getSession(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSON(s))
}

func (e *Emulator) handleRevokeSession(w http.ResponseWriter, r *http.Request) {
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
	writeJSON(w, http.StatusOK, sessionJSON(s))
}

// handleSessionToken mints a session JWT. organization_id (optional) picks
// another of the user's organizations, "" none; expires_in_seconds
// overrides the lifetime. JWT templates are not emulated.
func (e *Emulator) handleSessionToken(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("template") != "" {
		writeError(w, http.StatusNotFound, "resource_not_found", "JWT templates are not supported by the emulator")
		return
	}
	var in struct {
		OrganizationID   *string `json:"organization_id"`
		ExpiresInSeconds *int64  `json:"expires_in_seconds"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	req := tokenRequest{orgID: in.OrganizationID}
	if in.ExpiresInSeconds != nil {
		if *in.ExpiresInSeconds < 30 || *in.ExpiresInSeconds > 315360000 {
			e.fail(w, r, invalid("form_param_value_invalid", "expires_in_seconds must be between 30 and 315360000"))
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
