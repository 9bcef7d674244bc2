package clerkemu

import (
	"context"
	"errors"
	"io"
	"net"
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
	host := h.e.cfg.BaseURL.Host
	for _, tc := range []struct {
		remote string
		want   int
	}{{"203.0.113.9:4000", http.StatusForbidden}, {"10.0.0.2:1", http.StatusForbidden}, {"127.0.0.1:9", http.StatusOK}, {"[::1]:9", http.StatusOK}} {
		req := httptest.NewRequest(http.MethodGet, MountPath+"/v1/environment", nil)
		req.RemoteAddr, req.Host = tc.remote, host
		rec := httptest.NewRecorder()
		h.e.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.remote, rec.Code, tc.want)
		}
	}
}

// TestRefusesProxiedRequests: a reverse proxy, load balancer or tunnel on
// the same machine makes every request look local; the headers it adds
// give it away, and the emulator refuses the request.
func TestRefusesProxiedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, header := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP",
		"Via", "CF-Connecting-IP", "True-Client-IP", "x-forwarded-for"} {
		t.Run(header, func(t *testing.T) {
			for _, path := range []string{"/v1/environment", "/v1/users"} {
				req, _ := http.NewRequest(http.MethodGet, h.e.Issuer()+path, nil)
				req.Header.Set(header, "127.0.0.1")
				req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
				resp, body := do(t, req)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "proxied") {
					t.Fatalf("%s with %s: %d %s", path, header, resp.StatusCode, body)
				}
			}
		})
	}
}

// TestRefusesForeignHost: a page on another site whose DNS name is rebound
// to 127.0.0.1 sends its own Host; the emulator answers BASE_URL's host
// only, Backend API included.
func TestRefusesForeignHost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, port, _ := net.SplitHostPort(h.e.cfg.BaseURL.Host)
	for _, host := range []string{"evil.example:" + port, "localhost:" + port, "127.0.0.2:" + port} {
		for _, path := range []string{"/v1/environment", "/v1/users", "/.well-known/jwks.json"} {
			req, _ := http.NewRequest(http.MethodGet, h.e.Issuer()+path, nil)
			req.Host = host
			req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
			if resp, body := do(t, req); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "host_invalid") {
				t.Errorf("Host %q %s: %d %s", host, path, resp.StatusCode, body)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, h.e.Issuer()+"/v1/users", nil)
	req.Host = strings.ToUpper(h.e.cfg.BaseURL.Host)
	req.Header.Set("Authorization", "Bearer "+h.e.SecretKey())
	if resp, body := do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatalf("BASE_URL's host in capitals: %d %s", resp.StatusCode, body)
	}
}

// TestRefusesNonLoopbackBaseURL: the emulator does not start on an origin
// other machines can reach.
func TestRefusesNonLoopbackBaseURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"https://app.example.com", "http://192.168.1.10:8080", "http://0.0.0.0:8080", "http://[2001:db8::1]:8080",
		"http://localhost.example.com:8080"} {
		base, _ := url.Parse(raw)
		_, err := New(context.Background(), Config{BaseURL: base, Env: "development"})
		if !errors.Is(err, ErrNotLoopback) || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: err = %v", raw, err)
		}
	}
	for _, raw := range []string{"http://localhost:8080", "http://LOCALHOST:1", "http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:8080"} {
		base, _ := url.Parse(raw)
		if _, err := New(context.Background(), Config{BaseURL: base, Env: "development"}); errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s refused: %v", raw, err)
		}
	}
}

// do sends req and returns the response with its body read.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
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
	var inv orgInvitationJSON
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
