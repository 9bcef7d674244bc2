package clerkemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	svix "github.com/svix/svix-webhooks/go"
)

// DefaultRetrySchedule is Svix's schedule (0, 5 s, 5 min, 30 min, 2 h, …)
// compressed for development: a restart of the app costs seconds, not
// minutes. After the last step the outbox keeps retrying at the last
// interval; nothing is dropped. Config.RetrySchedule replaces it (tests use
// milliseconds).
var DefaultRetrySchedule = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}

// leaseTime is how long a claimed row is hidden from other senders while a
// delivery is in flight (several processes may share one database).
const leaseTime = 30 * time.Second

// ChaosConfig perturbs delivery so tests can prove the receiver copes with
// what Svix may do in production. The zero value delivers in order, once.
type ChaosConfig struct {
	// DuplicateRate is the probability (0..1) that a delivered message is
	// sent a second time, with the same svix-id.
	DuplicateRate float64
	// ReorderRate is the probability (0..1) that a due message is held back
	// for up to MaxDelay (at least 100 ms) while later ones go first; it also
	// lifts the per-resource ordering.
	ReorderRate float64
	// MaxDelay is the longest random pause before each delivery.
	MaxDelay time.Duration
	// Seed makes the perturbations reproducible; 0 picks a random seed.
	Seed uint64
}

type chaos struct {
	cfg ChaosConfig
	mu  sync.Mutex
	rnd *rand.Rand
}

func newChaos(cfg ChaosConfig) *chaos {
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &chaos{cfg: cfg, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed))}
}

func (c *chaos) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rnd.Float64() < p
}

func (c *chaos) duration(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(c.rnd.Int64N(int64(limit)))
}

// kick wakes the delivery loop after a commit.
func (e *Emulator) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run delivers queued webhooks until ctx ends. The app starts it once, in
// its own goroutine, next to the HTTP server.
func (e *Emulator) Run(ctx context.Context) error {
	if e.cfg.WebhookURL == "-" {
		<-ctx.Done()
		return nil
	}
	for {
		wait, err := e.deliverDue(ctx)
		e.delivered.notify()
		if err != nil && ctx.Err() == nil {
			e.log.Warn("webhook outbox", "err", err)
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

type outboxRow struct {
	ID       int64  `db:"id"`
	MsgID    string `db:"msg_id"`
	Type     string `db:"event_type"`
	Key      string `db:"resource_key"`
	Body     string `db:"body"`
	Attempts int    `db:"attempts"`
}

// deliverDue sends every due message once and says how long to sleep before
// the next one falls due.
func (e *Emulator) deliverDue(ctx context.Context) (time.Duration, error) {
	for {
		rows, err := e.claim(ctx)
		if err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			break
		}
		// A failed message holds back the rest of its resource's events:
		// they go back to the queue behind it instead of overtaking it.
		failed := map[string]bool{}
		for _, r := range rows {
			if failed[r.Key] && e.chaos.cfg.ReorderRate == 0 {
				if _, err := e.pool.Exec(ctx, `UPDATE clerkemu.outbox SET next_attempt_at = now() WHERE id = $1`, r.ID); err != nil {
					return 0, err
				}
				continue
			}
			ok, err := e.deliver(ctx, r)
			if err != nil {
				return 0, err
			}
			failed[r.Key] = failed[r.Key] || !ok
		}
	}
	var next *time.Time
	err := e.pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM clerkemu.outbox WHERE delivered_at IS NULL`).Scan(&next)
	if err != nil || next == nil {
		return time.Second, err
	}
	return min(max(time.Until(*next), 10*time.Millisecond), time.Second), nil
}

// claim leases up to a batch of due messages, oldest first. Unless chaos
// asks for reordering, a message waits while an older one about the same
// resource is waiting for a retry (or leased by another sender), so a
// resource's events arrive in the order they happened; older due messages
// are in the same batch, ahead of it.
func (e *Emulator) claim(ctx context.Context) ([]*outboxRow, error) {
	ordered := `AND NOT EXISTS (SELECT 1 FROM clerkemu.outbox p WHERE p.resource_key = o.resource_key
		AND p.delivered_at IS NULL AND p.id < o.id AND p.next_attempt_at > now())`
	if e.chaos.cfg.ReorderRate > 0 {
		ordered = ""
	}
	var rows []*outboxRow
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		var err error
		rows, err = many[outboxRow](ctx, tx, `SELECT id, msg_id, event_type, resource_key, body, attempts FROM clerkemu.outbox o
			WHERE delivered_at IS NULL AND next_attempt_at <= now() `+ordered+`
			ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED`)
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		_, err = tx.Exec(ctx, `UPDATE clerkemu.outbox SET next_attempt_at = now() + make_interval(secs => $2) WHERE id = ANY($1)`,
			ids, leaseTime.Seconds())
		return err
	})
	return rows, err
}

// deliver makes one attempt and records its outcome; ok reports success.
func (e *Emulator) deliver(ctx context.Context, r *outboxRow) (ok bool, err error) {
	if e.chaos.chance(e.chaos.cfg.ReorderRate) {
		hold := max(e.chaos.duration(e.chaos.cfg.MaxDelay), 100*time.Millisecond)
		_, err := e.pool.Exec(ctx, `UPDATE clerkemu.outbox SET next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1`,
			r.ID, hold.Seconds())
		return false, err
	}
	if d := e.chaos.duration(e.chaos.cfg.MaxDelay); d > 0 {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(d):
		}
	}
	sendErr := e.post(ctx, r)
	if sendErr == nil && e.chaos.chance(e.chaos.cfg.DuplicateRate) {
		_ = e.post(ctx, r) // a duplicate's outcome does not matter, as with Svix
	}
	if sendErr == nil {
		_, err = e.pool.Exec(ctx, `UPDATE clerkemu.outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, r.ID)
		return err == nil, err
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	schedule := e.cfg.RetrySchedule
	backoff := schedule[min(r.Attempts, len(schedule)-1)]
	e.log.Info("webhook delivery failed; will retry", "type", r.Type, "svix_id", r.MsgID, "attempt", r.Attempts+1, "retry_in", backoff, "err", sendErr)
	_, err = e.pool.Exec(ctx, `UPDATE clerkemu.outbox SET attempts = attempts + 1, last_error = $2,
		next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`, r.ID, sendErr.Error(), backoff.Seconds())
	return false, err
}

// post sends one signed attempt. Like Svix, only a 2xx counts as success.
func (e *Emulator) post(ctx context.Context, r *outboxRow) error {
	wh, err := svix.NewWebhook(e.whsecret)
	if err != nil {
		return err
	}
	ts := e.now()
	sig, err := wh.Sign(r.MsgID, ts, []byte(r.Body))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.WebhookURL, bytes.NewReader([]byte(r.Body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Svix-Webhooks/1.84.0 (clerkemu)")
	req.Header.Set("svix-id", r.MsgID)
	req.Header.Set("svix-timestamp", fmt.Sprint(ts.Unix()))
	req.Header.Set("svix-signature", sig)
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// WaitDelivered blocks until every queued webhook has been delivered, or ctx
// ends. Tests use it to assert on the receiver's state without sleeping: it
// re-checks the outbox each time the delivery loop finishes a pass, so it
// needs Run to be running (in this process).
func (e *Emulator) WaitDelivered(ctx context.Context) error {
	for {
		pass := e.delivered.next()
		var pending int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM clerkemu.outbox WHERE delivered_at IS NULL`).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		e.kick()
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("clerkemu: %d webhooks still pending", pending), ctx.Err())
		case <-pass:
		}
	}
}

// signal wakes every goroutine waiting for the next occurrence of an event
// (here: the end of a delivery pass). Waiters take the channel with next
// before checking their condition, so an event between the check and the
// wait is never missed.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

// next returns a channel that is closed at the next notify.
func (s *signal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// notify wakes the current waiters.
func (s *signal) notify() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}
