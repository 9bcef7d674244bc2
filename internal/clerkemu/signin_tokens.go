package clerkemu

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sign-in tokens and testing tokens, the Backend API's two ways of letting
// a script or a test into the Frontend API.

func (e *Emulator) tokenRoutes(h func(string, http.HandlerFunc)) {
	h("POST /sign_in_tokens", e.handleCreateSignInToken)
	h("POST /sign_in_tokens/{id}/revoke", e.handleRevokeSignInToken)
	h("POST /testing_tokens", e.handleCreateTestingToken)
}

// defaultSignInTokenLife is Clerk's: 30 days.
const defaultSignInTokenLife = 30 * 24 * time.Hour

type signInTokenRow struct {
	ID        string  `db:"id"`
	UserID    string  `db:"user_id"`
	OrgID     *string `db:"org_id"`
	Status    string  `db:"status"`
	ExpiresAt int64   `db:"expires_at"`
	CreatedAt int64   `db:"created_at"`
	UpdatedAt int64   `db:"updated_at"`
}

const signInTokenCols = `id, user_id, org_id, status, expires_at, created_at, updated_at`

type signInTokenJSON struct {
	Object    string `json:"object"`
	ID        string `json:"id"`
	Status    string `json:"status"`
	UserID    string `json:"user_id"`
	Token     string `json:"token,omitempty"`
	URL       string `json:"url,omitempty"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

// handleCreateSignInToken issues a one-time ticket. Its url is the app's
// sign-in page with Clerk's __clerk_ticket; the Frontend API's sign-in
// accepts it as strategy=ticket.
func (e *Emulator) handleCreateSignInToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID           string `json:"user_id"`
		ExpiresInSeconds *int64 `json:"expires_in_seconds"`
		OrgID            string `json:"org_id"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	life := defaultSignInTokenLife
	if in.ExpiresInSeconds != nil {
		if *in.ExpiresInSeconds < 1 || *in.ExpiresInSeconds > 315360000 {
			e.fail(w, r, invalidParam("form_param_value_invalid", "expires_in_seconds", "expires_in_seconds must be between 1 and 315360000"))
			return
		}
		life = time.Duration(*in.ExpiresInSeconds) * time.Second
	}
	ctx := r.Context()
	token := randomString(48)
	now := e.now()
	t := &signInTokenRow{ID: newID("sit"), UserID: in.UserID, Status: "pending",
		ExpiresAt: now.Add(life).UnixMilli(), CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	err := e.tx(ctx, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, in.UserID); err != nil {
			return invalidParam("form_param_value_invalid", "user_id", "user_id is not a user of this instance")
		}
		if in.OrgID != "" {
			o, err := getOrg(ctx, tx, in.OrgID)
			if err == nil {
				_, err = getMembership(ctx, tx, o.ID, in.UserID)
			}
			if err != nil {
				return invalidParam("form_param_value_invalid", "org_id", "the user is not a member of org_id")
			}
			t.OrgID = &o.ID
		}
		_, err := tx.Exec(ctx, `INSERT INTO clerkemu.sign_in_tokens (id, token_hash, user_id, org_id, status, expires_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, hashToken(token), t.UserID, t.OrgID, t.Status, t.ExpiresAt, t.CreatedAt, t.UpdatedAt)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := e.signInTokenJSON(t)
	out.Token, out.URL = token, e.ticketURL("", "/sign-in", token)
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) signInTokenJSON(t *signInTokenRow) *signInTokenJSON {
	return &signInTokenJSON{Object: "sign_in_token", ID: t.ID, Status: t.Status, UserID: t.UserID,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func (e *Emulator) handleRevokeSignInToken(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var t *signInTokenRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = one[signInTokenRow](ctx, tx, "SELECT "+signInTokenCols+" FROM clerkemu.sign_in_tokens WHERE id = $1 FOR UPDATE", r.PathValue("id"))
		if err != nil {
			return err
		}
		if t.Status != "pending" {
			return invalid("sign_in_token_cannot_be_revoked", "only pending sign-in tokens can be revoked")
		}
		t.Status, t.UpdatedAt = "revoked", e.nowMS()
		_, err = tx.Exec(ctx, "UPDATE clerkemu.sign_in_tokens SET status = $2, updated_at = $3 WHERE id = $1", t.ID, t.Status, t.UpdatedAt)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.signInTokenJSON(t))
}

// redeemSignInToken accepts a pending, unexpired ticket once.
func (e *Emulator) redeemSignInToken(ctx context.Context, tx pgx.Tx, ticket string) (*signInTokenRow, error) {
	t, err := one[signInTokenRow](ctx, tx, "SELECT "+signInTokenCols+" FROM clerkemu.sign_in_tokens WHERE token_hash = $1 FOR UPDATE", hashToken(ticket))
	if err != nil || t.Status != "pending" || t.ExpiresAt < e.nowMS() {
		return nil, invalidParam("ticket_invalid", "ticket", "This sign-in link is not valid any more.")
	}
	t.Status, t.UpdatedAt = "accepted", e.nowMS()
	_, err = tx.Exec(ctx, "UPDATE clerkemu.sign_in_tokens SET status = $2, updated_at = $3 WHERE id = $1", t.ID, t.Status, t.UpdatedAt)
	return t, err
}

// testingTokenLife is how long a testing token is good for.
const testingTokenLife = time.Hour

// handleCreateTestingToken is POST /v1/testing_tokens, what @clerk/testing
// asks for before a browser test. Clerk's testing tokens let tests past
// bot protection; the emulator has none, so every Frontend API request is
// already let through and the token is accepted (and ignored) wherever a
// test sends it.
func (e *Emulator) handleCreateTestingToken(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.now()
	writeJSON(w, http.StatusOK, map[string]any{"object": "testing_token",
		"token": strconv.FormatInt(now.Unix(), 10) + "-" + randomString(40), "expires_at": now.Add(testingTokenLife).Unix()})
}
