package webhooks_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/apperr"
	"github.com/saasstarter/saas/internal/clerksync"
)

// Faults are injected with a trigger on organizations, which a membership
// event writes after the inbox row and the user stub: a fault there must take
// back both.

func (e *env) exec(sql string) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) installOrgTrigger(body string) {
	e.exec(`CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` + body + `; RETURN NEW; END $$`)
	e.exec(`CREATE TRIGGER fault BEFORE INSERT OR UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION fault()`)
}

func (e *env) dropOrgTrigger() {
	e.exec(`DROP TRIGGER fault ON organizations`)
	e.exec(`DROP FUNCTION fault()`)
}

// TestY07ConnectionKilledMidTransaction kills the handler's backend while it
// sits inside the transaction: 5xx, no rows anywhere, and the retry applies.
func TestY07ConnectionKilledMidTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.installOrgTrigger(`PERFORM pg_sleep(30)`)
	body := membershipEvent("organizationMembership.created", "orgmem_y07", "org_y07", "user_y07", "admin", 1_700_000_001_000)
	h := e.signed(newMsgID(), time.Now(), body)

	done := make(chan reply)
	go func() { done <- e.post(h, body) }()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var killed bool
		err := e.pool.QueryRow(ctx, `SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the handler never reached the trigger")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := <-done
	if r.status < 500 {
		t.Fatalf("status %d %q, want 5xx", r.status, r.body)
	}
	e.assertEmpty()

	e.dropOrgTrigger()
	if r := e.post(h, body); r.status != http.StatusOK {
		t.Fatalf("retry: status %d, want 200", r.status)
	}
	if got := e.str("SELECT status FROM webhook_events"); got != "applied" {
		t.Fatalf("retry status = %q, want applied", got)
	}
	if n := e.count("SELECT count(*) FROM memberships"); n != 1 {
		t.Fatalf("memberships = %d, want 1", n)
	}
}

// TestY08TransientFaultAfterInboxInsert raises a serialization failure after
// the inbox insert: 5xx, both rolled back, the retry applies.
func TestY08TransientFaultAfterInboxInsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.installOrgTrigger(`RAISE EXCEPTION 'injected' USING ERRCODE = '40001'`)
	body := membershipEvent("organizationMembership.created", "orgmem_y08", "org_y08", "user_y08", "admin", 1_700_000_001_000)
	h := e.signed(newMsgID(), time.Now(), body)
	if r := e.post(h, body); r.status < 500 || r.body != `{"error":"Temporarily unavailable"}`+"\n" {
		t.Fatalf("reply %d %q, want 5xx without details", r.status, r.body)
	}
	e.assertEmpty()
	e.dropOrgTrigger()
	if r := e.post(h, body); r.status != http.StatusOK {
		t.Fatalf("retry: status %d", r.status)
	}
	if n := e.count("SELECT count(*) FROM memberships"); n != 1 {
		t.Fatalf("memberships = %d, want 1", n)
	}
}

// TestPermanentDatabaseFaultThenReplay: data the database rejects is recorded
// as failed with 2xx (no retry loop); after the cause is fixed, Replay
// applies it through the same code.
func TestPermanentDatabaseFaultThenReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	ctx := context.Background()
	e.installOrgTrigger(`RAISE EXCEPTION 'bad org' USING ERRCODE = '22023'`)
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_r", "org_r", "user_r", "admin", 1_700_000_001_000))
	e.mustDeliver(userEvent("user.created", "user_other", "Ann", 1))
	if n := e.count("SELECT count(*) FROM users"); n != 1 {
		t.Fatalf("users = %d, want 1 (the failed delivery wrote nothing)", n)
	}

	page, err := e.syncer.ListDeliveries(ctx, clerksync.DeliveryFilter{OrganizationID: "org_r", Status: clerksync.StatusFailed})
	if err != nil {
		t.Fatal(err)
	}
	if page.Next != nil || len(page.Deliveries) != 1 || page.Deliveries[0].Error == "" {
		t.Fatalf("failed deliveries for org_r = %+v", page)
	}
	failed := page.Deliveries[0]
	if all, _ := e.syncer.ListDeliveries(ctx, clerksync.DeliveryFilter{Type: "user.created", Limit: 1}); len(all.Deliveries) != 1 || all.Next != nil || all.Deliveries[0].ObjectID != "user_other" {
		t.Fatalf("by type = %+v", all)
	}
	d, err := e.syncer.Delivery(ctx, failed.ID)
	if err != nil || len(d.Payload) == 0 || d.ProcessedAt == nil {
		t.Fatalf("Delivery = %+v, %v", d, err)
	}

	e.dropOrgTrigger()
	res, err := e.syncer.Replay(ctx, failed.ID)
	if err != nil || res.Status != clerksync.StatusApplied {
		t.Fatalf("Replay = %+v, %v; want applied", res, err)
	}
	if n := e.count("SELECT count(*) FROM memberships WHERE deleted_at IS NULL"); n != 1 {
		t.Fatalf("memberships = %d after replay", n)
	}
	if got := e.str("SELECT status || error FROM webhook_events WHERE id = $1", failed.ID); got != "applied" {
		t.Fatalf("row after replay = %q", got)
	}
	// Replaying again is harmless: the same data is written again (equal
	// updated_at is not older), and nothing else changes.
	if _, err := e.syncer.Replay(ctx, failed.ID); err != nil {
		t.Fatalf("second Replay: %v", err)
	}
	if n := e.count("SELECT count(*) FROM memberships"); n != 1 {
		t.Fatalf("memberships = %d after a second replay", n)
	}
	if _, err := e.syncer.Replay(ctx, 999_999); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("Replay(unknown) = %v, want not found", err)
	}
}

// TestW14StalledDatabaseTimesOut: a delivery that cannot finish within the
// handler's deadline answers 5xx well before Svix's 15 s, and leaves nothing.
func TestW14StalledDatabaseTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnvWithTimeout(t, clerksync.Options{}, 4, 300*time.Millisecond)
	e.installOrgTrigger(`PERFORM pg_sleep(5)`)
	start := time.Now()
	r := e.deliver(orgEvent("organization.created", "org_w14", "slow", "", 1))
	if r.status < 500 || time.Since(start) > 3*time.Second {
		t.Fatalf("status %d after %v, want 5xx within the deadline", r.status, time.Since(start))
	}
	e.dropOrgTrigger()
	e.assertEmpty()
}
