package clerkemu

import (
	"net/http"
)

// The Backend API's clients: a client is one browser (or one Backend API
// test session, which gets a client of its own, as on Clerk).

func (e *Emulator) clientRoutes(h func(string, http.HandlerFunc)) {
	h("GET /clients", e.handleListClients)
	h("GET /clients/handshake_payload", e.handleHandshakePayload)
	h("GET /clients/{id}", e.handleGetClient)
	h("GET /email_addresses/{id}", e.handleGetEmailAddress)
}

type clientJSON struct {
	Object                     string         `json:"object"`
	ID                         string         `json:"id"`
	SessionIDs                 []string       `json:"session_ids"`
	Sessions                   []*sessionJSON `json:"sessions"`
	SignInID                   *string        `json:"sign_in_id"`
	SignUpID                   *string        `json:"sign_up_id"`
	LastActiveSessionID        *string        `json:"last_active_session_id"`
	LastAuthenticationStrategy *string        `json:"last_authentication_strategy"`
	UpdatedAt                  int64          `json:"updated_at"`
	CreatedAt                  int64          `json:"created_at"`
}

type clientBAPIRow struct {
	ID            string  `db:"id"`
	ActiveSession *string `db:"active_session"`
	CreatedAt     int64   `db:"created_at"`
	UpdatedAt     int64   `db:"updated_at"`
}

const clientBAPICols = `id, active_session, created_at, updated_at`

// clientJSONOf lists the client's active sessions, as Clerk's Client does.
func (e *Emulator) clientJSONOf(r *http.Request, c *clientBAPIRow) (*clientJSON, error) {
	sessions, err := many[sessionRow](r.Context(), e.pool, "SELECT "+sessionCols+
		" FROM clerkemu.sessions WHERE client_id = $1 AND status = 'active' ORDER BY created_at, id", c.ID)
	if err != nil {
		return nil, err
	}
	out := &clientJSON{Object: "client", ID: c.ID, SessionIDs: []string{}, Sessions: []*sessionJSON{},
		LastActiveSessionID: c.ActiveSession, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	for _, s := range sessions {
		out.SessionIDs = append(out.SessionIDs, s.ID)
		out.Sessions = append(out.Sessions, sessionJSONOf(s))
	}
	return out, nil
}

func (e *Emulator) handleGetClient(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
		e.fail(w, r, err)
		return
	}
	c, err := one[clientBAPIRow](r.Context(), e.pool, "SELECT "+clientBAPICols+" FROM clerkemu.clients WHERE id = $1", r.PathValue("id"))
	var out *clientJSON
	if err == nil {
		out, err = e.clientJSONOf(r, c)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleListClients is Clerk's deprecated GET /clients, newest first.
func (e *Emulator) handleListClients(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "paginated")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	rows, total, err := fetchPage[clientBAPIRow](r.Context(), e.pool, clientBAPICols, "clerkemu.clients", &where{}, "created_at DESC, id DESC", pg)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	data := make([]*clientJSON, len(rows))
	for i, c := range rows {
		if data[i], err = e.clientJSONOf(r, c); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	if err := writeList(w, q, data, total); err != nil {
		e.fail(w, r, err)
	}
}

// handleHandshakePayload is GET /v1/clients/handshake_payload?nonce=…,
// what @clerk/backend calls to resolve a format=nonce handshake. A nonce is
// good once and for a few minutes.
func (e *Emulator) handleHandshakePayload(w http.ResponseWriter, r *http.Request) {
	q, err := checkQuery(r, "nonce")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if q.Get("nonce") == "" {
		e.fail(w, r, invalidParam("form_param_missing", "nonce", "nonce is required"))
		return
	}
	directives, err := e.takeHandshakeNonce(r.Context(), q.Get("nonce"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"directives": directives})
}

// handleGetEmailAddress is GET /v1/email_addresses/{id}. Emulator users have
// exactly one, verified email address; adding, changing or deleting email
// addresses is not supported.
func (e *Emulator) handleGetEmailAddress(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
		e.fail(w, r, err)
		return
	}
	u, err := one[userRow](r.Context(), e.pool, "SELECT "+userCols+" FROM clerkemu.users WHERE email_id = $1", r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.emailJSON(u))
}
