package clerkemu

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

func (e *Emulator) userActionRoutes(h func(string, http.HandlerFunc)) {
	h("POST /users/{id}/ban", e.handleSetUserFlag("banned", true))
	h("POST /users/{id}/unban", e.handleSetUserFlag("banned", false))
	h("POST /users/{id}/lock", e.handleSetUserFlag("locked", true))
	h("POST /users/{id}/unlock", e.handleSetUserFlag("locked", false))
	h("POST /users/{id}/verify_password", e.handleVerifyPassword)
	h("POST /users/{id}/remove_password", e.handleRemovePassword)
	h("DELETE /users/{id}/profile_image", e.handleDeleteProfileImage)
	h("GET /users/{id}/organization_invitations", e.handleUserOrgInvitations)
}

// handleSetUserFlag bans, unbans, locks or unlocks a user. A banned or
// locked user cannot sign in; a ban also revokes every active session, as
// Clerk's does. A lock lasts until it is lifted: the emulator has no lockout
// timer, so lockout_expires_in_seconds stays null.
func (e *Emulator) handleSetUserFlag(column string, value bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			e.fail(w, r, err)
			return
		}
		e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
			// column is one of two constants above, never input.
			if _, err := tx.Exec(ctx, "UPDATE clerkemu.users SET "+column+" = $2 WHERE id = $1", u.ID, value); err != nil {
				return err
			}
			if column == "banned" && value {
				return e.endUserSessions(ctx, tx, u.ID, "revoked")
			}
			return nil
		})
	}
}

func (e *Emulator) handleVerifyPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	u, err := getUser(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	switch {
	case u.PasswordHash == nil:
		e.fail(w, r, invalid("password_not_set", "The user has no password."))
	case bcrypt.CompareHashAndPassword([]byte(*u.PasswordHash), []byte(in.Password)) != nil:
		e.fail(w, r, invalidParam("form_password_incorrect", "password", "Password is incorrect."))
	default:
		writeJSON(w, http.StatusOK, map[string]bool{"verified": true})
	}
}

func (e *Emulator) handleRemovePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SignOutOfOtherSessions bool `json:"sign_out_of_other_sessions"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.users SET password_hash = NULL, password_updated_at = $2 WHERE id = $1", u.ID, e.nowMS()); err != nil {
			return err
		}
		if in.SignOutOfOtherSessions {
			return e.endUserSessions(ctx, tx, u.ID, "revoked")
		}
		return nil
	})
}

// handleDeleteProfileImage answers with the user: emulator users never have
// an uploaded image (uploading one is not supported), so there is nothing
// to delete and the generated avatar stays.
func (e *Emulator) handleDeleteProfileImage(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	u, err := getUser(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.userJSON(u))
}

// handleUserOrgInvitations lists the organization invitations sent to the
// user's email address, newest first.
func (e *Emulator) handleUserOrgInvitations(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, "status")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	u, err := getUser(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	wh.add("lower(email) = lower(%s)", u.Email)
	if err := invitationStatusFilter(&wh, q, e.nowMS()); err != nil {
		e.fail(w, r, err)
		return
	}
	e.listOrgInvitations(w, r, &wh, pg, "created_at DESC, id DESC")
}
