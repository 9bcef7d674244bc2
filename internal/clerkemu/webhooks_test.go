package clerkemu

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// outboxLog is the outbox in commit order: what a perfect receiver gets.
func outboxLog(t *testing.T, h *harness) (ids, types []string) {
	t.Helper()
	rows, err := h.e.pool.Query(context.Background(), "SELECT msg_id, event_type FROM clerkemu.outbox ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			t.Fatal(err)
		}
		ids, types = append(ids, id), append(types, typ)
	}
	return ids, types
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.drain(t)
	events := h.rec.snapshot()
	_, wantTypes := outboxLog(t, h)
	if !slices.Equal(h.rec.types(), wantTypes) || h.rec.badSigs != 0 {
		t.Fatalf("received %v (bad signatures %d), want %v", h.rec.types(), h.rec.badSigs, wantTypes)
	}
	count := map[string]int{}
	for _, ev := range events {
		count[ev.Type]++
	}
	if count["organization.created"] != 2 || count["user.created"] != 4 || count["organizationMembership.created"] != 5 {
		t.Fatalf("seed events = %v", count)
	}

	t.Run("Envelope", func(t *testing.T) {
		ev := events[0].Envelope
		ts, _ := ev["timestamp"].(float64)
		attrs, _ := ev["event_attributes"].(map[string]any)
		if ev["object"] != "event" || ev["instance_id"] != h.e.InstanceID() || ts < 1e12 || attrs["http_request"] == nil ||
			!strings.HasPrefix(events[0].ID, "msg_") {
			t.Fatalf("envelope = %v", ev)
		}
	})
	t.Run("Shapes", func(t *testing.T) {
		for _, ev := range events {
			switch ev.Type {
			case "user.created":
				emails, _ := ev.Data["email_addresses"].([]any)
				first, _ := emails[0].(map[string]any)
				if ev.Data["object"] != "user" || first["id"] != ev.Data["primary_email_address_id"] || ev.Data["created_at"].(float64) < 1e12 {
					t.Fatalf("user.created data = %v", ev.Data)
				}
			case "organizationMembership.created":
				org, _ := ev.Data["organization"].(map[string]any)
				pud, _ := ev.Data["public_user_data"].(map[string]any)
				if ev.Data["object"] != "organization_membership" || org["slug"] == nil || pud["identifier"] == nil ||
					!strings.HasPrefix(ev.Data["role"].(string), "org:") {
					t.Fatalf("membership data = %v", ev.Data)
				}
			}
		}
	})
}

func TestWebhookRetryWhileReceiverDown(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	rc := newReceiver(t)
	rc.failNext = 5 // the app is down for the first five attempts
	h := newHarnessOn(t, pool, func(c *Config) {
		c.WebhookURL = rc.srv.URL
		c.RetrySchedule = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond}
	})
	rc.mu.Lock()
	rc.secret = h.e.WebhookSecret()
	rc.mu.Unlock()
	h.drain(t)

	ids, _ := outboxLog(t, h)
	var got []string
	for _, ev := range rc.snapshot() {
		got = append(got, ev.ID)
	}
	slices.Sort(ids)
	slices.Sort(got)
	if rc.failures != 5 || !slices.Equal(got, ids) {
		t.Fatalf("failures %d; delivered %d of %d messages", rc.failures, len(got), len(ids))
	}
	var retried int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM clerkemu.outbox WHERE attempts > 1").Scan(&retried); err != nil || retried == 0 {
		t.Fatalf("no message was retried (%v)", err)
	}
}

func TestWebhookChaos(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Chaos = ChaosConfig{DuplicateRate: 0.5, ReorderRate: 0.3, MaxDelay: 5 * time.Millisecond, Seed: 7}
	})
	h.drain(t)
	ids, _ := outboxLog(t, h)
	seen := map[string]int{}
	var order []string
	for _, ev := range h.rec.snapshot() {
		if seen[ev.ID] == 0 {
			order = append(order, ev.ID)
		}
		seen[ev.ID]++
	}
	dups := 0
	for _, id := range ids {
		if seen[id] == 0 {
			t.Fatalf("message %s was never delivered", id)
		}
		dups += seen[id] - 1
	}
	if dups == 0 || slices.Equal(order, ids) {
		t.Fatalf("chaos had no effect: %d duplicates, reordered=%v", dups, !slices.Equal(order, ids))
	}
}
