package clerkemu

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	svix "github.com/svix/svix-webhooks/go"
	"golang.org/x/crypto/bcrypt"

	"github.com/saasstarter/saas/internal/browsertest"
	"github.com/saasstarter/saas/internal/testdb"
)

func TestMain(m *testing.M) {
	// One RSA key for the whole run: generating it is slow under the race
	// detector and not what these tests are about.
	var once sync.Once
	var key *rsa.PrivateKey
	real := generateKey
	generateKey = func() (*rsa.PrivateKey, error) {
		var err error
		once.Do(func() { key, err = real() })
		return key, err
	}
	os.Exit(testdb.Main(m, browsertest.Close))
}

// receivedEvent is one webhook delivery as the test receiver saw it.
type receivedEvent struct {
	ID       string
	Type     string
	Data     map[string]any
	Envelope map[string]any
}

// receiver is an httptest webhook endpoint that verifies every delivery
// with svix, as the app does, and can fail the first N requests.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	secret   string
	failNext int
	failures int
	events   []receivedEvent
	badSigs  int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failNext > 0 {
		rc.failNext--
		rc.failures++
		http.Error(w, "down for a moment", http.StatusServiceUnavailable)
		return
	}
	wh, err := svix.NewWebhook(rc.secret)
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		rc.badSigs++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	typ, _ := env["type"].(string)
	data, _ := env["data"].(map[string]any)
	rc.events = append(rc.events, receivedEvent{ID: r.Header.Get("svix-id"), Type: typ, Data: data, Envelope: env})
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) snapshot() []receivedEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedEvent(nil), rc.events...)
}

func (rc *receiver) types() []string {
	var out []string
	for _, ev := range rc.snapshot() {
		out = append(out, ev.Type)
	}
	return out
}

// harness is an emulator served by httptest on loopback, delivering to a
// receiver.
type harness struct {
	e    *Emulator
	srv  *httptest.Server
	rec  *receiver
	cfg  Config
	stop func()
}

type option func(*Config)

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	pool := testdb.Pool(t)
	return newHarnessOn(t, pool, opts...)
}

func newHarnessOn(t *testing.T, pool *pgxpool.Pool, opts ...option) *harness {
	t.Helper()
	h := &harness{rec: newReceiver(t)}
	var handler http.Handler = http.NotFoundHandler()
	var mu sync.RWMutex
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		defer mu.RUnlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	base, _ := url.Parse(h.srv.URL)
	h.cfg = Config{BaseURL: base, Pool: pool, WebhookURL: h.rec.srv.URL, Env: "test", Seed: true, PasswordCost: bcrypt.MinCost}
	for _, o := range opts {
		o(&h.cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := New(ctx, h.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.e = e
	h.rec.secret = e.WebhookSecret()
	mu.Lock()
	handler = e.Handler()
	mu.Unlock()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(runCtx); close(done) }()
	h.stop = func() { stop(); <-done }
	t.Cleanup(h.stop)
	return h
}

// drain waits, with a deadline, until every queued webhook was delivered.
func (h *harness) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.e.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
}
