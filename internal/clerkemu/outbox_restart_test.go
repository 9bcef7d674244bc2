package clerkemu

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestOutboxRecoversClaimsAfterRestart: the emulator stops while a delivery
// is in flight, leaving its batch claimed; after a restart every pending
// message is delivered within 2 s, not after the claims' lease.
func TestOutboxRecoversClaimsAfterRestart(t *testing.T) {
	t.Parallel()
	pool := testPool(t)

	// The first emulator's receiver holds the first delivery until the
	// emulator gives up on it.
	inFlight := make(chan struct{})
	var once sync.Once
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body read to its end, net/http notices when the client
		// gives up and ends r's context.
		_, _ = io.Copy(io.Discard, r.Body)
		once.Do(func() { close(inFlight) })
		<-r.Context().Done()
	}))
	t.Cleanup(stuck.Close)
	first := newHarnessOn(t, pool, func(c *Config) { c.WebhookURL = stuck.URL })
	select {
	case <-inFlight:
	case <-time.After(time.Minute):
		t.Fatal("no delivery started")
	}
	pending := countRows(t, pool, "SELECT count(*) FROM clerkemu.outbox WHERE delivered_at IS NULL")
	claimed := countRows(t, pool, "SELECT count(*) FROM clerkemu.outbox WHERE delivered_at IS NULL AND next_attempt_at > now()")
	if pending == 0 || claimed == 0 {
		t.Fatalf("%d messages pending, %d claimed; want some of each", pending, claimed)
	}
	first.stop() // the process ends with the batch claimed

	restarted := time.Now()
	second := newHarnessOn(t, pool)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := second.e.WaitDelivered(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(restarted)
	ids := map[string]bool{}
	for _, ev := range second.rec.snapshot() {
		ids[ev.ID] = true
	}
	if len(ids) < pending {
		t.Fatalf("%d distinct messages delivered after the restart, want the %d pending", len(ids), pending)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("the %d pending messages (%d claimed) took %v after the restart, want under 2s", pending, claimed, elapsed)
	}
}
