package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// signalOn passes records to its handler and closes seen at the first one
// whose message starts with prefix.
type signalOn struct {
	slog.Handler
	prefix string
	once   *sync.Once
	seen   chan struct{}
}

func newSignalOn(h slog.Handler, prefix string) signalOn {
	return signalOn{Handler: h, prefix: prefix, once: &sync.Once{}, seen: make(chan struct{})}
}

func (s signalOn) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, s.prefix) {
		s.once.Do(func() { close(s.seen) })
	}
	return s.Handler.Handle(ctx, r)
}

func (s signalOn) WithAttrs(attrs []slog.Attr) slog.Handler {
	s.Handler = s.Handler.WithAttrs(attrs)
	return s
}

func (s signalOn) WithGroup(name string) slog.Handler {
	s.Handler = s.Handler.WithGroup(name)
	return s
}

// TestRoleConnectionLimitNeverAnswers500: the app's pool, sized 4, gets 2
// connections from PostgreSQL (the role's limit, less the revocation
// listener's). 64 concurrent signed-in
// requests (pages, HTMX fragments and JSON) arrive while both connections
// are busy, so the pool tries to grow and PostgreSQL refuses: the requests
// wait for the two connections instead of failing. None answers 500 (a
// request whose wait ran out would be a 503 with Retry-After), and the
// refusal is logged once, not per request.
func TestRoleConnectionLimitNeverAnswers500(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The role owns the database, so it migrates and runs the app as a
	// deployment's own role would.
	// Three connections: the session-revocation listener holds one of its
	// own, outside the pool, which is left two.
	dbURL := testdb.NewLimited(t, 3) + "&pool_max_conns=4"
	const refusal = "database refused a new connection;"
	logs := &lockedBuffer{}
	signal := newSignalOn(slog.NewJSONHandler(logs, nil), refusal)
	logger := slog.New(signal)
	pool, err := database.Open(ctx, dbURL, 0, database.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if got := pool.Config().MaxConns; got != 4 {
		t.Fatalf("MaxConns = %d, want 4", got)
	}
	if _, err := database.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate as the limited role: %v", err)
	}

	ta := startOn(t, pool, logger)
	ta.synced(t)
	srv := ta.Server
	header := bearer(sessionToken(t, srv, "alice@acme.test", ""))

	// Both connections the role may have are busy when the requests come.
	var busy []*pgxpool.Conn
	for range 2 {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := pool.Acquire(actx)
		cancel()
		if err != nil {
			t.Fatalf("acquire one of the role's connections: %v", err)
		}
		busy = append(busy, c)
	}

	const concurrent = 64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent}}
	type outcome struct {
		kind, contentType, retryAfter string
		status                        int
	}
	outcomes := make(chan outcome, concurrent)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrent {
		kind := []string{"page", "htmx", "api"}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/dashboard"
			if kind == "api" {
				path = "/api/org"
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			for k, v := range header {
				req.Header.Set(k, v)
			}
			if kind == "htmx" {
				req.Header.Set("HX-Request", "true")
			}
			<-start
			res, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", kind, err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			outcomes <- outcome{kind, res.Header.Get("Content-Type"), res.Header.Get("Retry-After"), res.StatusCode}
		}()
	}
	close(start)
	select {
	case <-signal.seen:
	case <-time.After(time.Minute):
		t.Fatalf("PostgreSQL never refused the pool a third connection\n%s", logs.buf.String())
	}
	for _, c := range busy {
		c.Release()
	}
	wg.Wait()
	close(outcomes)

	counts := map[int]int{}
	for o := range outcomes {
		counts[o.status]++
		switch o.status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			if o.retryAfter == "" {
				t.Errorf("%s: 503 without Retry-After", o.kind)
			}
			if wantJSON := o.kind == "api"; wantJSON != strings.HasPrefix(o.contentType, "application/json") {
				t.Errorf("%s: 503 as %q", o.kind, o.contentType)
			}
		default:
			t.Errorf("%s: status %d, want 200, or 503 when the wait ran out", o.kind, o.status)
		}
	}
	t.Logf("statuses: %v", counts)
	if counts[http.StatusOK] == 0 {
		t.Fatalf("nothing was served: %v", counts)
	}
	refusals := 0
	for _, rec := range logs.lines(t) {
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, refusal) {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("the refusal was logged %d times, want once", refusals)
	}
}

// TestUnreachableDatabaseAnswers503: when the database takes no
// connections at all, a signed-in request is answered 503 with Retry-After,
// as a page, an HTMX fragment or JSON by its kind, never 500.
func TestUnreachableDatabaseAnswers503(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	header := bearer(sessionToken(t, ta.Server, "alice@acme.test", ""))

	ctx := context.Background()
	var name string
	if err := ta.App.Pool().QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, testdb.URLFor("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true") })
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		kind, path, wantType string
		extra                map[string]string
	}{
		{"page", "/dashboard", "text/html", nil},
		{"htmx", "/dashboard", "text/html", map[string]string{"HX-Request": "true"}},
		{"api", "/api/org", "application/json", nil},
	} {
		t.Run(c.kind, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range header {
				h[k] = v
			}
			for k, v := range c.extra {
				h[k] = v
			}
			res := get(t, ta.URL+c.path, h)
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", res.StatusCode)
			}
			if res.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, c.wantType)
			}
		})
	}
}
