package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sign-up attempts as ClerkJS's SignUp resource drives them
// (packages/clerk-js/src/core/resources/SignUp.ts). The emulator's instance
// asks for an email address and a password (names optional) and does not
// verify the address at sign-up (the environment's verify_at_sign_up is
// false, a setting Clerk offers), so an attempt completes as soon as both
// are given: development needs no mailbox.

const signUpAbandon = 24 * time.Hour

type signUpRow struct {
	ID               string          `db:"id"`
	ClientID         string          `db:"client_id"`
	Status           string          `db:"status"`
	EmailAddress     *string         `db:"email_address"`
	FirstName        *string         `db:"first_name"`
	LastName         *string         `db:"last_name"`
	PasswordHash     *string         `db:"password_hash"`
	UnsafeMD         json.RawMessage `db:"unsafe_metadata"`
	LegalAcceptedAt  *int64          `db:"legal_accepted_at"`
	CreatedUserID    *string         `db:"created_user_id"`
	CreatedSessionID *string         `db:"created_session_id"`
	AbandonAt        int64           `db:"abandon_at"`
	CreatedAt        int64           `db:"created_at"`
	UpdatedAt        int64           `db:"updated_at"`
}

const signUpCols = `id, client_id, status, email_address, first_name, last_name, password_hash, unsafe_metadata,
	legal_accepted_at, created_user_id, created_session_id, abandon_at, created_at, updated_at`

func getSignUp(ctx context.Context, q querier, id string) (*signUpRow, error) {
	return one[signUpRow](ctx, q, "SELECT "+signUpCols+" FROM clerkemu.sign_ups WHERE id = $1", id)
}

type signUpJSON struct {
	Object           string          `json:"object"`
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequiredFields   []string        `json:"required_fields"`
	OptionalFields   []string        `json:"optional_fields"`
	MissingFields    []string        `json:"missing_fields"`
	UnverifiedFields []string        `json:"unverified_fields"`
	Verifications    any             `json:"verifications"`
	Username         *string         `json:"username"`
	EmailAddress     *string         `json:"email_address"`
	PhoneNumber      *string         `json:"phone_number"`
	Web3Wallet       *string         `json:"web3_wallet"`
	FirstName        *string         `json:"first_name"`
	LastName         *string         `json:"last_name"`
	HasPassword      bool            `json:"has_password"`
	UnsafeMetadata   json.RawMessage `json:"unsafe_metadata"`
	CreatedSessionID *string         `json:"created_session_id"`
	CreatedUserID    *string         `json:"created_user_id"`
	AbandonAt        int64           `json:"abandon_at"`
	LegalAcceptedAt  *int64          `json:"legal_accepted_at"`
	Locale           *string         `json:"locale"`
}

func signUpJSONOf(su *signUpRow) *signUpJSON {
	return &signUpJSON{Object: "sign_up", ID: su.ID, Status: su.Status,
		RequiredFields: []string{"email_address", "password"}, OptionalFields: []string{"first_name", "last_name"},
		MissingFields: su.missing(), UnverifiedFields: []string{}, EmailAddress: su.EmailAddress,
		FirstName: su.FirstName, LastName: su.LastName, HasPassword: su.PasswordHash != nil,
		UnsafeMetadata: su.UnsafeMD, CreatedSessionID: su.CreatedSessionID, CreatedUserID: su.CreatedUserID,
		AbandonAt: su.AbandonAt, LegalAcceptedAt: su.LegalAcceptedAt}
}

// missing lists the required fields the attempt still lacks.
func (su *signUpRow) missing() []string {
	out := []string{}
	if su.Status == "complete" {
		return out
	}
	if su.EmailAddress == nil {
		out = append(out, "email_address")
	}
	if su.PasswordHash == nil {
		out = append(out, "password")
	}
	return out
}

var signUpParams = []string{"email_address", "password", "first_name", "last_name", "unsafe_metadata",
	"legal_accepted", "strategy", "ticket", "locale", "timezone", "redirect_url", "action_complete_redirect_url"}

// handleCreateSignUp is POST /v1/client/sign_ups. strategy=ticket with an
// instance invitation's ticket takes the invitation's email address (and
// public metadata) and accepts it.
func (e *Emulator) handleCreateSignUp(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, signUpParams...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if s := in["strategy"]; s != "" && s != "ticket" {
		e.fail(w, r, unsupportedFeature("The sign-up strategy "+s))
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var su *signUpRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, err = e.ensureClient(ctx, tx, w, r); err != nil {
			return err
		}
		now := e.nowMS()
		su = &signUpRow{ID: newID("sua"), ClientID: cl.ID, Status: "missing_requirements", UnsafeMD: json.RawMessage(`{}`),
			AbandonAt: now + signUpAbandon.Milliseconds(), CreatedAt: now}
		var publicMD json.RawMessage
		if in["strategy"] == "ticket" {
			inv, err := e.redeemInstanceInvitation(ctx, tx, in["ticket"])
			if err != nil {
				return err
			}
			in["email_address"], publicMD = inv.Email, inv.PublicMD
		}
		if err := e.applySignUp(su, in); err != nil {
			return err
		}
		return e.advanceSignUp(ctx, tx, cl, su, publicMD)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, signUpJSONOf(su))
}

// handleUpdateSignUp is PATCH /v1/client/sign_ups/{id}: more fields for
// an attempt that is missing some.
func (e *Emulator) handleUpdateSignUp(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, signUpParams...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if in["strategy"] != "" {
		e.fail(w, r, unsupportedFeature("The sign-up strategy "+in["strategy"]))
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var su *signUpRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, su, err = e.clientSignUp(ctx, tx, r); err != nil {
			return err
		}
		if su.Status == "complete" {
			return invalid("sign_up_already_complete", "This sign-up is already complete.")
		}
		if err := e.applySignUp(su, in); err != nil {
			return err
		}
		return e.advanceSignUp(ctx, tx, cl, su, nil)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, signUpJSONOf(su))
}

// handleGetSignUp is GET /v1/client/sign_ups/{id}.
func (e *Emulator) handleGetSignUp(w http.ResponseWriter, r *http.Request) {
	cl, su, err := e.clientSignUp(r.Context(), e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, signUpJSONOf(su))
}

// handleSignUpVerification answers prepare_verification and
// attempt_verification: the emulator verifies no email address at sign-up,
// so ClerkJS never asks unless something else drives it.
func (e *Emulator) handleSignUpVerification(w http.ResponseWriter, r *http.Request) {
	e.fail(w, r, unsupportedFeature("Email verification at sign-up (the instance does not verify at sign-up)"))
}

func (e *Emulator) clientSignUp(ctx context.Context, q querier, r *http.Request) (*clientRow, *signUpRow, error) {
	cl, err := e.currentClient(ctx, q, r)
	if err != nil {
		return nil, nil, err
	}
	if cl == nil {
		return nil, nil, errNoSignUp
	}
	su, err := getSignUp(ctx, q, r.PathValue("id"))
	if errors.Is(err, errNotFound) || (err == nil && (su.ClientID != cl.ID || su.AbandonAt < e.nowMS())) {
		return nil, nil, errNoSignUp
	}
	return cl, su, err
}

var errNoSignUp = &clientError{status: http.StatusNotFound, code: "resource_not_found",
	msg: "Sign up not found", long: "This sign-up attempt does not exist or has expired. Please start again."}

// applySignUp checks and takes the fields the request gives.
func (e *Emulator) applySignUp(su *signUpRow, in map[string]string) error {
	if v, ok := in["email_address"]; ok {
		v = strings.TrimSpace(v)
		if addr, err := mail.ParseAddress(v); err != nil || addr.Address != v {
			return invalidParam("form_param_format_invalid", "email_address", "Email address must be a valid email address.")
		}
		su.EmailAddress = strp(strings.ToLower(v))
	}
	for field, dst := range map[string]**string{"first_name": &su.FirstName, "last_name": &su.LastName} {
		if v, ok := in[field]; ok {
			if v = strings.TrimSpace(v); v != "" {
				*dst = &v
			} else {
				*dst = nil
			}
		}
	}
	if v, ok := in["unsafe_metadata"]; ok {
		raw := json.RawMessage(v)
		md, err := objectOrEmpty(&raw)
		if err != nil {
			return invalidParam("form_param_format_invalid", "unsafe_metadata", "unsafe_metadata must be a JSON object")
		}
		su.UnsafeMD = md
	}
	if in["legal_accepted"] == "true" {
		now := e.nowMS()
		su.LegalAcceptedAt = &now
	}
	if v, ok := in["password"]; ok {
		hash, err := e.hashPassword(v, false, false)
		if err != nil {
			return err
		}
		su.PasswordHash = hash
	}
	return nil
}

// advanceSignUp stores the attempt and, once nothing is missing, creates
// the user and signs them in.
func (e *Emulator) advanceSignUp(ctx context.Context, tx pgx.Tx, cl *clientRow, su *signUpRow, publicMD json.RawMessage) error {
	if su.EmailAddress != nil {
		if _, err := getUserByEmail(ctx, tx, *su.EmailAddress); err == nil {
			return invalidParam("form_identifier_exists", "email_address", "That email address is taken. Please try another.")
		} else if !errors.Is(err, errNotFound) {
			return err
		}
	}
	if len(su.missing()) == 0 {
		n := newUser{Email: *su.EmailAddress, PasswordHash: su.PasswordHash, PublicMD: publicMD, UnsafeMD: su.UnsafeMD,
			LegalAcceptedAt: su.LegalAcceptedAt}
		if su.FirstName != nil {
			n.FirstName = *su.FirstName
		}
		if su.LastName != nil {
			n.LastName = *su.LastName
		}
		u, err := e.createUser(ctx, tx, n)
		if err != nil {
			return err
		}
		s, err := e.signInClient(ctx, tx, cl, u.ID)
		if err != nil {
			return err
		}
		su.Status, su.CreatedUserID, su.CreatedSessionID = "complete", &u.ID, &s.ID
	}
	su.UpdatedAt = e.nowMS()
	_, err := tx.Exec(ctx, `INSERT INTO clerkemu.sign_ups (`+signUpCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET status = $3, email_address = $4, first_name = $5, last_name = $6,
		password_hash = $7, unsafe_metadata = $8, legal_accepted_at = $9, created_user_id = $10,
		created_session_id = $11, updated_at = $14`,
		su.ID, su.ClientID, su.Status, su.EmailAddress, su.FirstName, su.LastName, su.PasswordHash, su.UnsafeMD,
		su.LegalAcceptedAt, su.CreatedUserID, su.CreatedSessionID, su.AbandonAt, su.CreatedAt, su.UpdatedAt)
	if err != nil {
		return err
	}
	signUpID := &su.ID
	if su.Status == "complete" {
		signUpID = nil
	}
	_, err = tx.Exec(ctx, "UPDATE clerkemu.clients SET sign_up_id = $2 WHERE id = $1", cl.ID, signUpID)
	return err
}
