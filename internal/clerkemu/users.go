package clerkemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"
)

// devPasswordHashes caches bcrypt(DevPassword) per cost for the life of the
// process. Every seeded account shares the documented development password,
// so hashing it once instead of once per account keeps seeding a fresh
// database (the first start, and every test's own database) from spending
// seconds in bcrypt.
var devPasswordHashes sync.Map // cost → []byte

// hashPassword applies Clerk's minimum length (unless the caller skips the
// checks, as a migration may) and hashes with bcrypt at the configured cost.
func (e *Emulator) hashPassword(password string, seeded, skipChecks bool) (*string, error) {
	if !skipChecks && len(password) < 8 {
		return nil, invalidParam("form_password_length_too_short", "password", "Passwords must be 8 characters or more.")
	}
	cost := e.cfg.PasswordCost
	dev := seeded && password == DevPassword
	if dev {
		if h, ok := devPasswordHashes.Load(cost); ok {
			return strp(string(h.([]byte))), nil
		}
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, err
	}
	if dev {
		devPasswordHashes.Store(cost, b)
	}
	return strp(string(b)), nil
}

func (e *Emulator) userRoutes(h func(string, http.HandlerFunc)) {
	h("GET /users", e.handleListUsers)
	h("GET /users/count", e.handleCountUsers)
	h("POST /users", e.handleCreateUser)
	h("GET /users/{id}", e.handleGetUser)
	h("PATCH /users/{id}", e.handleUpdateUser)
	h("DELETE /users/{id}", e.handleDeleteUser)
	h("PATCH /users/{id}/metadata", e.handleUserMetadata(mergeMetadata))
	h("PUT /users/{id}/metadata", e.handleUserMetadata(replaceMetadata))
	h("GET /users/{id}/organization_memberships", e.handleUserMemberships)
	e.userActionRoutes(h)
}

// newUser is what every path that creates a user (Backend API, sign-up,
// invitation, seed) supplies.
type newUser struct {
	Email, Password, FirstName, LastName, Username, ExternalID, Locale string
	// PasswordHash is a bcrypt digest given instead of Password.
	PasswordHash       *string
	SkipPasswordChecks bool
	PublicMD           json.RawMessage
	PrivateMD          json.RawMessage
	UnsafeMD           json.RawMessage
	CreatedAt          *int64
	LegalAcceptedAt    *int64
	CreateOrgEnabled   *bool
	DeleteSelfEnabled  *bool
	CreateOrgsLimit    *int64
	Banned, Locked     bool
	Seeded             bool
}

// passwordDigest accepts a bcrypt digest (password_digest with
// password_hasher=bcrypt), the one hasher the emulator can verify.
func passwordDigest(digest, hasher opt[string]) (*string, error) {
	if !digest.Set && !hasher.Set {
		return nil, nil
	}
	if hasher.V != "bcrypt" {
		return nil, unsupportedValue("password_hasher", "password_hasher "+hasher.V+" is not supported by the Clerk emulator; it accepts bcrypt digests only.")
	}
	if _, err := bcrypt.Cost([]byte(digest.V)); err != nil {
		return nil, invalidParam("form_param_format_invalid", "password_digest", "password_digest is not a bcrypt digest")
	}
	return strp(digest.V), nil
}

// uniqueUserError turns a unique violation into Clerk's form_identifier_exists
// for the identifier that clashed.
func uniqueUserError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return err
	}
	switch pgErr.ConstraintName {
	case "users_username_key":
		return invalidParam("form_identifier_exists", "username", "That username is taken. Please try another.")
	case "users_external_id_key":
		return invalidParam("form_identifier_exists", "external_id", "That external_id is taken by another user.")
	}
	return invalidParam("form_identifier_exists", "email_address", "That email address is taken. Please try another.")
}

// createUser inserts a user and queues user.created.
func (e *Emulator) createUser(ctx context.Context, tx pgx.Tx, n newUser) (*userRow, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(n.Email))
	if err != nil || addr.Address != strings.TrimSpace(n.Email) {
		return nil, invalidParam("form_param_format_invalid", "email_address", "email_address must be a valid email address")
	}
	hash := n.PasswordHash
	if n.Password != "" {
		if hash, err = e.hashPassword(n.Password, n.Seeded, n.SkipPasswordChecks); err != nil {
			return nil, err
		}
	}
	for _, md := range []*json.RawMessage{&n.PublicMD, &n.PrivateMD, &n.UnsafeMD} {
		if *md, err = objectOrEmpty(md); err != nil {
			return nil, invalid("form_param_format_invalid", err.Error())
		}
	}
	now := e.nowMS()
	created := now
	if n.CreatedAt != nil {
		created = *n.CreatedAt
	}
	var pwAt *int64
	if hash != nil {
		pwAt = &now
	}
	id := newID("user")
	_, err = tx.Exec(ctx, `INSERT INTO clerkemu.users (id, email, email_id, password_hash, first_name, last_name,
		username, external_id, public_metadata, private_metadata, unsafe_metadata, seeded, created_at, updated_at,
		locale, legal_accepted_at, create_organization_enabled, delete_self_enabled, create_organizations_limit,
		banned, locked, password_updated_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''), $9, $10, $11, $12, $13, $14,
		NULLIF($15, ''), $16, COALESCE($17, true), COALESCE($18, true), $19, $20, $21, $22)`,
		id, strings.ToLower(addr.Address), newID("idn"), hash, n.FirstName, n.LastName, n.Username, n.ExternalID,
		n.PublicMD, n.PrivateMD, n.UnsafeMD, n.Seeded, created, now,
		n.Locale, n.LegalAcceptedAt, n.CreateOrgEnabled, n.DeleteSelfEnabled, n.CreateOrgsLimit, n.Banned, n.Locked, pwAt)
	if err != nil {
		return nil, uniqueUserError(err)
	}
	if err := e.emitUser(ctx, tx, "user.created", id); err != nil {
		return nil, err
	}
	return getUser(ctx, tx, id)
}

// userListParams are the filters GET /users and GET /users/count share.
var userListParams = []string{
	"email_address", "phone_number", "external_id", "username", "web3_wallet", "user_id", "organization_id",
	"query", "email_address_query", "phone_number_query", "username_query", "name_query", "banned",
	"last_active_at_before", "last_active_at_after", "last_active_at_since", "created_at_before", "created_at_after",
	"last_sign_in_at_before", "last_sign_in_at_after", "provider", "provider_user_id",
}

// userFilter adds Clerk's user filters in q to w. p qualifies the users
// table's columns ("" or "u."). Filters on identifiers the emulator has no
// model of (phone numbers, Web3 wallets, OAuth providers) match no user,
// which is Clerk's answer for users who have none.
func userFilter(w *where, q url.Values, p string) error {
	lower := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = strings.ToLower(strings.TrimSpace(v))
		}
		return out
	}
	if v := q["email_address"]; len(v) > 0 {
		w.add("lower("+p+"email) = ANY(%s)", lower(v))
	}
	if v := q["external_id"]; len(v) > 0 {
		w.add(p+"external_id = ANY(%s)", v)
	}
	if v := q["username"]; len(v) > 0 {
		w.add("lower("+p+"username) = ANY(%s)", lower(v))
	}
	for _, name := range []string{"phone_number", "web3_wallet", "provider", "provider_user_id", "phone_number_query"} {
		if q.Get(name) != "" {
			w.add("false")
		}
	}
	if inc, exc := includeExclude(q["user_id"]); len(inc)+len(exc) > 0 {
		if len(inc) > 0 {
			w.add(p+"id = ANY(%s)", inc)
		}
		if len(exc) > 0 {
			w.add("NOT ("+p+"id = ANY(%s))", exc)
		}
	}
	if inc, exc := includeExclude(q["organization_id"]); len(inc)+len(exc) > 0 {
		if len(inc) > 0 {
			w.add(p+"id IN (SELECT user_id FROM clerkemu.memberships WHERE org_id = ANY(%s))", inc)
		}
		if len(exc) > 0 {
			w.add(p+"id NOT IN (SELECT user_id FROM clerkemu.memberships WHERE org_id = ANY(%s))", exc)
		}
	}
	if v := q.Get("query"); v != "" {
		w.add("(concat_ws(' ', "+p+"id, "+p+"email, "+p+"username, "+p+"first_name, "+p+"last_name) ILIKE %s)", likePattern(v))
	}
	if v := q.Get("email_address_query"); v != "" {
		w.add(p+"email ILIKE %s", likePattern(v))
	}
	if v := q.Get("username_query"); v != "" {
		w.add(p+"username ILIKE %s", likePattern(v))
	}
	if v := q.Get("name_query"); v != "" {
		w.add("concat_ws(' ', "+p+"first_name, "+p+"last_name) ILIKE %s", likePattern(v))
	}
	banned, err := boolParam(q, "banned")
	if err != nil {
		return err
	}
	if banned != nil {
		w.add(p+"banned = %s", *banned)
	}
	return timeFilters(w, q, p, map[string]string{
		"last_active_at_before": "last_active_at <", "last_active_at_after": "last_active_at >",
		"last_active_at_since": "last_active_at >=", "created_at_before": "created_at <", "created_at_after": "created_at >",
		"last_sign_in_at_before": "last_sign_in_at <", "last_sign_in_at_after": "last_sign_in_at >",
	})
}

// timeFilters adds Unix-millisecond range filters: each query parameter in
// ops maps to "column operator".
func timeFilters(w *where, q url.Values, p string, ops map[string]string) error {
	for name, op := range ops {
		v, err := int64Param(q, name)
		if err != nil {
			return err
		}
		if v != nil {
			w.add(p+op+" %s", *v)
		}
	}
	return nil
}

var userOrder = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "email_address": "email", "first_name": "first_name",
	"last_name": "last_name", "username": "username", "last_active_at": "last_active_at", "last_sign_in_at": "last_sign_in_at",
}

// handleListUsers answers with a bare array, as Clerk's GET /users does.
func (e *Emulator) handleListUsers(w http.ResponseWriter, r *http.Request) {
	q, pg, err := listQuery(r, append(userListParams, "order_by")...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	if err := userFilter(&wh, q, ""); err != nil {
		e.fail(w, r, err)
		return
	}
	order, err := orderBy(q, userOrder, "id", "created_at DESC, id DESC")
	if err != nil {
		e.fail(w, r, err)
		return
	}
	rows, err := many[userRow](r.Context(), e.pool, "SELECT "+userCols+" FROM clerkemu.users"+wh.sql()+
		" ORDER BY "+order+" LIMIT "+wh.next()+" OFFSET $"+itoa(len(wh.args)+2), append(wh.args, pg.limit, pg.offset)...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := make([]*userJSON, len(rows))
	for i, u := range rows {
		out[i] = e.userJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCountUsers counts the users the filters select. limit, offset and
// order_by do not change a count; clerk-sdk-go's user.List sends them here
// too, and Clerk accepts them.
func (e *Emulator) handleCountUsers(w http.ResponseWriter, r *http.Request) {
	q, err := checkQuery(r, append(userListParams, "limit", "offset", "order_by")...)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	if err := userFilter(&wh, q, ""); err != nil {
		e.fail(w, r, err)
		return
	}
	var n int64
	if err := e.pool.QueryRow(r.Context(), "SELECT count(*) FROM clerkemu.users"+wh.sql(), wh.args...).Scan(&n); err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "total_count", "total_count": n})
}

func (e *Emulator) handleGetUser(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
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

func (e *Emulator) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EmailAddress            []string         `json:"email_address"`
		Password                string           `json:"password"`
		PasswordDigest          opt[string]      `json:"password_digest"`
		PasswordHasher          opt[string]      `json:"password_hasher"`
		SkipPasswordChecks      bool             `json:"skip_password_checks"`
		SkipPasswordRequirement bool             `json:"skip_password_requirement"`
		FirstName               string           `json:"first_name"`
		LastName                string           `json:"last_name"`
		Username                string           `json:"username"`
		ExternalID              string           `json:"external_id"`
		Locale                  string           `json:"locale"`
		PublicMetadata          *json.RawMessage `json:"public_metadata"`
		PrivateMetadata         *json.RawMessage `json:"private_metadata"`
		UnsafeMetadata          *json.RawMessage `json:"unsafe_metadata"`
		CreatedAt               opt[string]      `json:"created_at"`
		LegalAcceptedAt         opt[string]      `json:"legal_accepted_at"`
		SkipLegalChecks         bool             `json:"skip_legal_checks"`
		CreateOrgEnabled        *bool            `json:"create_organization_enabled"`
		CreateOrgsLimit         *int64           `json:"create_organizations_limit"`
		DeleteSelfEnabled       *bool            `json:"delete_self_enabled"`
		Banned                  bool             `json:"banned"`
		Locked                  bool             `json:"locked"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	switch len(in.EmailAddress) {
	case 0:
		e.fail(w, r, invalidParam("form_param_missing", "email_address", "email_address is required: the emulated instance identifies users by email address"))
		return
	case 1:
	default:
		e.fail(w, r, unsupportedValue("email_address", "The Clerk emulator supports one email address per user."))
		return
	}
	n := newUser{Email: in.EmailAddress[0], Password: in.Password, SkipPasswordChecks: in.SkipPasswordChecks,
		FirstName: in.FirstName, LastName: in.LastName, Username: in.Username, ExternalID: in.ExternalID, Locale: in.Locale,
		CreateOrgEnabled: in.CreateOrgEnabled, CreateOrgsLimit: in.CreateOrgsLimit, DeleteSelfEnabled: in.DeleteSelfEnabled,
		Banned: in.Banned, Locked: in.Locked}
	var err error
	if n.PasswordHash, err = passwordDigest(in.PasswordDigest, in.PasswordHasher); err == nil && n.PasswordHash != nil && in.Password != "" {
		err = invalidParam("form_param_value_invalid", "password_digest", "give either password or password_digest, not both")
	}
	if err == nil {
		n.CreatedAt, err = rfc3339Millis("created_at", in.CreatedAt)
	}
	if err == nil {
		n.LegalAcceptedAt, err = rfc3339Millis("legal_accepted_at", in.LegalAcceptedAt)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	for _, p := range []struct {
		dst *json.RawMessage
		src *json.RawMessage
	}{{&n.PublicMD, in.PublicMetadata}, {&n.PrivateMD, in.PrivateMetadata}, {&n.UnsafeMD, in.UnsafeMetadata}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	var u *userRow
	err = e.tx(r.Context(), func(tx pgx.Tx) error {
		var err error
		u, err = e.createUser(r.Context(), tx, n)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.userJSON(u))
}

// handleUpdateUser changes the fields the body names; null clears a
// nullable one.
func (e *Emulator) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExternalID                opt[string] `json:"external_id"`
		FirstName                 opt[string] `json:"first_name"`
		LastName                  opt[string] `json:"last_name"`
		Username                  opt[string] `json:"username"`
		Locale                    opt[string] `json:"locale"`
		Password                  opt[string] `json:"password"`
		PasswordDigest            opt[string] `json:"password_digest"`
		PasswordHasher            opt[string] `json:"password_hasher"`
		SkipPasswordChecks        bool        `json:"skip_password_checks"`
		SignOutOfOtherSessions    bool        `json:"sign_out_of_other_sessions"`
		PrimaryEmailAddressID     opt[string] `json:"primary_email_address_id"`
		NotifyPrimaryEmailChanged bool        `json:"notify_primary_email_address_changed"`
		DeleteSelfEnabled         opt[bool]   `json:"delete_self_enabled"`
		CreateOrgEnabled          opt[bool]   `json:"create_organization_enabled"`
		CreateOrgsLimit           opt[int64]  `json:"create_organizations_limit"`
		LegalAcceptedAt           opt[string] `json:"legal_accepted_at"`
		SkipLegalChecks           bool        `json:"skip_legal_checks"`
		CreatedAt                 opt[string] `json:"created_at"`
	}
	if err := decodeBody(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	var hash *string
	var err error
	switch {
	case in.Password.Set && (in.PasswordDigest.Set || in.PasswordHasher.Set):
		err = invalidParam("form_param_value_invalid", "password_digest", "give either password or password_digest, not both")
	case in.Password.Set:
		hash, err = e.hashPassword(in.Password.V, false, in.SkipPasswordChecks)
	default:
		hash, err = passwordDigest(in.PasswordDigest, in.PasswordHasher)
	}
	if err == nil && in.SignOutOfOtherSessions && hash == nil {
		err = invalidParam("form_param_value_invalid", "sign_out_of_other_sessions", "sign_out_of_other_sessions needs a new password")
	}
	legal, err2 := rfc3339Millis("legal_accepted_at", in.LegalAcceptedAt)
	created, err3 := rfc3339Millis("created_at", in.CreatedAt)
	if err = errors.Join(err, err2, err3); err != nil {
		e.fail(w, r, firstError(err))
		return
	}
	e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
		if in.PrimaryEmailAddressID.Set && in.PrimaryEmailAddressID.V != u.EmailID {
			return invalidParam("form_param_value_invalid", "primary_email_address_id",
				"primary_email_address_id must be one of the user's email addresses")
		}
		set := func(o opt[string]) (bool, *string) { return o.Set, nilIfBlank(o.ptr()) }
		setExt, ext := set(in.ExternalID)
		setFirst, first := set(in.FirstName)
		setLast, last := set(in.LastName)
		setUser, username := set(in.Username)
		setLocale, locale := set(in.Locale)
		var pwAt *int64
		if hash != nil {
			pwAt = strp64(e.nowMS())
		}
		_, err := tx.Exec(ctx, `UPDATE clerkemu.users SET
			external_id = CASE WHEN $2 THEN $3 ELSE external_id END,
			first_name = CASE WHEN $4 THEN $5 ELSE first_name END,
			last_name = CASE WHEN $6 THEN $7 ELSE last_name END,
			username = CASE WHEN $8 THEN $9 ELSE username END,
			locale = CASE WHEN $10 THEN $11 ELSE locale END,
			password_hash = COALESCE($12, password_hash), password_updated_at = COALESCE($13, password_updated_at),
			delete_self_enabled = COALESCE($14, delete_self_enabled),
			create_organization_enabled = COALESCE($15, create_organization_enabled),
			create_organizations_limit = CASE WHEN $16 THEN $17 ELSE create_organizations_limit END,
			legal_accepted_at = CASE WHEN $18 THEN $19 ELSE legal_accepted_at END,
			created_at = COALESCE($20, created_at)
			WHERE id = $1`,
			u.ID, setExt, ext, setFirst, first, setLast, last, setUser, username, setLocale, locale, hash, pwAt,
			in.DeleteSelfEnabled.ptr(), in.CreateOrgEnabled.ptr(), in.CreateOrgsLimit.Set, in.CreateOrgsLimit.ptr(),
			in.LegalAcceptedAt.Set, legal, created)
		if err != nil {
			return uniqueUserError(err)
		}
		if in.SignOutOfOtherSessions {
			return e.endUserSessions(ctx, tx, u.ID, "revoked")
		}
		return nil
	})
}

// handleUserMetadata updates a user's metadata: PATCH merges as Clerk does
// (nested objects merge, null deletes a key), PUT replaces each field given.
func (e *Emulator) handleUserMetadata(apply func(base, patch json.RawMessage) (json.RawMessage, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PublicMetadata  opt[json.RawMessage] `json:"public_metadata"`
			PrivateMetadata opt[json.RawMessage] `json:"private_metadata"`
			UnsafeMetadata  opt[json.RawMessage] `json:"unsafe_metadata"`
		}
		if err := decodeBody(r, &in); err != nil {
			e.fail(w, r, err)
			return
		}
		e.updateUser(w, r, func(ctx context.Context, tx pgx.Tx, u *userRow) error {
			pub, priv, unsafe := u.PublicMD, u.PrivateMD, u.UnsafeMD
			for _, p := range []metadataPatch{{"public_metadata", &pub, in.PublicMetadata},
				{"private_metadata", &priv, in.PrivateMetadata}, {"unsafe_metadata", &unsafe, in.UnsafeMetadata}} {
				if err := p.apply(apply); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE clerkemu.users SET public_metadata = $2, private_metadata = $3,
				unsafe_metadata = $4 WHERE id = $1`, u.ID, pub, priv, unsafe)
			return err
		})
	}
}

// updateUser runs change on the user named in the path, bumps updated_at,
// queues user.updated and answers with the new user.
func (e *Emulator) updateUser(w http.ResponseWriter, r *http.Request, change func(context.Context, pgx.Tx, *userRow) error) {
	ctx := r.Context()
	var u *userRow
	err := e.tx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = e.changeUser(ctx, tx, r.PathValue("id"), change)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.userJSON(u))
}

// changeUser locks a user, runs change, bumps updated_at and queues
// user.updated; it returns the user as changed.
func (e *Emulator) changeUser(ctx context.Context, tx pgx.Tx, id string, change func(context.Context, pgx.Tx, *userRow) error) (*userRow, error) {
	old, err := one[userRow](ctx, tx, "SELECT "+userCols+" FROM clerkemu.users WHERE id = $1 FOR UPDATE", id)
	if err != nil {
		return nil, err
	}
	if err := change(ctx, tx, old); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "UPDATE clerkemu.users SET updated_at = $2 WHERE id = $1", old.ID, e.nowMS()); err != nil {
		return nil, err
	}
	if err := e.emitUser(ctx, tx, "user.updated", old.ID); err != nil {
		return nil, err
	}
	return getUser(ctx, tx, old.ID)
}

func (e *Emulator) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if err := decodeBody(r, &struct{}{}); err != nil {
		e.fail(w, r, err)
		return
	}
	err := e.tx(ctx, func(tx pgx.Tx) error { return e.deleteUser(ctx, tx, id) })
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON("user", id))
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
	data := deletedJSON("user", id)
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
	q, pg, err := listQuery(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if _, err := getUser(r.Context(), e.pool, r.PathValue("id")); err != nil {
		e.fail(w, r, err)
		return
	}
	var wh where
	wh.add("m.user_id = %s", r.PathValue("id"))
	e.listMemberships(w, r, q, pg, &wh)
}

func nilIfBlank(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}

func strp64(n int64) *int64 { return &n }

// firstError unwraps errors.Join so the caller gets one Clerk error.
func firstError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 0 {
		return j.Unwrap()[0]
	}
	return err
}
