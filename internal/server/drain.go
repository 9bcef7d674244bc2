package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ShutdownGrace is how long in-flight requests get to finish once the
// server stops accepting connections.
const ShutdownGrace = RequestTimeout + 5*time.Second

// idleQuiet is how long a keep-alive connection must have been idle before
// the drain closes it. A client may be sending its next request on a
// connection the server considers idle; closing it then drops that request.
// Clients that keep sending get "Connection: close" on their next response
// instead, and close the connection themselves.
const idleQuiet = time.Second

// Drain is how Run shuts down once its context ends.
type Drain struct {
	// Delay keeps the server serving after the signal: Begin is called at
	// once (the app fails /readyz), and load balancers stop routing to the
	// instance before it stops accepting connections. Zero skips it.
	Delay time.Duration
	// Grace bounds what follows: the server stops accepting connections,
	// every response from then on (in-flight ones included) carries
	// "Connection: close", and in-flight requests finish.
	Grace time.Duration
	// Begin, optional, is called as soon as the signal arrives.
	Begin func()
	// Logger, optional, notes each phase.
	Logger *slog.Logger
}

// Run serves srv on ln until ctx ends (SIGINT/SIGTERM in main), then shuts
// down in two phases, as Drain describes. It returns nil after a clean
// drain, and closes every connection itself if the grace runs out. Run sets
// srv's Handler (wrapped) and ConnState, so srv must not be shared.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, d Drain) error {
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	conns := trackConns(srv)
	var draining atomic.Bool
	srv.Handler = closeWhenDraining(srv.Handler, &draining)
	stop := &onceCloseListener{Listener: ln}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(stop) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	if d.Begin != nil {
		d.Begin()
	}
	if d.Delay > 0 {
		logger.Info("shutting down: not ready, still serving", "for", d.Delay)
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case err := <-served:
			t.Stop()
			return err
		}
	}

	logger.Info("shutting down: no new connections, draining", "grace", d.Grace)
	graceCtx, cancel := context.WithTimeout(context.Background(), d.Grace)
	defer cancel()
	// Draining is set before the listener closes: a client that sees its
	// connection refused must already get "Connection: close" on the
	// response it is waiting for.
	draining.Store(true)
	_ = stop.Close()
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		return err
	}
	err := conns.waitQuiet(graceCtx)
	if err == nil {
		err = srv.Shutdown(graceCtx)
	}
	if err != nil {
		n := conns.count()
		_ = srv.Close()
		return fmt.Errorf("shutdown: %d connections still open after %v: %w", n, d.Grace, err)
	}
	return nil
}

// onceCloseListener lets Run close the listener before http.Server's
// Shutdown does.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// closeWhenDraining sets "Connection: close" on every response whose header
// is written once draining is set, so its client opens a new connection for
// the next request (refused: the listener is closed) instead of sending it
// on one the server is closing.
func closeWhenDraining(h http.Handler, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dw := &drainWriter{ResponseWriter: w, draining: draining}
		h.ServeHTTP(dw, r)
		if !dw.wroteHeader && draining.Load() {
			// net/http writes the header of an empty response after the
			// handler returns.
			w.Header().Set("Connection", "close")
		}
	})
}

// drainWriter checks for draining when the response header is written.
// Unwrap keeps http.ResponseController (and so Echo's Flush and Hijack)
// working through it.
type drainWriter struct {
	http.ResponseWriter
	draining    *atomic.Bool
	wroteHeader bool
}

func (w *drainWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= http.StatusOK { // 1xx responses are interim
		w.wroteHeader = true
		if w.draining.Load() {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *drainWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher for code that asserts it.
func (w *drainWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped ResponseWriter.
func (w *drainWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// connTracker knows the state of every connection of a server and since
// when, which http.Server does not expose.
type connTracker struct {
	mu      sync.Mutex
	conns   map[net.Conn]connState
	changed chan struct{} // signalled on every change
}

type connState struct {
	state http.ConnState
	since time.Time
}

func trackConns(srv *http.Server) *connTracker {
	t := &connTracker{conns: map[net.Conn]connState{}, changed: make(chan struct{}, 1)}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		t.mu.Lock()
		switch s {
		case http.StateHijacked, http.StateClosed:
			delete(t.conns, c)
		default:
			t.conns[c] = connState{state: s, since: time.Now()}
		}
		t.mu.Unlock()
		select {
		case t.changed <- struct{}{}:
		default:
		}
		if next != nil {
			next(c, s)
		}
	}
	return t
}

func (t *connTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// waitQuiet waits until no request is in flight and every open connection
// has been idle (or, new, without a request) for idleQuiet: connections
// whose clients keep sending have been closed by then through
// "Connection: close", and the rest can be closed without dropping a
// request.
func (t *connTracker) waitQuiet(ctx context.Context) error {
	for {
		t.mu.Lock()
		now := time.Now()
		busy, wait := false, time.Duration(0)
		for _, c := range t.conns {
			if c.state == http.StateActive {
				busy = true
				continue
			}
			if left := idleQuiet - now.Sub(c.since); left > 0 && (wait == 0 || left < wait) {
				wait = left
			}
		}
		t.mu.Unlock()
		if !busy && wait == 0 {
			return nil
		}
		var timer *time.Timer
		var timeout <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-t.changed:
		case <-timeout:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
