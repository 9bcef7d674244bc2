package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/app"
)

// TestRevokedSessionRefusedEverywhere: once Clerk's session.revoked webhook
// has landed, the session's still-unexpired token is refused within a
// second, by the instance that took the webhook and by another instance on
// the same database; an instance started afterwards refuses it from its
// first request (issue 14, item 4).
func TestRevokedSessionRefusedEverywhere(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	// A second instance of the app on the same database, running its
	// background work (the revocation listener) like cmd/web does.
	other, err := app.New(context.Background(), testConfig(t, ta.URL), ta.App.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(other.Handler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = other.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })

	tok := sessionToken(t, ta.Server, "alice@acme.test", "")
	keep := sessionToken(t, ta.Server, "bob@acme.test", "")
	me := func(base, tok string) int {
		status, _ := call(t, http.MethodGet, base+"/api/me", tok, "")
		return status
	}
	for _, base := range []string{ta.URL, srv.URL} {
		if code := me(base, tok); code != http.StatusOK {
			t.Fatalf("%s before revocation: %d", base, code)
		}
	}
	bapi(t, ta.Server, http.MethodPost, "/sessions/"+claims(t, tok)["sid"].(string)+"/revoke", nil, nil)
	ta.synced(t) // the session.revoked webhook has been answered
	landed := time.Now()
	for _, base := range []string{ta.URL, srv.URL} {
		for me(base, tok) != http.StatusUnauthorized {
			if time.Since(landed) > time.Second {
				t.Fatalf("%s still accepts the revoked session's token %v after the webhook", base, time.Since(landed))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if code := me(ta.URL, keep); code != http.StatusOK {
		t.Errorf("another session: %d, want 200", code)
	}
	late, err := app.New(context.Background(), testConfig(t, ta.URL), ta.App.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	lateSrv := httptest.NewServer(late.Handler)
	t.Cleanup(lateSrv.Close)
	if code := me(lateSrv.URL, tok); code != http.StatusUnauthorized {
		t.Errorf("instance started after the revocation: %d, want 401", code)
	}
}
