package auth_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/auth"
	"github.com/saasstarter/saas/internal/auth/authtest"
)

// TestRevokedSessionsRefused: a token of a session in the revocation set is
// refused at once, whether or not its claims are cached, by bearer and by
// cookie; other sessions are untouched, and pruning forgets only old
// revocations.
func TestRevokedSessionsRefused(t *testing.T) {
	t.Parallel()
	key, other := issuers(t)
	f := &fixture{key: key, other: other, clock: authtest.NewClock(t0)}
	cfg := baseConfig(f.clock)
	cfg.JWTKey = key.PEM()
	revoked := auth.NewRevocations()
	cfg.Revocations = revoked
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	e := f.app()
	tok := f.token(t, nil)
	otherSession := f.token(t, func(c map[string]any) { c["sid"] = "sess_2" })
	uat := strconv.FormatInt(t0.Unix()-10, 10)
	bearerCode := func(tok string) int {
		r := api(http.MethodGet, "/api/me")
		r.Header.Set("Authorization", "Bearer "+tok)
		return do(e, r).Code
	}
	if code := bearerCode(tok); code != 200 {
		t.Fatalf("before revocation: %d", code) // the claims are now cached
	}
	revoked.Add("sess_1", t0)
	if code := bearerCode(tok); code != 401 {
		t.Errorf("cached token of a revoked session: %d, want 401", code)
	}
	fresh := f.token(t, func(c map[string]any) { c["jti"] = "another" })
	if code := bearerCode(fresh); code != 401 {
		t.Errorf("new token of a revoked session: %d, want 401", code)
	}
	rec := do(e, withCookies(page(http.MethodGet, "/orgs"), "__session", tok, "__client_uat", uat))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sign-in?redirect_url=/orgs" {
		t.Errorf("cookie of a revoked session: %d %q, want a sign-in redirect (no handshake)", rec.Code, rec.Header().Get("Location"))
	}
	if code := bearerCode(otherSession); code != 200 {
		t.Errorf("another session: %d, want 200", code)
	}
	revoked.Prune(t0.Add(auth.RevocationRetention - time.Minute))
	if !revoked.Revoked("sess_1") {
		t.Error("pruned a recent revocation")
	}
	revoked.Prune(t0.Add(auth.RevocationRetention + time.Minute))
	if revoked.Revoked("sess_1") || revoked.Len() != 0 {
		t.Error("kept a revocation past the retention")
	}
}

// BenchmarkRevoked is the per-request cost of the revocation check: a miss
// in a set of 10,000 revoked sessions, from both cores at once.
func BenchmarkRevoked(b *testing.B) {
	r := auth.NewRevocations()
	for i := range 10_000 {
		r.Add("sess_revoked_"+strconv.Itoa(i), t0)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.Revoked("sess_2g7np7Hrk0SN6kj5EDMLDaKNL0S") {
				b.Fatal("not revoked")
			}
		}
	})
}
