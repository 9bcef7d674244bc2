package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/render"
	"github.com/saasstarter/saas/internal/server"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestTimeoutsAreSet is L-01: a server without timeouts lets one slow client
// hold a connection forever.
func TestTimeoutsAreSet(t *testing.T) {
	t.Parallel()
	srv := server.NewHTTPServer(http.NotFoundHandler(), discard())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 5*time.Second {
		t.Errorf("ReadHeaderTimeout = %v, want (0, 5s]", srv.ReadHeaderTimeout)
	}
	if srv.ReadTimeout <= 0 || srv.WriteTimeout <= server.RequestTimeout || srv.IdleTimeout <= 0 {
		t.Errorf("timeouts: read %v write %v idle %v; write must exceed the request timeout %v",
			srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, server.RequestTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
}

// TestShutdownDrainsInFlightRequests: a request that is running when the
// signal arrives finishes with its normal response, and Run returns nil.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	t.Parallel()
	e := server.NewEcho(server.Config{Logger: discard(), Render: &render.Renderer{}})
	started := make(chan struct{})
	release := make(chan struct{})
	e.GET("/slow", func(c echo.Context) error {
		close(started)
		<-release
		return c.String(http.StatusOK, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- server.Run(ctx, server.NewHTTPServer(e, discard()), ln, 10*time.Second) }()

	type result struct {
		status int
		body   string
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		resc <- result{status: res.StatusCode, body: string(b)}
	}()

	<-started
	cancel() // the signal arrives while /slow is running
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-runErr:
		t.Fatalf("Run returned %v before the in-flight request finished", err)
	default:
	}
	close(release)

	r := <-resc
	if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
		t.Fatalf("in-flight request: status %d body %q err %v", r.status, r.body, r.err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run = %v, want nil after a clean drain", err)
	}
}
