package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saasstarter/saas/internal/testdb"
)

// TestMain drops the tests' databases once they are all done.
func TestMain(m *testing.M) {
	os.Exit(testdb.Main(m))
}

// logLines is the process log as a test reads it: every write is kept and
// wakes whoever waits for a line.
type logLines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func newLogLines() *logLines { return &logLines{wake: make(chan struct{})} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.wake)
	l.wake = make(chan struct{})
	return l.buf.Write(p)
}

// waitFor returns the first match of re in the log, waiting for it.
func (l *logLines) waitFor(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	for {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.buf.String())
		wake := l.wake
		l.mu.Unlock()
		if m != nil {
			return m, nil
		}
		select {
		case <-ctx.Done():
			l.mu.Lock()
			defer l.mu.Unlock()
			return nil, errors.Join(ctx.Err(), errors.New("log so far:\n"+l.buf.String()))
		case <-wake:
		}
	}
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+) url=(\S+)`)

// startProcess runs the web command as `go run ./cmd/web` would, with only
// env as its environment, and returns its log and public URL once it
// listens. It stops when the test ends.
func startProcess(t *testing.T, env map[string]string) (*logLines, string) {
	t.Helper()
	logs := newLogLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("web: %v", err)
		}
	})
	wait, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	m, err := logs.waitFor(wait, listening)
	if err != nil {
		t.Fatalf("the server never listened: %v", err)
	}
	return logs, m[2]
}

// TestTwoInstancesSideBySide: two development instances on the same machine
// that differ only in ADDR and DATABASE_URL both start (the second finds
// the default metrics port taken and runs without metrics), each derives
// BASE_URL from its own listener, and signing in works on each.
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
		logs, base := startProcess(t, env)
		if i == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := logs.waitFor(ctx, regexp.MustCompile(`level=WARN msg="metrics off`)); err != nil {
				t.Errorf("no warning that metrics are off: %v", err)
			}
			cancel()
		}
		urls = append(urls, base)
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
