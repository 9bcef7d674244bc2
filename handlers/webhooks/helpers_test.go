package webhooks_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/saasstarter/saas/handlers/webhooks"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/routes"
	"github.com/saasstarter/saas/internal/testdb"
)

// env is one test's world: a fresh database, a Syncer over it, and an Echo
// server that has only the webhook route.
type env struct {
	t      testing.TB
	pool   *pgxpool.Pool
	syncer *clerksync.Syncer
	url    string
	secret string
	signer *svix.Webhook
	dbURL  string
}

func newSecret(t testing.TB) string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func newEnv(t testing.TB, opts clerksync.Options, maxConns int32) *env {
	t.Helper()
	return newEnvWithTimeout(t, opts, maxConns, 0)
}

// newEnvWithTimeout is newEnv with the handler's per-delivery timeout set
// (0: the default).
func newEnvWithTimeout(t testing.TB, opts clerksync.Options, maxConns int32, timeout time.Duration) *env {
	t.Helper()
	dbURL := testdb.New(t)
	pool, err := database.Open(context.Background(), dbURL, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	secret := newSecret(t)
	v, err := clerksync.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	opts.Logger = quiet
	syncer := clerksync.New(pool, opts)
	e := echo.New()
	webhooks.New(webhooks.Config{Verifier: v, Syncer: syncer, Logger: quiet, Timeout: timeout}).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, pool: pool, syncer: syncer, url: srv.URL + routes.Webhook, secret: secret, signer: signer, dbURL: dbURL}
}

var msgSeq atomic.Int64

// newMsgID returns a fresh Svix message id.
func newMsgID() string { return fmt.Sprintf("msg_test_%d_%d", time.Now().UnixNano(), msgSeq.Add(1)) }

// signed returns the svix headers for body, signed at ts.
func (e *env) signed(id string, ts time.Time, body []byte) http.Header {
	sig, err := e.signer.Sign(id, ts, body)
	if err != nil {
		e.t.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", id)
	h.Set("svix-timestamp", fmt.Sprint(ts.Unix()))
	h.Set("svix-signature", sig)
	return h
}

type reply struct {
	status int
	body   string
}

// post sends body with headers to the webhook route.
func (e *env) post(h http.Header, body []byte) reply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b)}
}

// deliver signs body now under a fresh message id and posts it.
func (e *env) deliver(body []byte) reply {
	e.t.Helper()
	return e.post(e.signed(newMsgID(), time.Now(), body), body)
}

// mustDeliver delivers body and fails unless it was answered 200.
func (e *env) mustDeliver(body []byte) {
	e.t.Helper()
	if r := e.deliver(body); r.status != http.StatusOK || r.body != `{"ok":true}`+"\n" {
		e.t.Fatalf("delivery answered %d %q, want 200 {\"ok\":true}", r.status, r.body)
	}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) str(query string, args ...any) string {
	e.t.Helper()
	var s string
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return s
}

// rowCounts counts every synced table, to show that nothing was written.
func (e *env) rowCounts() map[string]int {
	out := map[string]int{}
	for _, tbl := range []string{"users", "organizations", "memberships", "invitations", "webhook_events", "revoked_sessions"} {
		out[tbl] = e.count("SELECT count(*) FROM " + tbl)
	}
	return out
}

func (e *env) assertEmpty() {
	e.t.Helper()
	for tbl, n := range e.rowCounts() {
		if n != 0 {
			e.t.Errorf("%s has %d rows, want 0", tbl, n)
		}
	}
}

// Event builders. Times are Unix milliseconds, as Clerk sends them.

func envelope(typ string, data any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "event", "type": typ, "data": data,
		"timestamp": time.Now().UnixMilli(), "instance_id": "ins_test",
		"event_attributes": map[string]any{"http_request": map[string]any{"client_ip": "", "user_agent": ""}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func userData(id, first string, updated int64) map[string]any {
	return map[string]any{
		"object": "user", "id": id, "first_name": first, "last_name": "Doe",
		"image_url": "https://img.example/" + id, "primary_email_address_id": "idn_1",
		"email_addresses": []any{
			map[string]any{"id": "idn_0", "email_address": "other@example.com"},
			map[string]any{"id": "idn_1", "email_address": id + "@example.com"},
		},
		"public_metadata": map[string]any{}, "created_at": int64(1_700_000_000_000), "updated_at": updated,
	}
}

func userEvent(typ, id, first string, updated int64) []byte {
	return envelope(typ, userData(id, first, updated))
}

func orgData(id, name, plan string, updated int64) map[string]any {
	return map[string]any{
		"object": "organization", "id": id, "name": name, "slug": name, "image_url": "",
		"public_metadata": map[string]any{"plan": plan}, "created_at": int64(1_700_000_000_000), "updated_at": updated,
	}
}

func orgEvent(typ, id, name, plan string, updated int64) []byte {
	return envelope(typ, orgData(id, name, plan, updated))
}

func membershipEvent(typ, id, orgID, userID, role string, updated int64) []byte {
	return envelope(typ, map[string]any{
		"object": "organization_membership", "id": id, "role": role, "permissions": []string{"org:sys_memberships:read"},
		"organization": orgData(orgID, "stub-"+orgID, "pro", 1_700_000_000_500),
		"public_user_data": map[string]any{
			"user_id": userID, "first_name": "Stub", "last_name": nil, "image_url": nil, "identifier": userID + "@stub.example",
		},
		"created_at": int64(1_700_000_000_000), "updated_at": updated,
	})
}

func deletedEvent(typ, id string) []byte {
	return envelope(typ, map[string]any{"object": "x", "id": id, "deleted": true})
}

const webhooksMaxBody = webhooks.DefaultMaxBody
