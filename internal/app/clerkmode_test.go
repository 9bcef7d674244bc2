package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/auth/authtest"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/testdb"
)

// fakeBAPI is a stand-in for Clerk's Backend API that answers the routes a
// test registers ("POST /v1/m2m_tokens/verify") and counts every request
// by method and path, so tests can show what the app did or did not ask.
type fakeBAPI struct {
	*httptest.Server
	mu       sync.Mutex
	calls    map[string]int
	handlers map[string]http.HandlerFunc
}

func newFakeBAPI(t testing.TB) *fakeBAPI {
	f := &fakeBAPI{calls: map[string]int{}, handlers: map[string]http.HandlerFunc{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		f.mu.Lock()
		f.calls[key]++
		h := f.handlers[key]
		f.mu.Unlock()
		if h == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"resource_not_found","message":"not found"}]}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// handle answers method and path (e.g. "GET /v1/instance") with h.
func (f *fakeBAPI) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[route] = h
}

// count is how many requests reached method and path; with a trailing "*"
// the path is a prefix.
func (f *fakeBAPI) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := strings.CutSuffix(route, "*"); ok {
		n := 0
		for k, v := range f.calls {
			if strings.HasPrefix(k, p) {
				n += v
			}
		}
		return n
	}
	return f.calls[route]
}

// total is how many requests reached the fake at all.
func (f *fakeBAPI) total() int { return f.count("*") }

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// clerkWebhookSecret signs the webhooks of startClerk's app.
const clerkWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// startClerk runs the app in Clerk mode (production settings, a local key
// standing in for the instance's) against fake as its Backend API, with env
// added to or overriding the base settings.
func startClerk(t testing.TB, fake *fakeBAPI, env map[string]string, opts ...app.Options) *prodApp {
	t.Helper()
	return startClerkLogged(t, fake, env, slog.New(slog.DiscardHandler), opts...)
}

// startClerkLogged is startClerk with the app logging to logger.
func startClerkLogged(t testing.TB, fake *fakeBAPI, env map[string]string, logger *slog.Logger, opts ...app.Options) *prodApp {
	t.Helper()
	iss := authtest.NewIssuer(t, "ins_test_kid")
	base := map[string]string{
		"APP_ENV":                      "production",
		"BASE_URL":                     prodBaseURL,
		"SESSION_SECRET":               "prod-session-secret-0123456789abcdef0123456789",
		"CLERK_SECRET_KEY":             "sk_live_0123456789abcdef",
		"CLERK_PUBLISHABLE_KEY":        prodPK,
		"CLERK_JWT_KEY":                iss.PEM(),
		"CLERK_WEBHOOK_SIGNING_SECRET": clerkWebhookSecret,
		"CLERK_API_URL":                fake.URL + "/v1",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, testdb.Pool(t), logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return &prodApp{Server: srv, App: a, Config: cfg, issuer: iss}
}

var webhookSeq atomic.Int64

// deliver signs a Clerk event (type, data, instance) with the app's webhook
// secret, posts it, and returns the status.
func (p *prodApp) deliver(t testing.TB, typ, instance string, data map[string]any) int {
	t.Helper()
	body, err := json.Marshal(map[string]any{"object": "event", "type": typ, "instance_id": instance,
		"timestamp": time.Now().UnixMilli(), "data": data})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := svix.NewWebhook(clerkWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("msg_%d_%d", time.Now().UnixNano(), webhookSeq.Add(1))
	now := time.Now()
	sig, err := wh.Sign(id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := do(t, http.MethodPost, p.URL+"/api/webhooks/clerk", map[string]string{
		"Content-Type": "application/json", "svix-id": id, "svix-timestamp": fmt.Sprint(now.Unix()), "svix-signature": sig,
	}, strings.NewReader(string(body)))
	return res.StatusCode
}

// testInstance is the Clerk instance of startClerk's app in tests that pin
// it with CLERK_INSTANCE_ID.
const testInstance = "ins_testinstance0001"

// seedMember delivers an organizationMembership.created event of instance,
// which creates the organisation and the user (as stubs) with the
// membership.
func (p *prodApp) seedMember(t testing.TB, instance, orgID, userID, role string) {
	t.Helper()
	ms := time.Now().UnixMilli()
	status := p.deliver(t, "organizationMembership.created", instance, map[string]any{
		"object": "organization_membership", "id": "orgmem_" + userID[len("user_"):], "role": role,
		"organization": map[string]any{"object": "organization", "id": orgID, "name": "Acme", "slug": "acme",
			"public_metadata": map[string]any{"plan": "free"}, "created_at": ms, "updated_at": ms},
		"public_user_data": map[string]any{"user_id": userID, "first_name": "Ada", "identifier": userID + "@example.com"},
		"created_at":       ms, "updated_at": ms,
	})
	if status != http.StatusOK {
		t.Fatalf("membership webhook = %d", status)
	}
}
