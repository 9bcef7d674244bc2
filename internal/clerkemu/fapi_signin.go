package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// Sign-in attempts as ClerkJS's SignIn resource drives them
// (packages/clerk-js/src/core/resources/SignIn.ts): create with an
// identifier, then attempt the first factor. Passwords are the only
// first factor the emulator has; a sign-in token (strategy=ticket) signs
// in at once. An attempt is abandoned after a day, as on Clerk.

const signInAbandon = 24 * time.Hour

type signInRow struct {
	ID               string          `db:"id"`
	ClientID         string          `db:"client_id"`
	Status           string          `db:"status"`
	Identifier       *string         `db:"identifier"`
	UserID           *string         `db:"user_id"`
	FirstFactor      json.RawMessage `db:"first_factor"`
	CreatedSessionID *string         `db:"created_session_id"`
	AbandonAt        int64           `db:"abandon_at"`
	CreatedAt        int64           `db:"created_at"`
	UpdatedAt        int64           `db:"updated_at"`
}

const signInCols = `id, client_id, status, identifier, user_id, first_factor, created_session_id, abandon_at, created_at, updated_at`

func getSignIn(ctx context.Context, q querier, id string) (*signInRow, error) {
	return one[signInRow](ctx, q, "SELECT "+signInCols+" FROM clerkemu.sign_ins WHERE id = $1", id)
}

type factorJSON struct {
	Strategy string `json:"strategy"`
}

type signInJSON struct {
	Object                   string            `json:"object"`
	ID                       string            `json:"id"`
	Status                   string            `json:"status"`
	SupportedIdentifiers     []string          `json:"supported_identifiers"`
	Identifier               *string           `json:"identifier"`
	UserData                 *userDataJSON     `json:"user_data"`
	SupportedFirstFactors    []factorJSON      `json:"supported_first_factors"`
	SupportedSecondFactors   []factorJSON      `json:"supported_second_factors"`
	FirstFactorVerification  *verificationJSON `json:"first_factor_verification"`
	SecondFactorVerification *verificationJSON `json:"second_factor_verification"`
	CreatedSessionID         *string           `json:"created_session_id"`
	AbandonAt                int64             `json:"abandon_at"`
}

type userDataJSON struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	ImageURL  string  `json:"image_url"`
	HasImage  bool    `json:"has_image"`
}

func (e *Emulator) signInJSON(si *signInRow) *signInJSON {
	out := &signInJSON{Object: "sign_in", ID: si.ID, Status: si.Status, SupportedIdentifiers: []string{"email_address"},
		Identifier: si.Identifier, SupportedFirstFactors: []factorJSON{}, SupportedSecondFactors: []factorJSON{},
		CreatedSessionID: si.CreatedSessionID, AbandonAt: si.AbandonAt}
	if si.UserID != nil {
		out.SupportedFirstFactors = []factorJSON{{Strategy: "password"}}
		out.UserData = &userDataJSON{ImageURL: e.imageURL(*si.UserID)}
	}
	if len(si.FirstFactor) > 0 && string(si.FirstFactor) != "null" {
		var v verificationJSON
		if json.Unmarshal(si.FirstFactor, &v) == nil {
			out.FirstFactorVerification = &v
		}
	}
	return out
}

// signInParams are the body fields ClerkJS sends with a sign-in; the
// emulator refuses any strategy it does not implement by name.
var signInParams = []string{"identifier", "password", "strategy", "ticket", "locale", "timezone", "redirect_url",
	"action_complete_redirect_url", "sign_up_if_missing"}

// handleCreateSignIn is POST /v1/client/sign_ins. With an identifier alone
// the attempt needs its first factor (the password); with a password too,
// or a ticket, it completes at once.
func (e *Emulator) handleCreateSignIn(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, signInParams...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	strategy := in["strategy"]
	switch strategy {
	case "", "password", "ticket":
	default:
		e.fail(w, r, unsupportedFeature("The sign-in strategy "+strategy))
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var si *signInRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, err = e.ensureClient(ctx, tx, w, r); err != nil {
			return err
		}
		now := e.nowMS()
		si = &signInRow{ID: newID("sia"), ClientID: cl.ID, Status: "needs_identifier",
			AbandonAt: now + signInAbandon.Milliseconds(), CreatedAt: now, UpdatedAt: now}
		var u *userRow
		switch {
		case strategy == "ticket":
			t, err := e.redeemSignInToken(ctx, tx, in["ticket"])
			if err != nil {
				return err
			}
			if u, err = getUser(ctx, tx, t.UserID); err != nil {
				return err
			}
			si.UserID, si.Identifier = &u.ID, &u.Email
			return e.completeSignIn(ctx, tx, cl, si, "ticket", t.OrgID)
		case strings.TrimSpace(in["identifier"]) != "":
			if u, err = getUserByIdentifier(ctx, tx, in["identifier"]); err != nil {
				return err
			}
			si.Status, si.UserID, si.Identifier = "needs_first_factor", &u.ID, strp(strings.TrimSpace(in["identifier"]))
		}
		if in["password"] != "" {
			if u == nil {
				return invalidParam("form_param_missing", "identifier", "Enter your email address.")
			}
			if err := checkPassword(u, in["password"]); err != nil {
				return err
			}
			return e.completeSignIn(ctx, tx, cl, si, "password", nil)
		}
		return e.saveSignIn(ctx, tx, cl, si)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, e.signInJSON(si))
}

// handleAttemptFirstFactor is POST /v1/client/sign_ins/{id}/attempt_first_factor.
// A wrong password is Clerk's 422 form_password_incorrect, which the
// <SignIn/> component shows under the password field.
func (e *Emulator) handleAttemptFirstFactor(w http.ResponseWriter, r *http.Request) {
	in, err := fapiForm(r, "strategy", "password")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if in["strategy"] != "password" {
		e.fail(w, r, unsupportedFeature("The first factor "+in["strategy"]))
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var si *signInRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if cl, si, err = e.clientSignIn(ctx, tx, r); err != nil {
			return err
		}
		if si.Status != "needs_first_factor" || si.UserID == nil {
			return invalid("sign_in_no_first_factor", "This sign-in attempt does not need a first factor.")
		}
		u, err := getUser(ctx, tx, *si.UserID)
		if err != nil {
			return err
		}
		if err := checkPassword(u, in["password"]); err != nil {
			return err
		}
		return e.completeSignIn(ctx, tx, cl, si, "password", nil)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, e.signInJSON(si))
}

// handleGetSignIn is GET /v1/client/sign_ins/{id}.
func (e *Emulator) handleGetSignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cl, si, err := e.clientSignIn(ctx, e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respondClient(w, r, cl.ID, e.signInJSON(si))
}

// clientSignIn loads the sign-in in the path if the calling browser made it
// and it is neither complete nor abandoned.
func (e *Emulator) clientSignIn(ctx context.Context, q querier, r *http.Request) (*clientRow, *signInRow, error) {
	cl, err := e.currentClient(ctx, q, r)
	if err != nil {
		return nil, nil, err
	}
	if cl == nil {
		return nil, nil, errNoSignIn
	}
	si, err := getSignIn(ctx, q, r.PathValue("id"))
	if errors.Is(err, errNotFound) || (err == nil && (si.ClientID != cl.ID || si.AbandonAt < e.nowMS())) {
		return nil, nil, errNoSignIn
	}
	return cl, si, err
}

var errNoSignIn = &clientError{status: http.StatusNotFound, code: "resource_not_found",
	msg: "Sign in not found", long: "This sign-in attempt does not exist or has expired. Please start again."}

// getUserByIdentifier finds the account a sign-in names: an email address
// or a username. Clerk's answer for an unknown one names the field.
func getUserByIdentifier(ctx context.Context, q querier, identifier string) (*userRow, error) {
	identifier = strings.TrimSpace(identifier)
	u, err := getUserByEmail(ctx, q, identifier)
	if errors.Is(err, errNotFound) {
		u, err = one[userRow](ctx, q, "SELECT "+userCols+" FROM clerkemu.users WHERE lower(username) = lower($1)", identifier)
	}
	if errors.Is(err, errNotFound) {
		return nil, &clientError{status: http.StatusUnprocessableEntity, code: "form_identifier_not_found",
			msg: "Couldn't find your account.", meta: map[string]any{"param_name": "identifier"}}
	}
	return u, err
}

func checkPassword(u *userRow, password string) error {
	if u.PasswordHash == nil || bcrypt.CompareHashAndPassword([]byte(*u.PasswordHash), []byte(password)) != nil {
		return invalidParam("form_password_incorrect", "password", "Password is incorrect. Try again, or use another method.")
	}
	return nil
}

// completeSignIn starts the session (replacing the client's current one:
// Clerk's default single-session mode), optionally in orgID, and records the
// attempt as complete.
func (e *Emulator) completeSignIn(ctx context.Context, tx pgx.Tx, cl *clientRow, si *signInRow, strategy string, orgID *string) error {
	s, err := e.signInClient(ctx, tx, cl, *si.UserID)
	if err != nil {
		return err
	}
	if orgID != nil {
		if err := e.touchSession(ctx, tx, s, orgID); err != nil {
			return err
		}
	}
	si.Status, si.CreatedSessionID = "complete", &s.ID
	si.FirstFactor, _ = json.Marshal(verificationJSON{Object: "verification_" + strategy, Status: "verified", Strategy: strategy})
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.clients SET last_authentication_strategy = $2 WHERE id = $1", cl.ID, strategy); err != nil {
		return err
	}
	return e.saveSignIn(ctx, tx, cl, si)
}

// saveSignIn stores the attempt; until it is complete, it is the client's
// sign-in in progress.
func (e *Emulator) saveSignIn(ctx context.Context, tx pgx.Tx, cl *clientRow, si *signInRow) error {
	si.UpdatedAt = e.nowMS()
	_, err := tx.Exec(ctx, `INSERT INTO clerkemu.sign_ins (`+signInCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET status = $3, identifier = $4, user_id = $5, first_factor = $6,
		created_session_id = $7, updated_at = $10`,
		si.ID, si.ClientID, si.Status, si.Identifier, si.UserID, si.FirstFactor, si.CreatedSessionID, si.AbandonAt, si.CreatedAt, si.UpdatedAt)
	if err != nil {
		return err
	}
	current := &si.ID
	if si.Status == "complete" {
		current = nil
	}
	_, err = tx.Exec(ctx, "UPDATE clerkemu.clients SET sign_in_id = $2 WHERE id = $1", cl.ID, current)
	return err
}
