package app_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestClerkModePinsWebhooksToInstance: in Clerk mode, events of any other
// instance are recorded as ignored, never applied (checklist W-12; issue
// 14, item 7). The instance comes from CLERK_INSTANCE_ID, or is asked of the
// Backend API once, when the first webhook arrives: start-up makes no call.
func TestClerkModePinsWebhooksToInstance(t *testing.T) {
	t.Parallel()
	const other = "ins_otherinstance0001"
	rows := func(t *testing.T, p *prodApp, sql string, args ...any) int {
		t.Helper()
		var n int
		if err := p.App.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func(t *testing.T, p *prodApp) {
		t.Helper()
		p.seedMember(t, other, "org_othertenant0001", "user_intruder000001", "org:admin")
		if n := rows(t, p, "SELECT count(*) FROM memberships"); n != 0 {
			t.Fatalf("an event of another instance was applied: %d memberships", n)
		}
		if n := rows(t, p, "SELECT count(*) FROM webhook_events WHERE instance_id = $1 AND status = 'ignored'", other); n != 1 {
			t.Fatalf("the other instance's event is not recorded as ignored (%d rows)", n)
		}
		p.seedMember(t, testInstance, "org_acmeacmeacme0001", "user_adminadmin0001", "org:admin")
		if n := rows(t, p, "SELECT count(*) FROM memberships"); n != 1 {
			t.Fatalf("this instance's event was not applied: %d memberships", n)
		}
	}

	t.Run("LearnedFromBackendAPI", func(t *testing.T) {
		t.Parallel()
		fake := newFakeBAPI(t)
		var down atomic.Bool
		down.Store(true)
		fake.handle("GET /v1/instance", func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				writeJSON(w, http.StatusBadGateway, map[string]any{"errors": []map[string]string{{"code": "internal_clerk_error"}}})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"object": "instance", "id": testInstance, "environment_type": "production"})
		})
		p := startClerk(t, fake, nil)
		if n := fake.total(); n != 0 {
			t.Fatalf("start-up made %d Backend API calls, want none", n)
		}
		// Until Clerk answers, events are refused for Svix to retry, not
		// applied unpinned.
		if status := p.deliver(t, "organizationMembership.created", other, map[string]any{"id": "orgmem_x"}); status != http.StatusServiceUnavailable {
			t.Fatalf("event while the instance is unknown = %d, want 503", status)
		}
		if n := rows(t, p, "SELECT count(*) FROM webhook_events"); n != 0 {
			t.Fatalf("%d deliveries recorded while the instance was unknown", n)
		}
		down.Store(false)
		check(t, p)
		if n := fake.count("GET /v1/instance"); n != 2 {
			t.Errorf("GET /v1/instance called %d times, want 2 (one failed, then learned once)", n)
		}
	})
	t.Run("Configured", func(t *testing.T) {
		t.Parallel()
		fake := newFakeBAPI(t)
		p := startClerk(t, fake, map[string]string{"CLERK_INSTANCE_ID": testInstance})
		check(t, p)
		if n := fake.total(); n != 0 {
			t.Errorf("%d Backend API calls with CLERK_INSTANCE_ID set, want none", n)
		}
	})
}
