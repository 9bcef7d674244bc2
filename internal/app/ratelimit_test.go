package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/ratelimit"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// TestRateLimit: a small limit through app.Options and an injected clock
// (no sleeping): per-user counters, the headers on every /api response, 429
// with Retry-After, a new window, and one counter shared by two instances
// of the app on the same database.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)}
	cfg := ratelimit.Config{Limit: 3, Window: time.Minute, Now: clock.Now}
	ta := start(t, app.Options{RateLimit: cfg})
	s := seedProduct(t, ta)
	alice, bob := s.tok["alice@acme.test/acme"], s.tok["bob@acme.test/acme"]

	hit := func(t *testing.T, base, token, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}

	t.Run("HeadersAndBurst", func(t *testing.T) {
		for i, path := range []string{"/api/me", "/api/org", "/api/no-such-endpoint"} {
			res := hit(t, ta.URL, alice, path)
			if got := res.Header.Get("RateLimit-Limit"); got != "3" {
				t.Errorf("%s: RateLimit-Limit = %q", path, got)
			}
			if got := res.Header.Get("RateLimit-Remaining"); got != strconv.Itoa(2-i) {
				t.Errorf("%s: RateLimit-Remaining = %q, want %d", path, got, 2-i)
			}
			if got := res.Header.Get("RateLimit-Reset"); got != "50" {
				t.Errorf("%s: RateLimit-Reset = %q, want 50", path, got)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, ta.URL+"/api/org", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusTooManyRequests || strings.TrimSpace(string(body)) != `{"error":"Rate limited"}` {
			t.Fatalf("4th request = %d %s, want 429", res.StatusCode, body)
		}
		if res.Header.Get("Retry-After") != "50" || res.Header.Get("RateLimit-Remaining") != "0" {
			t.Errorf("429 headers: Retry-After %q, Remaining %q", res.Header.Get("Retry-After"), res.Header.Get("RateLimit-Remaining"))
		}
	})

	t.Run("UsersAreIndependent", func(t *testing.T) {
		if res := hit(t, ta.URL, bob, "/api/me"); res.StatusCode != http.StatusOK || res.Header.Get("RateLimit-Remaining") != "2" {
			t.Errorf("bob while alice is limited = %d, remaining %q", res.StatusCode, res.Header.Get("RateLimit-Remaining"))
		}
	})

	t.Run("PagesAreNotCounted", func(t *testing.T) {
		if res := hit(t, ta.URL, alice, "/dashboard"); res.StatusCode != http.StatusOK || res.Header.Get("RateLimit-Limit") != "" {
			t.Errorf("page = %d with RateLimit-Limit %q", res.StatusCode, res.Header.Get("RateLimit-Limit"))
		}
	})

	t.Run("AnonymousCountedByAddressApart", func(t *testing.T) {
		res, _ := sendReq(t, ta, hreq{path: "/api/me"})
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("RateLimit-Remaining") != "2" {
			t.Errorf("anonymous = %d with RateLimit-Remaining %q, want 401 and its own counter", res.StatusCode, res.Header.Get("RateLimit-Remaining"))
		}
	})

	t.Run("NextWindowResets", func(t *testing.T) {
		clock.Add(50 * time.Second)
		if res := hit(t, ta.URL, alice, "/api/me"); res.StatusCode != http.StatusOK || res.Header.Get("RateLimit-Remaining") != "2" ||
			res.Header.Get("RateLimit-Reset") != "60" {
			t.Errorf("new window = %d, remaining %q, reset %q", res.StatusCode, res.Header.Get("RateLimit-Remaining"), res.Header.Get("RateLimit-Reset"))
		}
	})

	t.Run("SharedAcrossInstances", func(t *testing.T) {
		// A second instance of the app on the same database and origin: one
		// counter, whichever instance answers.
		other, err := app.New(context.Background(), testConfig(t, ta.URL), ta.App.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)),
			app.Options{RateLimit: cfg})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(other.Handler)
		t.Cleanup(srv.Close)
		if res := hit(t, srv.URL, alice, "/api/me"); res.StatusCode != http.StatusOK || res.Header.Get("RateLimit-Remaining") != "1" {
			t.Errorf("second instance = %d, remaining %q, want 1", res.StatusCode, res.Header.Get("RateLimit-Remaining"))
		}
		hit(t, ta.URL, alice, "/api/me")
		if res := hit(t, srv.URL, alice, "/api/me"); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("over the shared limit on the second instance = %d, want 429", res.StatusCode)
		}
	})

	t.Run("ConcurrentBurstCountsEveryRequest", func(t *testing.T) {
		// Twenty requests at once in a fresh window: exactly the limit pass.
		clock.Add(time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// No t.Fatal off the test goroutine: a failed call counts as 0.
				status := 0
				req, _ := http.NewRequest(http.MethodGet, ta.URL+"/api/me", nil)
				req.Header.Set("Authorization", "Bearer "+bob)
				if res, err := http.DefaultTransport.RoundTrip(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					status = res.StatusCode
				}
				mu.Lock()
				codes[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[http.StatusOK] != 3 || codes[http.StatusTooManyRequests] != 17 {
			t.Errorf("burst outcomes = %v, want 3×200 and 17×429", codes)
		}
	})
}
