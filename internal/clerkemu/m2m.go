package clerkemu

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5"
)

type machineRow struct {
	ID              string   `db:"id"`
	Name            string   `db:"name"`
	SecretKey       string   `db:"secret_key"`
	ScopedMachines  []string `db:"scoped_machines"`
	DefaultTokenTTL int64    `db:"default_token_ttl"`
	CreatedAt       int64    `db:"created_at"`
	UpdatedAt       int64    `db:"updated_at"`
}

type m2mTokenRow struct {
	ID               string          `db:"id"`
	MachineID        string          `db:"machine_id"`
	Scopes           []string        `db:"scopes"`
	Claims           json.RawMessage `db:"claims"`
	Revoked          bool            `db:"revoked"`
	RevocationReason *string         `db:"revocation_reason"`
	Expiration       *int64          `db:"expiration"`
	LastUsedAt       *int64          `db:"last_used_at"`
	CreatedAt        int64           `db:"created_at"`
	UpdatedAt        int64           `db:"updated_at"`
}

const (
	machineCols  = `id, name, secret_key, scoped_machines, default_token_ttl, created_at, updated_at`
	m2mTokenCols = `id, machine_id, scopes, claims, revoked, revocation_reason, expiration, last_used_at, created_at, updated_at`
)

func (e *Emulator) machineRoutes(h func(string, http.HandlerFunc)) {
	h("POST /machines", e.handleCreateMachine)
	h("GET /machines", e.handleListMachines)
	h("GET /machines/{id}", e.handleGetMachine)
	h("GET /machines/{id}/secret_key", e.handleMachineSecret)
	h("DELETE /machines/{id}", e.handleDeleteMachine)
	h("POST /m2m_tokens/{id}/revoke", e.handleRevokeM2MToken)
}

func (e *Emulator) machineJSON(ctx context.Context, m *machineRow) (*clerk.MachineWithScopedMachines, error) {
	out := &clerk.MachineWithScopedMachines{Machine: clerk.Machine{Object: "machine", ID: m.ID, Name: m.Name,
		InstanceID: e.kid, DefaultTokenTTL: m.DefaultTokenTTL, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt},
		ScopedMachines: []*clerk.Machine{}}
	scoped, err := many[machineRow](ctx, e.pool, "SELECT "+machineCols+" FROM clerkemu.machines WHERE id = ANY($1) ORDER BY created_at", m.ScopedMachines)
	if err != nil {
		return nil, err
	}
	for _, s := range scoped {
		out.ScopedMachines = append(out.ScopedMachines, &clerk.Machine{Object: "machine", ID: s.ID, Name: s.Name,
			InstanceID: e.kid, DefaultTokenTTL: s.DefaultTokenTTL, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
	}
	return out, nil
}

func (e *Emulator) handleCreateMachine(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name            string   `json:"name"`
		ScopedMachines  []string `json:"scoped_machines"`
		DefaultTokenTTL *int64   `json:"default_token_ttl"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		e.fail(w, r, invalid("form_param_missing", "name is required"))
		return
	}
	ttl := int64(3600)
	if in.DefaultTokenTTL != nil && *in.DefaultTokenTTL > 0 {
		ttl = *in.DefaultTokenTTL
	}
	if in.ScopedMachines == nil {
		in.ScopedMachines = []string{}
	}
	now := e.nowMS()
	m := &machineRow{ID: newID("mch"), Name: in.Name, SecretKey: "ak_" + randomHex(24), ScopedMachines: in.ScopedMachines,
		DefaultTokenTTL: ttl, CreatedAt: now, UpdatedAt: now}
	_, err := e.pool.Exec(r.Context(), `INSERT INTO clerkemu.machines (`+machineCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.ID, m.Name, m.SecretKey, m.ScopedMachines, m.DefaultTokenTTL, m.CreatedAt, m.UpdatedAt)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out, err := e.machineJSON(r.Context(), m)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clerk.MachineWithScopedMachinesAndSecretKey{MachineWithScopedMachines: *out, SecretKey: m.SecretKey})
}

func (e *Emulator) handleListMachines(w http.ResponseWriter, r *http.Request) {
	pg, err := pageOf(r)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var total int64
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM clerkemu.machines").Scan(&total); err != nil {
		e.fail(w, r, err)
		return
	}
	rows, err := many[machineRow](ctx, e.pool, "SELECT "+machineCols+" FROM clerkemu.machines ORDER BY created_at DESC, id LIMIT $1 OFFSET $2", pg.limit, pg.offset)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := list[*clerk.MachineWithScopedMachines]{Data: make([]*clerk.MachineWithScopedMachines, len(rows)), TotalCount: total}
	for i, m := range rows {
		if out.Data[i], err = e.machineJSON(ctx, m); err != nil {
			e.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) handleGetMachine(w http.ResponseWriter, r *http.Request) {
	m, err := one[machineRow](r.Context(), e.pool, "SELECT "+machineCols+" FROM clerkemu.machines WHERE id = $1", r.PathValue("id"))
	if err == nil {
		var out *clerk.MachineWithScopedMachines
		if out, err = e.machineJSON(r.Context(), m); err == nil {
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	e.fail(w, r, err)
}

func (e *Emulator) handleMachineSecret(w http.ResponseWriter, r *http.Request) {
	m, err := one[machineRow](r.Context(), e.pool, "SELECT "+machineCols+" FROM clerkemu.machines WHERE id = $1", r.PathValue("id"))
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clerk.MachineSecretKey{Object: "machine_secret_key", Secret: m.SecretKey})
}

func (e *Emulator) handleDeleteMachine(w http.ResponseWriter, r *http.Request) {
	tag, err := e.pool.Exec(r.Context(), "DELETE FROM clerkemu.machines WHERE id = $1", r.PathValue("id"))
	if err == nil && tag.RowsAffected() == 0 {
		err = errNotFound
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, clerk.DeletedResource{Object: "machine", ID: r.PathValue("id"), Deleted: true})
}

// AppMachineName names the machine that stands for the app itself: the
// app verifies machine tokens with its secret key, as a Clerk app does with
// CLERK_MACHINE_SECRET_KEY, so only machines scoped to it get in.
const AppMachineName = "app"

// AppMachine returns the id and secret key of the app's own machine,
// creating it on first use. The emulator hands it to the app the way it
// hands over its instance secret key; other machines reach the app's machine
// routes once they are scoped to it (POST /machines {"scoped_machines":
// [id]}, or POST /machines/{id}/scopes).
func (e *Emulator) AppMachine(ctx context.Context) (id, secretKey string, err error) {
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		// Two processes starting on one fresh database must create one
		// machine, not two.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('clerkemu.app_machine'))"); err != nil {
			return err
		}
		m, err := one[machineRow](ctx, tx, "SELECT "+machineCols+" FROM clerkemu.machines WHERE name = $1 ORDER BY created_at LIMIT 1", AppMachineName)
		if err == nil {
			id, secretKey = m.ID, m.SecretKey
			return nil
		}
		if !errors.Is(err, errNotFound) {
			return err
		}
		now := e.nowMS()
		id, secretKey = newID("mch"), "ak_"+randomHex(24)
		_, err = tx.Exec(ctx, `INSERT INTO clerkemu.machines (`+machineCols+`) VALUES ($1, $2, $3, '{}', 3600, $4, $4)`,
			id, AppMachineName, secretKey, now)
		return err
	})
	return id, secretKey, err
}

// machineBySecret authenticates a caller that presents a machine's ak_ key.
func (e *Emulator) machineBySecret(ctx context.Context, r *http.Request) (*machineRow, error) {
	key := bearer(r)
	if !strings.HasPrefix(key, "ak_") {
		return nil, errNotFound
	}
	m, err := one[machineRow](ctx, e.pool, "SELECT "+machineCols+" FROM clerkemu.machines WHERE secret_key = $1", key)
	if err != nil || subtle.ConstantTimeCompare([]byte(m.SecretKey), []byte(key)) != 1 {
		return nil, errNotFound
	}
	return m, nil
}

func m2mJSON(t *m2mTokenRow, now int64) *clerk.M2MToken {
	claims := t.Claims
	if len(claims) == 0 {
		claims = json.RawMessage("null")
	}
	return &clerk.M2MToken{Object: "machine_to_machine_token", ID: t.ID, Subject: t.MachineID, Claims: claims,
		Scopes: t.Scopes, Revoked: t.Revoked, RevocationReason: t.RevocationReason,
		Expired: t.Expiration != nil && *t.Expiration <= now, Expiration: t.Expiration, LastUsedAt: t.LastUsedAt,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// handleCreateM2MToken issues an opaque mt_ token to the machine whose
// secret authenticates the call. Without seconds_until_expiration the token
// does not expire, as on Clerk.
func (e *Emulator) handleCreateM2MToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := e.machineBySecret(ctx, r)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "authentication_invalid", "a machine secret key is required")
		return
	}
	var in struct {
		SecondsUntilExpiration *int64           `json:"seconds_until_expiration"`
		Claims                 *json.RawMessage `json:"claims"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.nowMS()
	token := "mt_" + randomHex(32)
	t := &m2mTokenRow{ID: "mt_" + randomHex(16), MachineID: m.ID, Scopes: m.ScopedMachines, CreatedAt: now, UpdatedAt: now}
	if in.Claims != nil {
		if _, err := objectOrEmpty(in.Claims); err != nil {
			e.fail(w, r, invalid("form_param_format_invalid", "claims must be a JSON object"))
			return
		}
		t.Claims = *in.Claims
	}
	if in.SecondsUntilExpiration != nil && *in.SecondsUntilExpiration > 0 {
		exp := now + *in.SecondsUntilExpiration*1000
		t.Expiration = &exp
	}
	_, err = e.pool.Exec(ctx, `INSERT INTO clerkemu.m2m_tokens (id, token_hash, machine_id, scopes, claims, expiration, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, t.ID, hashToken(token), t.MachineID, t.Scopes, t.Claims, t.Expiration, now)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, clerk.M2MTokenWithToken{M2MToken: *m2mJSON(t, now), Token: token})
}

// handleVerifyM2MToken accepts the instance secret key (any token) or a
// machine secret (tokens scoped to that machine). Unknown, revoked and
// expired tokens all answer 404, so a caller that only checks for an error
// is safe.
func (e *Emulator) handleVerifyM2MToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var verifier *machineRow
	if !e.hasSecretKey(r) {
		m, err := e.machineBySecret(ctx, r)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
			return
		}
		verifier = m
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.nowMS()
	t, err := one[m2mTokenRow](ctx, e.pool, `UPDATE clerkemu.m2m_tokens SET last_used_at = $2 WHERE token_hash = $1
		RETURNING `+m2mTokenCols, hashToken(in.Token), now)
	switch {
	case err != nil:
		writeError(w, http.StatusNotFound, "token_invalid", "the M2M token is not valid")
	case t.Revoked:
		writeError(w, http.StatusNotFound, "token_invalid", "the M2M token has been revoked")
	case t.Expiration != nil && *t.Expiration <= now:
		writeError(w, http.StatusNotFound, "token_invalid", "the M2M token has expired")
	case verifier != nil && !slices.Contains(t.Scopes, verifier.ID):
		writeError(w, http.StatusNotFound, "token_invalid", fmt.Sprintf("the M2M token is not scoped to machine %s", verifier.ID))
	default:
		writeJSON(w, http.StatusOK, m2mJSON(t, now))
	}
}

func (e *Emulator) handleRevokeM2MToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RevocationReason *string `json:"revocation_reason"`
	}
	if err := decode(r, &in); err != nil {
		e.fail(w, r, err)
		return
	}
	now := e.nowMS()
	var t *m2mTokenRow
	err := pgx.BeginFunc(r.Context(), e.pool, func(tx pgx.Tx) error {
		var err error
		t, err = one[m2mTokenRow](r.Context(), tx, `UPDATE clerkemu.m2m_tokens SET revoked = true,
			revocation_reason = $2, updated_at = $3 WHERE id = $1 RETURNING `+m2mTokenCols, r.PathValue("id"), in.RevocationReason, now)
		return err
	})
	if err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m2mJSON(t, now))
}
