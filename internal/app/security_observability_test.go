package app_test

// Observability as the security suite needs it: the access log names the
// request, user and organisation, and the socket peer rather than a spoofed
// client address; metrics label requests by route template only.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/metrics"
	"github.com/saasstarter/saas/internal/ratelimit"
)

// lockedBuffer is a log sink shared by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns every JSON log record written so far.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// startLogged is start with the app's log captured as JSON, as production
// writes it.
func startLogged(t *testing.T) (*testApp, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	return startWithLogger(t, slog.New(slog.NewJSONHandler(logs, nil))), logs
}

// claimsOf decodes a JWT's payload without verifying it (the app did).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAccessLogNamesRequestUserAndOrg: one access-log line per request with
// the request id the client saw, the verified user and organisation, the
// route template, and the socket peer as ip whatever X-Forwarded-For and
// X-Real-IP claim.
func TestAccessLogNamesRequestUserAndOrg(t *testing.T) {
	t.Parallel()
	ta, logs := startLogged(t)
	jwt := sessionToken(t, ta.Server, "alice@acme.test", "")
	claims := claimsOf(t, jwt)
	org, _ := claims["o"].(map[string]any)
	if org == nil || claims["sub"] == "" {
		t.Fatalf("token has no user or org: %v", claims)
	}
	res, _ := do(t, "GET", ta.URL+"/no-such-page", with(with(bearer(jwt), "X-Forwarded-For", "203.0.113.7"), "X-Real-IP", "203.0.113.8"), nil)
	reqID := res.Header.Get("X-Request-Id")
	if reqID == "" {
		t.Fatal("response has no X-Request-Id")
	}
	var line map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" && l["request_id"] == reqID {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no access-log line with request_id %s", reqID)
	}
	want := map[string]any{
		"method": "GET", "path": "/no-such-page", "status": float64(404),
		"user": claims["sub"], "org": org["id"], "ip": "127.0.0.1",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("access log has no duration: %v", line)
	}
	logs.mu.Lock()
	leaked := strings.Contains(logs.buf.String(), jwt)
	logs.mu.Unlock()
	if leaked {
		t.Error("the log contains a session token")
	}
}

// TestAccessLogLeavesOutHealthyProbes: successful /healthz and /readyz
// answers (a load balancer's every few seconds) write no access-log line; a
// failing probe does, as does every other request.
func TestAccessLogLeavesOutHealthyProbes(t *testing.T) {
	t.Parallel()
	ta, logs := startLogged(t)
	ids := map[string]string{}
	probe := func(name, path string, want int) {
		t.Helper()
		res, _ := do(t, "GET", ta.URL+path, nil, nil)
		if res.StatusCode != want {
			t.Fatalf("%s = %d, want %d", path, res.StatusCode, want)
		}
		ids[name] = res.Header.Get("X-Request-Id")
	}
	probe("healthz", "/healthz", http.StatusOK)
	probe("readyz", "/readyz", http.StatusOK)
	probe("page", "/no-such-page", http.StatusNotFound)
	ta.App.Drain()
	probe("draining", "/readyz", http.StatusServiceUnavailable)
	logged := map[string]bool{}
	for _, l := range logs.lines(t) {
		for name, id := range ids {
			if l["msg"] == "request" && l["request_id"] == id {
				logged[name] = true
			}
		}
	}
	want := map[string]bool{"healthz": false, "readyz": false, "page": true, "draining": true}
	for name, w := range want {
		if logged[name] != w {
			t.Errorf("%s: access-logged %v, want %v", name, logged[name], w)
		}
	}
}

// TestMetricsMeasureTheApp: the app's metrics count requests by route
// template and status class, the emulator's webhook deliveries by status
// and rate-limit refusals by route, and never turn a raw path into a label.
func TestMetricsMeasureTheApp(t *testing.T) {
	t.Parallel()
	ta := start(t, app.Options{RateLimit: ratelimit.Config{Limit: 2}})
	// One change in Clerk, so one webhook reaches the app.
	bapi(t, ta.Server, http.MethodPatch, "/users/"+userID(t, ta.Server, "bob@acme.test"), map[string]any{"first_name": "Robert"}, nil)
	ta.synced(t)
	get(t, ta.URL+"/healthz", nil)
	me := bearer(sessionToken(t, ta.Server, "alice@acme.test", ""))
	for range 3 {
		get(t, ta.URL+"/api/me", me)
	}
	get(t, ta.URL+"/static/../etc/passwd-"+strings.Repeat("z", 40), nil)
	rec := httptest.NewRecorder()
	ta.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, metrics.Path, nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`http_request_duration_seconds_count{method="GET",route="/healthz",status="2xx"} 1`,
		`webhook_deliveries_total{status="200"}`,
		`rate_limited_requests_total{route="/api/me"} 1`,
		// The same token three times: one full verification, two cache hits.
		"auth_token_cache_misses_total 1\n",
		"auth_token_cache_hits_total 2\n",
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "zzzz") {
		t.Error("a raw request path became a metric label")
	}
}
