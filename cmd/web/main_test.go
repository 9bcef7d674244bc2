package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestMain drops the tests' databases once they are all done.
func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m))
}

// process is one run of the command, as main runs it, on a loopback port.
type process struct {
	URL    string
	cancel context.CancelFunc // SIGTERM
	done   chan error         // what run returned
	logs   *logLines
}

// startProcess runs `web serve` with env (on top of a test configuration
// for a loopback address) and waits until it listens. The process is
// stopped when the test ends, if the test did not stop it.
func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	addr := freeAddr(t)
	vars := map[string]string{
		"APP_ENV":        "test",
		"ADDR":           addr,
		"BASE_URL":       "http://" + addr,
		"METRICS_ADDR":   "off",
		"SESSION_SECRET": "test-session-secret-0123456789abcdef0123456789",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{URL: "http://" + addr, cancel: cancel, done: make(chan error, 1), logs: newLogLines()}
	go func() { p.done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, p.logs) }()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	select {
	case <-p.logs.seen("msg=listening"):
	case err := <-p.done:
		p.done <- err
		t.Fatalf("run exited before listening: %v\n%s", err, p.logs)
	case <-time.After(time.Minute):
		t.Fatalf("not listening after a minute\n%s", p.logs)
	}
	return p
}

// stop cancels the run's context, as SIGTERM does, and returns what run
// returned.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(time.Minute):
		t.Fatalf("run did not return a minute after SIGTERM\n%s", p.logs)
		return nil
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: BASE_URL must name the port before the process listens on it.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logLines collects a process's log lines and tells waiters when a line
// containing some text was written.
type logLines struct {
	mu      sync.Mutex
	lines   []string
	partial string
	waiters map[string]chan struct{}
}

func newLogLines() *logLines { return &logLines{waiters: map[string]chan struct{}{}} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial += string(p)
	for {
		i := strings.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		l.lines = append(l.lines, line)
		for text, ch := range l.waiters {
			if strings.Contains(line, text) {
				close(ch)
				delete(l.waiters, text)
			}
		}
	}
}

// seen returns a channel that is closed once a line containing text has
// been written (at once if one already was).
func (l *logLines) seen(text string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	for _, line := range l.lines {
		if strings.Contains(line, text) {
			close(ch)
			return ch
		}
	}
	if prev, ok := l.waiters[text]; ok {
		return prev
	}
	l.waiters[text] = ch
	return ch
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// getStatus makes one GET and returns its status.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// TestServesWithPoolParametersInDevelopment: DATABASE_URL's pool parameters
// are pgxpool's, never PostgreSQL's, from create-if-missing through the
// migrations and the emulator to serving requests.
func TestServesWithPoolParametersInDevelopment(t *testing.T) {
	t.Parallel()
	name := testdb.UniqueName("saas_test_web_")
	t.Cleanup(func() {
		if err := testdb.Drop(name); err != nil {
			t.Error(err)
		}
	})
	p := startProcess(t, map[string]string{
		"APP_ENV":      "development",
		"DATABASE_URL": testdb.URLFor(name) + "&pool_max_conns=2",
	})
	if got := getStatus(t, p.URL+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200 (database created, migrated, answering)\n%s", got, p.logs)
	}
	if got := getStatus(t, p.URL+"/"); got != http.StatusOK {
		t.Fatalf("/ = %d, want 200", got)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestShutdownUnderLoadDropsNothing: SIGTERM while keep-alive clients
// hammer the server, five times over (each a restart on the same database):
// every request a client sent is answered. Clients stop at their first
// error, which must be a refused connection, not a dropped request.
func TestShutdownUnderLoadDropsNothing(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	for i := range 5 {
		p := startProcess(t, map[string]string{"DATABASE_URL": dbURL})
		sent, answered := hammerThroughShutdown(t, p)
		if sent != answered || sent == 0 {
			t.Fatalf("run %d: %d requests sent, %d answered\n%s", i+1, sent, answered, p.logs)
		}
		t.Logf("run %d: %d requests sent, all answered", i+1, sent)
	}
}

// hammerThroughShutdown runs keep-alive clients against p, sends SIGTERM
// once they have been answered a few hundred times, and counts, once p has
// stopped, the requests they wrote to a connection and the responses they
// read in full.
func hammerThroughShutdown(t *testing.T, p *process) (sent, answered int64) {
	t.Helper()
	const clients = 8
	var nSent, nAnswered atomic.Int64
	loaded := make(chan struct{})
	var once sync.Once
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			nSent.Add(1)
		}
	}}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One connection per client, reused until the server says
			// Connection: close.
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			paths := []string{"/", "/readyz", "/healthz"}
			for n := 0; ; n++ {
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
					http.MethodGet, p.URL+paths[(c+n)%len(paths)], nil)
				res, err := client.Do(req)
				if err != nil {
					if !errors.Is(err, syscall.ECONNREFUSED) {
						t.Errorf("client %d: %v", c, err)
					}
					return
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil {
					t.Errorf("client %d: reading the response: %v", c, err)
					return
				}
				if nAnswered.Add(1) >= 300 {
					once.Do(func() { close(loaded) })
				}
			}
		}()
	}
	select {
	case <-loaded:
	case <-time.After(time.Minute):
		t.Fatalf("the clients were not answered 300 times in a minute\n%s", p.logs)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("run: %v", err)
	}
	wg.Wait()
	return nSent.Load(), nAnswered.Load()
}

// TestShutdownDelayFailsReadinessFirst: on SIGTERM /readyz turns 503 at
// once while requests are still served for SHUTDOWN_DELAY; only then does
// the process stop.
func TestShutdownDelayFailsReadinessFirst(t *testing.T) {
	t.Parallel()
	const delay = 2 * time.Second
	p := startProcess(t, map[string]string{"DATABASE_URL": testdb.New(t), "SHUTDOWN_DELAY": delay.String()})
	if got := getStatus(t, p.URL+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d before the signal, want 200", got)
	}
	signalled := time.Now()
	p.cancel()
	select {
	case <-p.logs.seen("shutting down: not ready"):
	case <-time.After(time.Minute):
		t.Fatalf("no shutdown began\n%s", p.logs)
	}
	if got := getStatus(t, p.URL+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d during the delay, want 503", got)
	}
	if got := getStatus(t, p.URL+"/"); got != http.StatusOK {
		t.Errorf("/ = %d during the delay, want 200: requests are still served", got)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	if elapsed := time.Since(signalled); elapsed < delay {
		t.Errorf("the process stopped %v after the signal, before SHUTDOWN_DELAY (%v)", elapsed, delay)
	}
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+) url=(\S+)`)

// TestTwoInstancesSideBySide: two development instances on one machine
// that differ only in ADDR and DATABASE_URL both start (one finds its
// metrics port taken, as 9090 is by a local Prometheus, and runs without
// metrics), each derives BASE_URL from its own listener, and signing in
// works on each.
func TestTwoInstancesSideBySide(t *testing.T) {
	t.Parallel()
	// The first instance's metrics address is taken, as 9090 is by a local
	// Prometheus: it must start anyway and say that metrics are off.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var urls []string
	for i := range 2 {
		env := map[string]string{
			"ADDR":           "127.0.0.1:0",
			"DATABASE_URL":   testdb.New(t),
			"SESSION_SECRET": "side-by-side-secret-0123456789abcdef0123456789",
		}
		if i == 0 {
			env["METRICS_ADDR"] = taken.Addr().String()
		}
		// Only ADDR and DATABASE_URL (and the metrics port) differ: BASE_URL
		// is left unset, so each instance derives it from its listener.
		env["BASE_URL"] = ""
		p := startProcess(t, env)
		if i == 0 {
			select {
			case <-p.logs.seen(`level=WARN msg="metrics off`):
			case <-time.After(30 * time.Second):
				t.Errorf("no warning that metrics are off\n%s", p.logs)
			}
		}
		m := listening.FindStringSubmatch(p.logs.String())
		if m == nil {
			t.Fatalf("no listening line\n%s", p.logs)
		}
		urls = append(urls, m[2])
	}
	if urls[0] == urls[1] || !strings.HasPrefix(urls[0], "http://127.0.0.1:") {
		t.Fatalf("instances at %v, want two loopback origins", urls)
	}
	for _, base := range urls {
		t.Run(base, func(t *testing.T) {
			// The sign-in page loads the browser script from its own origin.
			res := httpDo(t, http.MethodGet, base+"/sign-in", "", nil)
			doc, err := goquery.NewDocumentFromReader(res.Body)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("/sign-in: %d %v", res.StatusCode, err)
			}
			var own int
			doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
				if strings.HasPrefix(s.AttrOr("src", ""), base+"/") || strings.HasPrefix(s.AttrOr("src", ""), "/") {
					own++
				}
			})
			if n := doc.Find("script[src]").Length(); n == 0 || own != n {
				t.Fatalf("/sign-in loads %d scripts, %d of them from %s", n, own, base)
			}

			// Clerk's testing flow against this instance's emulator, then
			// the app's API with the token.
			var users []struct {
				ID string `json:"id"`
			}
			decode(t, httpDo(t, http.MethodGet, base+"/__clerk/v1/users?email_address="+url.QueryEscape("alice@acme.test"), "sk_test_emulator", nil), &users)
			if len(users) != 1 {
				t.Fatalf("alice: %d users", len(users))
			}
			var sess struct{ ID string }
			decode(t, httpDo(t, http.MethodPost, base+"/__clerk/v1/sessions", "sk_test_emulator", map[string]string{"user_id": users[0].ID}), &sess)
			var tok struct{ JWT string }
			decode(t, httpDo(t, http.MethodPost, base+"/__clerk/v1/sessions/"+sess.ID+"/tokens", "sk_test_emulator", map[string]string{}), &tok)
			var me struct {
				UserID string `json:"user_id"`
			}
			res = httpDo(t, http.MethodGet, base+"/api/me", tok.JWT, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("/api/me = %d", res.StatusCode)
			}
			decode(t, res, &me)
			if me.UserID != users[0].ID {
				t.Fatalf("/api/me user_id = %q, want %q", me.UserID, users[0].ID)
			}
		})
	}
}

func httpDo(t *testing.T, method, target, bearer string, body any) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func decode(t *testing.T, res *http.Response, out any) {
	t.Helper()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s = %d %s", res.Request.Method, res.Request.URL, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestGCPercentUnlessGOGC: the process collects at gcPercent, unless GOGC
// is set, which Go's runtime has then applied itself. (Not parallel: the
// collector's setting is the process's.)
func TestGCPercentUnlessGOGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC the collector runs at %d%%, want %d%%", got, gcPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, tuneGC changed the collector to %d%%", got)
	}
}
