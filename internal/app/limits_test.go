package app_test

// Size and time limits (checklist §4.8, L-02…L-04) on the production
// http.Server configuration (server.NewHTTPServer), not httptest's defaults.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/server"
)

// serveReal serves h with the server configuration cmd/web uses, on a
// loopback port, until the test ends. adjust may change the server (the
// slowloris test shortens ReadHeaderTimeout).
func serveReal(t *testing.T, h http.Handler, adjust func(*http.Server)) string {
	t.Helper()
	srv := server.NewHTTPServer(h, slog.New(slog.DiscardHandler))
	if adjust != nil {
		adjust(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, srv, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server.Run: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestBodyLimits is L-03: a body over 1 MiB is refused with 413, whether
// its length is declared or it arrives chunked, on the public webhook route
// and on a signed-in API route; 1 MiB itself is not refused for its size.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	url := serveReal(t, ta.App.Handler, nil)
	signedIn := bearer(sessionToken(t, ta.Server, "alice@acme.test", ""))
	// A JSON document that only ends past the limit: a decoder must read
	// beyond 1 MiB before it could find anything wrong with it.
	big := []byte(`{"name":"` + strings.Repeat("a", 1<<20) + `"}`)
	for _, c := range []struct {
		name, path string
		header     map[string]string
	}{
		{"Webhook", "/api/webhooks/clerk", map[string]string{"Content-Type": "application/json"}},
		{"SignedInAPI", "/api/projects", with(signedIn, "Content-Type", "application/json")},
	} {
		for _, chunked := range []bool{false, true} {
			name := c.name + map[bool]string{false: "ContentLength", true: "Chunked"}[chunked]
			t.Run(name, func(t *testing.T) {
				var body io.Reader = bytes.NewReader(big)
				if chunked {
					// A reader of unknown length makes the client send chunks.
					body = io.MultiReader(bytes.NewReader(big))
				}
				res, text := do(t, http.MethodPost, url+c.path, c.header, body)
				if res.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("status = %d (%s), want 413", res.StatusCode, strings.TrimSpace(text))
				}
			})
		}
	}
	t.Run("AtTheLimit", func(t *testing.T) {
		res, _ := do(t, http.MethodPost, url+"/api/webhooks/clerk", nil, bytes.NewReader(bytes.Repeat([]byte("a"), 1<<20)))
		if res.StatusCode == http.StatusRequestEntityTooLarge {
			t.Error("a body of exactly 1 MiB was refused")
		}
	})
}

// TestHeaderLimits is L-04 and J-15: a 70 KiB cookie is refused with 431
// before any handler runs, while a large but legitimate one (Clerk's
// cookies stay under 4 KB; 32 KiB leaves room) passes; a 10,000-dot
// Authorization header is an anonymous 401, answered fast.
func TestHeaderLimits(t *testing.T) {
	t.Parallel()
	ta := start(t)
	url := serveReal(t, ta.App.Handler, nil)
	res, _ := do(t, http.MethodGet, url+"/healthz", map[string]string{"Cookie": "big=" + strings.Repeat("x", 70<<10)}, nil)
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("70 KiB cookie: status %d, want 431", res.StatusCode)
	}
	res, _ = do(t, http.MethodGet, url+"/healthz", map[string]string{"Cookie": "big=" + strings.Repeat("x", 32<<10)}, nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("32 KiB cookie: status %d, want 200", res.StatusCode)
	}
	begin := time.Now()
	res, body := do(t, http.MethodGet, url+"/api/me", map[string]string{"Authorization": "Bearer " + strings.Repeat(".", 10000)}, nil)
	if res.StatusCode != http.StatusUnauthorized || strings.TrimSpace(body) != `{"error":"Unauthenticated"}` {
		t.Errorf("10,000-dot token: %d %s, want 401 Unauthenticated", res.StatusCode, body)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("10,000-dot token took %v", d)
	}
}

// TestSlowlorisIsCutOff is L-02 on loopback: 50 connections each send one
// header byte every 500 ms. With ReadHeaderTimeout shortened to 1 s the
// server must close every one of them (we give it 10 s before calling it a
// failure), and a normal request must be served meanwhile and afterwards.
// Bounded: 50 connections, one deadline per connection, no fixed sleeps.
func TestSlowlorisIsCutOff(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slowloris takes a few seconds")
	}
	ta := start(t)
	const (
		conns       = 50
		drip        = 500 * time.Millisecond
		headerLimit = time.Second
		giveUp      = 10 * time.Second
	)
	url := serveReal(t, ta.App.Handler, func(s *http.Server) { s.ReadHeaderTimeout = headerLimit })
	addr := strings.TrimPrefix(url, "http://")

	var wg sync.WaitGroup
	results := make(chan error, conns)
	opened := make(chan struct{}, conns)
	for range conns {
		wg.Go(func() { results <- slowClient(addr, drip, giveUp, opened) })
	}
	for range conns {
		<-opened
	}
	// Every slow client is connected and dripping: the server must still
	// answer a normal client promptly.
	begin := time.Now()
	if res, _ := do(t, http.MethodGet, url+"/healthz", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("during the attack: /healthz = %d", res.StatusCode)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("during the attack: /healthz took %v", d)
	}
	wg.Wait()
	close(results)
	closed := 0
	for err := range results {
		if err != nil {
			t.Error(err)
			continue
		}
		closed++
	}
	if closed != conns {
		t.Fatalf("%d of %d slow connections were closed by the server", closed, conns)
	}
	if res, _ := do(t, http.MethodGet, url+"/healthz", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("after the attack: /healthz = %d", res.StatusCode)
	}
}

// slowClient opens a connection, starts a request and then sends one header
// byte per drip. It returns nil once the server has closed the connection
// (a read ends with EOF, a reset or a 408), and an error if the connection
// is still open after giveUp.
func slowClient(addr string, drip, giveUp time.Duration, opened chan<- struct{}) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		opened <- struct{}{}
		return err
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	opened <- struct{}{}
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(drip)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(giveUp))
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		if n > 0 && !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 408")) {
			return errors.New("slow client got a response other than 408: " + string(buf[:n]))
		}
		var ne net.Error
		switch {
		case err == nil:
			continue
		case errors.As(err, &ne) && ne.Timeout():
			return errors.New("slow connection still open after " + giveUp.String())
		default:
			return nil // EOF or reset: the server closed it
		}
	}
}
