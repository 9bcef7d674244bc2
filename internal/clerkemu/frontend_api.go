package clerkemu

import (
	"context"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// The Frontend API's JSON is the emulator's own, smaller than Clerk's: its
// only consumer is the shim served next to it. Field names follow Clerk's
// (snake_case) so the shim reads like ClerkJS.

type orgFAPI struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Slug           string         `json:"slug"`
	ImageURL       string         `json:"image_url"`
	MembersCount   int64          `json:"members_count"`
	PublicMetadata map[string]any `json:"public_metadata"`
}

type membershipFAPI struct {
	ID           string   `json:"id"`
	Role         string   `json:"role"`
	RoleName     string   `json:"role_name"`
	Permissions  []string `json:"permissions"`
	Organization orgFAPI  `json:"organization"`
}

type userFAPI struct {
	ID             string           `json:"id"`
	FirstName      *string          `json:"first_name"`
	LastName       *string          `json:"last_name"`
	EmailAddress   string           `json:"email_address"`
	ImageURL       string           `json:"image_url"`
	PublicMetadata map[string]any   `json:"public_metadata"`
	Memberships    []membershipFAPI `json:"organization_memberships"`
}

type sessionFAPI struct {
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	ActiveOrgID     *string  `json:"last_active_organization_id"`
	ExpireAt        int64    `json:"expire_at"`
	User            userFAPI `json:"user"`
	LastActiveToken *struct {
		JWT string `json:"jwt"`
	} `json:"last_active_token"`
}

type clientFAPI struct {
	Object              string        `json:"object"`
	ID                  string        `json:"id"`
	LastActiveSessionID *string       `json:"last_active_session_id"`
	Sessions            []sessionFAPI `json:"sessions"`
	UpdatedAt           int64         `json:"updated_at"`
}

// clientJSON describes the browser's state, with a fresh token for the
// active session so the shim can write __session without a second request.
func (e *Emulator) clientJSON(ctx context.Context, q querier, cl *clientRow) (*clientFAPI, error) {
	if cl == nil {
		return nil, nil
	}
	cl, err := one[clientRow](ctx, q, "SELECT id, active_session, updated_at FROM clerkemu.clients WHERE id = $1", cl.ID)
	if err != nil {
		return nil, err
	}
	out := &clientFAPI{Object: "client", ID: cl.ID, Sessions: []sessionFAPI{}, UpdatedAt: cl.UpdatedAt}
	if cl.ActiveSession == nil {
		return out, nil
	}
	s, err := getSession(ctx, q, *cl.ActiveSession)
	if err != nil || s.Status != "active" {
		return out, err
	}
	u, err := getUser(ctx, q, s.UserID)
	if err != nil {
		return nil, err
	}
	uf := userFAPI{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, EmailAddress: u.Email,
		ImageURL: e.imageURL(u.ID), PublicMetadata: decodeObject(u.PublicMD), Memberships: []membershipFAPI{}}
	mems, err := userMemberships(ctx, q, u.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range mems {
		o, err := getOrg(ctx, q, m.OrgID)
		if err != nil {
			return nil, err
		}
		uf.Memberships = append(uf.Memberships, membershipFAPI{ID: m.ID, Role: m.Role, RoleName: roleName(m.Role),
			Permissions: membershipPermissions(m.Role, orgFeatures(o)),
			Organization: orgFAPI{ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: e.imageURL(o.ID),
				MembersCount: o.MembersCount, PublicMetadata: decodeObject(o.PublicMD)}})
	}
	jwt, err := e.mintSessionToken(ctx, q, tokenRequest{session: s})
	if err != nil {
		return nil, err
	}
	sf := sessionFAPI{ID: s.ID, Status: s.Status, ActiveOrgID: s.ActiveOrgID, ExpireAt: s.ExpireAt, User: uf}
	sf.LastActiveToken = &struct {
		JWT string `json:"jwt"`
	}{jwt}
	out.LastActiveSessionID = &s.ID
	out.Sessions = append(out.Sessions, sf)
	return out, nil
}

// respond answers {response, client}, the Frontend API's envelope.
func (e *Emulator) respond(w http.ResponseWriter, r *http.Request, q querier, cl *clientRow, response any) {
	c, err := e.clientJSON(r.Context(), q, cl)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": response, "client": c})
}

// handleEnvironment tells the shim what it needs to know about the
// instance, including the development accounts for the sign-in picker.
func (e *Emulator) handleEnvironment(w http.ResponseWriter, r *http.Request) {
	env := map[string]any{
		"object": "environment", "publishable_key": e.PublishableKey(), "frontend_api": e.issuer,
		"cookie_suffix": e.CookieSuffix(), "token_lifetime_seconds": int(e.cfg.TokenLifetime.Seconds()),
		"dev_accounts": []SeedAccount{},
	}
	if e.cfg.Seed {
		env["dev_accounts"] = SeedAccounts()
		env["dev_password"] = DevPassword
	}
	writeJSON(w, http.StatusOK, env)
}

func (e *Emulator) handleFrontendClient(w http.ResponseWriter, r *http.Request) {
	cl, err := e.currentClient(r.Context(), e.pool, r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	c, err := e.clientJSON(r.Context(), e.pool, cl)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": c, "client": c})
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
	return s, e.touchClient(ctx, tx, cl.ID)
}

// handleSignIn completes a sign-in in one step: identifier and password,
// or a sign-in token (strategy=ticket, Clerk's __clerk_ticket). Banned and
// locked users are refused, as on Clerk.
func (e *Emulator) handleSignIn(w http.ResponseWriter, r *http.Request) {
	in, err := formOrJSON(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var s *sessionRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var u *userRow
		var orgID *string
		if in["strategy"] == "ticket" {
			t, err := e.redeemSignInToken(ctx, tx, in["ticket"])
			if err != nil {
				return err
			}
			if u, err = getUser(ctx, tx, t.UserID); err != nil {
				return err
			}
			orgID = t.OrgID
		} else {
			var err error
			if u, err = getUserByEmail(ctx, tx, strings.TrimSpace(in["identifier"])); err != nil {
				return invalidParam("form_identifier_not_found", "identifier", "Couldn't find your account.")
			}
			if u.PasswordHash == nil || bcrypt.CompareHashAndPassword([]byte(*u.PasswordHash), []byte(in["password"])) != nil {
				return invalidParam("form_password_incorrect", "password", "Password is incorrect. Try again, or use another method.")
			}
		}
		var err error
		if cl, err = e.ensureClient(ctx, tx, w, r); err != nil {
			return err
		}
		if s, err = e.signInClient(ctx, tx, cl, u.ID); err != nil || orgID == nil {
			return err
		}
		return e.touchSession(ctx, tx, s, orgID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respond(w, r, e.pool, cl, map[string]any{"object": "sign_in_attempt", "status": "complete", "created_session_id": s.ID})
}

// handleSignUp creates the user and signs them in. With strategy=ticket
// and an instance invitation's ticket, the email address is the
// invitation's and the invitation is accepted.
func (e *Emulator) handleSignUp(w http.ResponseWriter, r *http.Request) {
	in, err := formOrJSON(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if len(in["password"]) == 0 {
		e.fail(w, r, invalidParam("form_param_missing", "password", "Enter a password."))
		return
	}
	ctx := r.Context()
	var cl *clientRow
	var s *sessionRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		n := newUser{Email: in["email_address"], Password: in["password"],
			FirstName: strings.TrimSpace(in["first_name"]), LastName: strings.TrimSpace(in["last_name"])}
		if in["strategy"] == "ticket" {
			inv, err := e.redeemInstanceInvitation(ctx, tx, in["ticket"])
			if err != nil {
				return err
			}
			n.Email, n.PublicMD = inv.Email, inv.PublicMD
		}
		u, err := e.createUser(ctx, tx, n)
		if err != nil {
			return err
		}
		if cl, err = e.ensureClient(ctx, tx, w, r); err != nil {
			return err
		}
		s, err = e.signInClient(ctx, tx, cl, u.ID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respond(w, r, e.pool, cl, map[string]any{"object": "sign_up_attempt", "status": "complete", "created_session_id": s.ID})
}

// handleClientToken is what session.getToken() calls. organization_id asks
// for a token in another of the user's organizations without switching.
func (e *Emulator) handleClientToken(w http.ResponseWriter, r *http.Request) {
	in, err := formOrJSON(r)
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
	writeJSON(w, http.StatusOK, map[string]string{"object": "token", "jwt": jwt})
}

// handleTouch is setActive: it switches the session's active organization
// ("" is the personal account).
func (e *Emulator) handleTouch(w http.ResponseWriter, r *http.Request) {
	in, err := formOrJSON(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var cl *clientRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
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
			if err != nil {
				return errNotMember
			}
			if _, err := getMembership(ctx, tx, o.ID, s.UserID); err != nil {
				return errNotMember
			}
			orgID = &o.ID
		}
		if err := e.touchSession(ctx, tx, s, orgID); err != nil {
			return err
		}
		return e.touchClient(ctx, tx, cl.ID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respond(w, r, e.pool, cl, map[string]any{"object": "session", "id": r.PathValue("sid")})
}

func (e *Emulator) touchSession(ctx context.Context, q querier, s *sessionRow, orgID *string) error {
	_, err := q.Exec(ctx, "UPDATE clerkemu.sessions SET active_org_id = $2, last_active_at = $3, updated_at = $3 WHERE id = $1",
		s.ID, orgID, e.nowMS())
	return err
}

// handleRemove is signOut: the session ends with status "removed".
func (e *Emulator) handleRemove(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var cl *clientRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var s *sessionRow
		var err error
		if cl, s, err = e.clientSession(ctx, tx, r); err != nil {
			return err
		}
		if _, err := e.endSession(ctx, tx, s, "removed"); err != nil {
			return err
		}
		return e.touchClient(ctx, tx, cl.ID)
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	e.respond(w, r, e.pool, cl, map[string]any{"object": "session", "id": r.PathValue("sid"), "status": "removed"})
}

// handleClientCreateOrg is Clerk.createOrganization: the signed-in user
// creates an organization and becomes its admin.
func (e *Emulator) handleClientCreateOrg(w http.ResponseWriter, r *http.Request) {
	in, err := formOrJSON(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var o *orgRow
	err = e.tx(ctx, func(tx pgx.Tx) error {
		cl, err := e.currentClient(ctx, tx, r)
		if err != nil || cl == nil || cl.ActiveSession == nil {
			return errSignedOut
		}
		s, err := getSession(ctx, tx, *cl.ActiveSession)
		if err != nil || s.Status != "active" {
			return errSignedOut
		}
		o, err = e.createOrg(ctx, tx, newOrg{Name: in["name"], Slug: in["slug"], CreatedBy: s.UserID})
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": orgFAPI{ID: o.ID, Name: o.Name, Slug: o.Slug,
		ImageURL: e.imageURL(o.ID), MembersCount: o.MembersCount, PublicMetadata: decodeObject(o.PublicMD)}})
}
