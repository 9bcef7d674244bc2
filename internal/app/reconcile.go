package app

import (
	"context"
	"net/http"
	"net/http/httptest"

	"github.com/saasstarter/saas/internal/clerksync"
)

// ReconcileBackend says where reconcile reads Clerk's state: the Backend API
// in Clerk mode. In emulator mode it is the emulator's Backend API called in
// process, so `web reconcile` works whether or not the server is running.
func (a *App) ReconcileBackend() clerksync.Backend {
	b := clerksync.Backend{URL: a.Clerk.APIURL, SecretKey: a.Clerk.SecretKey}
	if a.Emulator != nil {
		b.HTTPClient = &http.Client{Transport: inProcess{a.Emulator.Handler()}}
	}
	return b
}

// Reconcile repairs drift between Clerk and the database.
func (a *App) Reconcile(ctx context.Context) (clerksync.Report, error) {
	return clerksync.Reconcile(ctx, a.pool, a.ReconcileBackend())
}

// inProcess is an http.RoundTripper that serves requests with a handler in
// this process, as a loopback peer (the emulator answers loopback only).
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.RemoteAddr = "127.0.0.1:0"
	r.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}
