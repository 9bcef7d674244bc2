package clerkemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/testdb"
)

func testPool(t *testing.T) *pgxpool.Pool { return testdb.Pool(t) }

func countRows(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	first := newHarnessOn(t, pool)
	b := first.browser(t)
	if resp, body := b.post("/v1/client/sign_ups", url.Values{"email_address": {"kept@example.test"}, "password": {DevPassword}}); resp.StatusCode != 200 {
		t.Fatalf("sign up: %v", body)
	}
	first.drain(t)
	first.stop()

	second := newHarnessOn(t, pool)
	if second.e.InstanceID() != first.e.InstanceID() || second.e.WebhookSecret() != first.e.WebhookSecret() ||
		second.e.PublicKeyPEM() != first.e.PublicKeyPEM() {
		t.Fatal("keys or webhook secret changed across restarts")
	}
	if n := countRows(t, pool, "SELECT count(*) FROM clerkemu.users"); n != 5 {
		t.Fatalf("users after restart = %d, want 4 seeded + 1", n)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM clerkemu.outbox WHERE event_type = 'organization.created'"); n != 2 {
		t.Fatalf("the seed ran again: %d organization.created events", n)
	}
	second.browser(t).signIn("kept@example.test")

	t.Run("Reset", func(t *testing.T) {
		if err := second.e.Reset(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, pool, "SELECT count(*) FROM clerkemu.users"); n != 4 {
			t.Fatalf("users after reset = %d", n)
		}
		if n := countRows(t, pool, "SELECT count(*) FROM clerkemu.instance"); n != 1 {
			t.Fatal("reset must keep the instance keys")
		}
	})
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		remote string
		want   int
	}{{"203.0.113.9:4000", http.StatusForbidden}, {"10.0.0.2:1", http.StatusForbidden}, {"127.0.0.1:9", http.StatusOK}, {"[::1]:9", http.StatusOK}} {
		req := httptest.NewRequest(http.MethodGet, MountPath+"/v1/environment", nil)
		req.RemoteAddr = tc.remote
		req.Header.Set("X-Forwarded-For", "127.0.0.1") // must not help
		rec := httptest.NewRecorder()
		h.e.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.remote, rec.Code, tc.want)
		}
	}
}

func TestProductionRefused(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://localhost:8080")
	for _, env := range []string{"production", "Production "} {
		_, err := New(context.Background(), Config{BaseURL: base, Pool: nil, Env: env})
		if !errors.Is(err, ErrProduction) {
			t.Fatalf("Env %q: err = %v", env, err)
		}
	}
}

func TestInvitationAcceptPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	acme, _ := getOrg(ctx, h.e.pool, "acme")
	var inv invitationWire
	err := h.postJSON("/organizations/"+acme.ID+"/invitations",
		map[string]any{"email_address": "newbie@example.test", "role": "org:member", "redirect_url": h.srv.URL + "/welcome"}, &inv)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.SplitN(inv.URL, "token=", 2)[1]
	b := h.browser(t)

	page, err := b.c.Get(inv.URL)
	if err != nil || page.StatusCode != 200 || !strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page: %v %v", page, err)
	}
	page.Body.Close()

	resp, _ := b.post("/accept-invitation", url.Values{"token": {token}, "password": {"short"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a short password must be refused, got %d", resp.StatusCode)
	}
	resp, _ = b.post("/accept-invitation", url.Values{"token": {token}, "password": {"longenough"}, "first_name": {"New"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != h.srv.URL+"/welcome" {
		t.Fatalf("accept: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == "__session" {
			session = c.Value
		}
	}
	claims, err := h.verify(t, session)
	if err != nil || claims.ActiveOrganizationID != acme.ID || claims.ActiveOrganizationRole != "org:member" {
		t.Fatalf("session after accepting = %+v, %v", claims, err)
	}
	h.drain(t)
	types := h.rec.types()
	if !containsInOrder(types, "user.created", "organizationMembership.created", "organizationInvitation.accepted", "session.created") {
		_, outTypes := outboxLog(t, h)
		t.Fatalf("events = %v\noutbox = %v", types, outTypes)
	}
	if again, _ := b.get("/accept-invitation?token=" + token); again.StatusCode != http.StatusNotFound {
		t.Fatalf("a used invitation must not be shown again: %d", again.StatusCode)
	}
}

func containsInOrder(list []string, want ...string) bool {
	i := 0
	for _, s := range list {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}
