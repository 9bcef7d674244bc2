package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/saasstarter/saas/internal/app"
	"github.com/saasstarter/saas/internal/browsertest"
	"github.com/saasstarter/saas/internal/clerkemu"
	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestMain closes the browser tests' shared Chromium after the run and
// drops the tests' databases, the seeded template among them.
func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m, browsertest.Close))
}

// loadTestConfig is the configuration of a test instance: test environment,
// emulator mode, a fixed session key, and baseURL as the public origin.
func loadTestConfig(baseURL string) (config.Config, error) {
	env := map[string]string{
		"APP_ENV":        "test",
		"BASE_URL":       baseURL,
		"SESSION_SECRET": "test-session-secret-0123456789abcdef0123456789",
	}
	return config.Load(func(k string) string { return env[k] })
}

// testConfig is loadTestConfig for a test.
func testConfig(t testing.TB, baseURL string) config.Config {
	t.Helper()
	cfg, err := loadTestConfig(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testApp is a running application: its HTTP server (whose URL is the
// app's BASE_URL) and the wired App, with the emulator delivering webhooks.
type testApp struct {
	*httptest.Server
	App *app.App
}

// testOptions are the options of every test app: cheap password hashes and
// retries in milliseconds. Neither bcrypt's cost nor Svix's back-off is what
// these tests are about, and both would dominate their run time.
func testOptions(opt app.Options) app.Options {
	if opt.Emulator.PasswordCost == 0 {
		opt.Emulator.PasswordCost = bcrypt.MinCost
	}
	if opt.Emulator.RetrySchedule == nil {
		opt.Emulator.RetrySchedule = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}
	}
	return opt
}

// seeded is a database each test app can start from: migrated, holding the
// emulator's instance (keys, webhook secret) and its seed, with the seed
// already synced into the app's tables through the real webhook route. It
// is built once per test process by doing exactly what start does; cloning
// it costs a fraction of seeding and syncing again. Tests that watch the
// seed arrive (no delivery, chaotic delivery) start from an empty database.
var seeded struct {
	once   sync.Once
	name   string
	origin string // the BASE_URL the seed was made under
	err    error
}

func seededTemplate(t testing.TB) string {
	t.Helper()
	seeded.once.Do(func() { seeded.name, seeded.origin, seeded.err = buildSeeded() })
	if seeded.err != nil {
		t.Fatalf("seeded template database: %v", seeded.err)
	}
	return seeded.name
}

func buildSeeded() (name, origin string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if name, err = testdb.Create(ctx); err != nil {
		return "", "", err
	}
	pool, err := database.Open(ctx, testdb.URLFor(name), 4)
	if err != nil {
		return name, "", err
	}
	// The template must have no connections left when tests clone it.
	defer pool.Close()
	srv := httptest.NewUnstartedServer(nil)
	defer srv.Close()
	origin = "http://" + srv.Listener.Addr().String()
	cfg, err := loadTestConfig(origin)
	if err != nil {
		return name, "", err
	}
	a, err := app.New(ctx, cfg, pool, slog.New(slog.DiscardHandler), testOptions(app.Options{}))
	if err != nil {
		return name, "", err
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(runCtx) }()
	err = a.Emulator.WaitDelivered(ctx)
	stop()
	<-done
	return name, origin, err
}

// relocate moves a clone of the seeded template to origin: the emulator
// sends absolute image URLs, as Clerk does, so the synced rows name the
// origin the seed was made under, which no server answers any more.
func relocate(t testing.TB, pool *pgxpool.Pool, origin string) {
	t.Helper()
	for _, q := range []string{
		`UPDATE users SET image_url = replace(image_url, $1, $2)`,
		`UPDATE organizations SET image_url = replace(image_url, $1, $2)`,
		`UPDATE webhook_events SET payload = replace(payload::text, $1, $2)::jsonb`,
	} {
		if _, err := pool.Exec(context.Background(), q, seeded.origin, origin); err != nil {
			t.Fatalf("relocate the seeded database: %v", err)
		}
	}
}

// start runs the whole application over its own database, on a loopback
// listener whose URL is the app's BASE_URL (the emulator's tokens and
// scripts name that origin). The emulator's webhook delivery runs until the
// test ends; call synced to wait for the app database to catch up.
func start(t testing.TB, opts ...app.Options) *testApp {
	t.Helper()
	return startWithLogger(t, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
}

// startWithLogger is start with the app logging to logger.
func startWithLogger(t testing.TB, logger *slog.Logger, opts ...app.Options) *testApp {
	t.Helper()
	var opt app.Options
	if len(opts) > 0 {
		opt = opts[0]
	}
	opt = testOptions(opt)
	template := ""
	if opt.Emulator.WebhookURL == "" && opt.Emulator.Chaos == (clerkemu.ChaosConfig{}) {
		template = seededTemplate(t)
	}
	srv := httptest.NewUnstartedServer(nil)
	origin := "http://" + srv.Listener.Addr().String()
	pool := testdb.ClonePool(t, template)
	if template != "" {
		relocate(t, pool, origin)
	}
	a, err := app.New(context.Background(), testConfig(t, origin), pool, logger, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return &testApp{Server: srv, App: a}
}

// newServer is start for tests that only need the HTTP server.
func newServer(t testing.TB) *httptest.Server { return start(t).Server }

// synced waits until every webhook the emulator has queued has been
// delivered to (and answered by) the app.
func (ta *testApp) synced(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ta.App.Emulator.WaitDelivered(ctx); err != nil {
		t.Fatalf("webhooks not delivered: %v", err)
	}
}
