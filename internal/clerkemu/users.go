package clerkemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
)

// devPasswordHashes caches bcrypt(DevPassword) per cost for the life of the
// process. Every seeded account shares the documented development password,
// so hashing it once instead of once per account keeps seeding a fresh
// database (the first start, and every test's own database) from spending
// seconds in bcrypt.
var devPasswordHashes sync.Map // cost → []byte

// hashPassword hashes a new user's password at the configured cost.
func (e *Emulator) hashPassword(password string, seeded bool) (string, error) {
	cost := e.cfg.PasswordCost
	if seeded && password == DevPassword {
		if h, ok := devPasswordHashes.Load(cost); ok {
			return string(h.([]byte)), nil
		}
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", err
	}
	if seeded && password == DevPassword {
		devPasswordHashes.Store(cost, b)
	}
	return string(b), nil
}

func (e *Emulator) userRoutes(h func(string, http.HandlerFunc)) {
	h("GET /users", e.handleListUsers)
	h("GET /users/count", e.handleCountUsers)
	h("POST /users", e.handleCreateUser)
	h("GET /users/{id}", e.handleGetUser)
	h("PATCH /users/{id}", e.handleUpdateUser)
	h("PATCH /users/{id}/metadata", e.handleUserMetadata)
	h("DELETE /users/{id}", e.handleDeleteUser)
	h("GET /users/{id}/organization_memberships", e.handleUserMemberships)
}

// newUser is what every path that creates a user (Backend API, sign-up,
// invitation, seed) supplies.
type newUser struct {
	Email, Password, FirstName, LastName, Username, ExternalID string
	PublicMD, PrivateMD, UnsafeMD                              json.RawMessage
	Seeded                                                     bool
}

// createUser inserts a user and queues user.created.
func (e *Emulator) createUser(ctx context.Context, tx pgx.Tx, n newUser) (*userRow, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(n.Email))
	if err != nil || addr.Address != strings.TrimSpace(n.Email) {
		return nil, invalid("form_param_format_invalid", "email_address must be a valid email address")
	}
	var hash *string
	if n.Password != "" {
		if len(n.Password) < 8 {
			return nil, invalid("form_password_length_too_short", "Passwords must be 8 characters or more.")
		}
		h, err := e.hashPassword(n.Password, n.Seeded)
		if err != nil {
			return nil, err
		}
		hash = strp(h)
	}
	for _, md := range []*json.RawMessage{&n.PublicMD, &n.PrivateMD, &n.UnsafeMD} {
		if *md, err = objectOrEmpty(md); err != nil {
			return nil, invalid("form_param_format_invalid", err.Error())
		}
	}
	now := e.nowMS()
	id := newID("user")
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.users (id, email, email_id, password_hash, first_name, last_name,
		username, external_id, public_metadata, private_metadata, unsafe_metadata, seeded, created_at, updated_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), $9, $10, $11, $12, $13, $13)`,
		id, strings.ToLower(addr.Address), newID("idn"), hash, n.FirstName, n.LastName, n.Username, n.ExternalID,
		n.PublicMD, n.PrivateMD, n.UnsafeMD, n.Seeded, now)
	if isUniqueViolation(err) {
		return nil, invalid("form_identifier_exists", "That email address is taken. Please try another.")
	}
	if err != nil {
		return nil, err
	}
	if err := e.emitUser(ctx, tx, "user.created", id); err != nil {
		return nil, err
	}
	return getUser(ctx, tx, id)
}

// userFilter builds the WHERE clause shared by GET /users and /users/count.
func userFilter(r *http.Request) (string, []any) {
	q := r.URL.Query()
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if v := q["email_address"]; len(v) > 0 {
		for i := range v {
			v[i] = strings.ToLower(v[i])
		}
		add("lower(email) = ANY($%d)", v)
	}
	if v := q["user_id"]; len(v) > 0 {
		add("id = ANY($%d)", v)
	}
	if v := q["external_id"]; len(v) > 0 {
		add("external_id = ANY($%d)", v)
	}
	if v := q["organization_id"]; len(v) > 0 {
		add("id IN (SELECT user_id FROM clerkemu.memberships WHERE org_id = ANY($%d))", v)
	}
	if v := q.Get("query"); v != "" {
		add("(id || ' ' || email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')) ILIKE '%%' || $%d || '%%'", v)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

var userOrder = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "email_address": "email",
	"first_name": "first_name", "last_name": "last_name", "last_sign_in_at": "last_sign_in_at",
}

// handleListUsers answers with a bare array, as Clerk's GET /users does.
func (e *Emulator) handleListUsers(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	where, args := userFilter(r)
	args = append(args, pg.limit, pg.offset)
	rows, err := many[userRow](r.Context(), e.pool, fmt.Sprintf("SELECT %s FROM clerkemu.users%s ORDER BY %s LIMIT $%d OFFSET $%d",
		userCols, where, orderBy(r, userOrder, "created_at DESC, id DESC"), len(args)-1, len(args)), args...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := make([]any, len(rows))
	for i, u := range rows {
		out[i] = userJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleCountUsers(w http.ResponseWriter, r *http.Request) {
	where, args := userFilter(r)
	var n int64
	if err := e.pool.QueryRow(r.Context(), "SELECT count(*) FROM clerkemu.users"+where, args...).Scan(&n); err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "total_count", "total_count": n})
}

func (e *Emulator) handleGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := getUser(r.Context(), e.pool, r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(u))
}

func (e *Emulator) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EmailAddress    []string         `json:"email_address"`
		Password        string           `json:"password"`
		FirstName       string           `json:"first_name"`
		LastName        string           `json:"last_name"`
		Username        string           `json:"username"`
		ExternalID      string           `json:"external_id"`
		PublicMetadata  *json.RawMessage `json:"public_metadata"`
		PrivateMetadata *json.RawMessage `json:"private_metadata"`
		UnsafeMetadata  *json.RawMessage `json:"unsafe_metadata"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if len(in.EmailAddress) == 0 {
		e.fail(w, r, invalid("form_param_missing", "email_address is required in the emulator"))
		return
	}
	n := newUser{Email: in.EmailAddress[0], Password: in.Password, FirstName: in.FirstName, LastName: in.LastName,
		Username: in.Username, ExternalID: in.ExternalID}
	for _, p := range []struct {
		dst *json.RawMessage
		src *json.RawMessage
	}{{&n.PublicMD, in.PublicMetadata}, {&n.PrivateMD, in.PrivateMetadata}, {&n.UnsafeMD, in.UnsafeMetadata}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	var u *userRow
	err := e.tx(r.Context(), func(tx pgx.Tx) error {
		var err error
		u, err = e.createUser(r.Context(), tx, n)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(u))
}

// handleUpdateUser changes names and the password, the fields a starter's
// profile screen edits.
func (e *Emulator) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Username  *string `json:"username"`
		Password  *string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	var hash *string
	if in.Password != nil {
		if len(*in.Password) < 8 {
			e.fail(w, r, invalid("form_password_length_too_short", "Passwords must be 8 characters or more."))
			return
		}
		h, err := e.hashPassword(*in.Password, false)
		if err != nil {
			e.fail(w, r, err)
			return
		}
		hash = strp(h)
	}
	e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
		_, err := tx.Exec(ctx, `UPDATE clerkemu.users SET first_name = COALESCE($2, first_name),
			last_name = COALESCE($3, last_name), username = COALESCE($4, username),
			password_hash = COALESCE($5, password_hash) WHERE id = $1`,
			u.ID, in.FirstName, in.LastName, in.Username, hash)
		return err
	})
}

// handleUserMetadata merges metadata as Clerk does (null deletes a key).
func (e *Emulator) handleUserMetadata(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PublicMetadata  *json.RawMessage `json:"public_metadata"`
		PrivateMetadata *json.RawMessage `json:"private_metadata"`
		UnsafeMetadata  *json.RawMessage `json:"unsafe_metadata"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
		pub, priv, unsafe := u.PublicMD, u.PrivateMD, u.UnsafeMD
		for _, p := range []struct {
			dst   *json.RawMessage
			patch *json.RawMessage
		}{{&pub, in.PublicMetadata}, {&priv, in.PrivateMetadata}, {&unsafe, in.UnsafeMetadata}} {
			if p.patch == nil {
				continue
			}
			merged, err := mergeMetadata(*p.dst, *p.patch)
			if err != nil {
				return invalid("form_param_format_invalid", err.Error())
			}
			*p.dst = merged
		}
		_, err := tx.Exec(ctx, `UPDATE clerkemu.users SET public_metadata = $2, private_metadata = $3,
			unsafe_metadata = $4 WHERE id = $1`, u.ID, pub, priv, unsafe)
		return err
	})
}

// updateUser runs change on the user named in the path, bumps updated_at,
// queues user.updated and answers with the new user.
func (e *Emulator) updateUser(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *userRow) error) {
	ctx := r.Context()
	var u *userRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		old, err := one[userRow](ctx, tx, "SELECT "+userCols+" FROM clerkemu.users WHERE id = $1 FOR UPDATE", r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := change(ctx, tx, old); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE clerkemu.users SET updated_at = $2 WHERE id = $1", old.ID, e.nowMS()); err != nil {
			return err
		}
		if err := e.emitUser(ctx, tx, "user.updated", old.ID); err != nil {
			return err
		}
		u, err = getUser(ctx, tx, old.ID)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userJSON(u))
}

func (e *Emulator) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	err := e.tx(ctx, func(tx pgx.Tx) error { return e.deleteUser(ctx, tx, id) })
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "user", "id": id, "deleted": true})
}

// deleteUser announces what the delete takes with it (memberships, live
// sessions) before user.deleted, so a receiver never sees a membership
// outlive its user.
func (e *Emulator) deleteUser(ctx context.Context, tx pgx.Tx, id string) error {
	u, err := getUser(ctx, tx, id)
	if err != nil {
		return err
	}
	mems, err := userMemberships(ctx, tx, id)
	if err != nil {
		return err
	}
	for _, m := range mems {
		if err := e.emitMembership(ctx, tx, "organizationMembership.deleted", m); err != nil {
			return err
		}
	}
	if err := e.endUserSessions(ctx, tx, id, "ended"); err != nil {
		return err
	}
	data := map[string]any{"object": "user", "id": id, "deleted": true}
	if u.ExternalID != nil {
		data["external_id"] = *u.ExternalID
	}
	if err := e.emit(ctx, tx, "user.deleted", id, data); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "DELETE FROM clerkemu.users WHERE id = $1", id)
	return err
}

func (e *Emulator) handleUserMemberships(w http.ResponseWriter, r *http.Request) {
	e.listMemberships(w, r, "user_id = $1", r.PathValue("id"))
}
