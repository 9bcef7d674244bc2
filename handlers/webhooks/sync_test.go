package webhooks_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/clerksync"
)

// The Y-* cases of security-checklist.md §5, against real PostgreSQL.

func TestY01ConcurrentDuplicatesApplyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 8)
	body := membershipEvent("organizationMembership.created", "orgmem_y01", "org_y01", "user_y01", "admin", 1_700_000_001_000)
	h := e.signed(newMsgID(), time.Now(), body)
	var wg sync.WaitGroup
	replies := make([]reply, 20)
	for i := range replies {
		wg.Go(func() { replies[i] = e.post(h, body) })
	}
	wg.Wait()
	for i, r := range replies {
		if r.status != http.StatusOK {
			t.Errorf("delivery %d: status %d %q, want 200", i, r.status, r.body)
		}
	}
	if n := e.count("SELECT attempts FROM webhook_events"); n != 20 {
		t.Errorf("attempts = %d, want 20", n)
	}
	// Applied once: one row each, and the rows were written exactly once
	// (a second application would have bumped updated_at past created_at).
	for tbl, want := range map[string]int{"users": 1, "organizations": 1, "memberships": 1, "webhook_events": 1} {
		if n := e.rowCounts()[tbl]; n != want {
			t.Errorf("%s = %d rows, want %d", tbl, n, want)
		}
	}
	if n := e.count("SELECT count(*) FROM memberships WHERE updated_at <> created_at"); n != 0 {
		t.Errorf("membership was written %d extra times", n)
	}
}

func TestY03UpdateBeforeCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.mustDeliver(userEvent("user.updated", "user_y03", "New", 1_700_000_002_000))
	e.mustDeliver(userEvent("user.created", "user_y03", "Old", 1_700_000_001_000))
	if got := e.str("SELECT first_name FROM users WHERE clerk_id = 'user_y03'"); got != "New" {
		t.Fatalf("first_name = %q, want New", got)
	}
	if got := e.str("SELECT string_agg(status, ',' ORDER BY id) FROM webhook_events"); got != "applied,stale" {
		t.Fatalf("statuses = %q, want applied,stale", got)
	}
}

func TestY04UpdatesOutOfOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.mustDeliver(orgEvent("organization.updated", "org_y04", "second", "enterprise", 1_700_000_002_000))
	e.mustDeliver(orgEvent("organization.updated", "org_y04", "first", "free", 1_700_000_001_000))
	if got := e.str("SELECT name || '/' || plan FROM organizations"); got != "second/enterprise" {
		t.Fatalf("org = %q, want second/enterprise", got)
	}
}

func TestY05DeleteWins(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind, table, id string
		live            []byte
		deleted         []byte
	}{
		{"User", "users", "user_y05",
			userEvent("user.updated", "user_y05", "Late", 1_900_000_000_000), deletedEvent("user.deleted", "user_y05")},
		{"Organization", "organizations", "org_y05",
			orgEvent("organization.updated", "org_y05", "late", "pro", 1_900_000_000_000), deletedEvent("organization.deleted", "org_y05")},
		{"Membership", "memberships", "orgmem_y05",
			membershipEvent("organizationMembership.updated", "orgmem_y05", "org_m", "user_m", "org:admin", 1_900_000_000_000),
			membershipEvent("organizationMembership.deleted", "orgmem_y05", "org_m", "user_m", "org:admin", 1_700_000_000_000)},
	} {
		t.Run(c.kind, func(t *testing.T) {
			e := newEnv(t, clerksync.Options{}, 4)
			// The delete arrives first (the create was lost or delayed), then
			// a late update with a newer updated_at: still deleted.
			e.mustDeliver(c.deleted)
			e.mustDeliver(c.live)
			if n := e.count("SELECT count(*) FROM "+c.table+" WHERE clerk_id = $1 AND deleted_at IS NOT NULL", c.id); n != 1 {
				t.Fatalf("%s %s is not tombstoned", c.table, c.id)
			}
			if got := e.str("SELECT string_agg(status, ',' ORDER BY id) FROM webhook_events"); got != "applied,stale" {
				t.Fatalf("statuses = %q, want applied,stale", got)
			}
		})
	}
}

func TestY06MembershipBeforeUserAndOrg(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_y06", "org_y06", "user_y06", "basic_member", 1_700_000_001_000))
	if got := e.str("SELECT u.stub::text || ',' || o.stub::text || ',' || m.role || ',' || o.plan FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id"); got != "true,true,org:member,pro" {
		t.Fatalf("membership = %q", got)
	}
	// The real events fill the stubs in, even with an updated_at older than
	// the membership's.
	e.mustDeliver(userEvent("user.created", "user_y06", "Real", 1_600_000_000_000))
	e.mustDeliver(orgEvent("organization.created", "org_y06", "Real Org", "enterprise", 1_600_000_000_000))
	if got := e.str("SELECT first_name || ',' || email || ',' || stub::text FROM users"); got != "Real,user_y06@example.com,false" {
		t.Fatalf("user = %q", got)
	}
	if got := e.str("SELECT name || ',' || plan || ',' || stub::text FROM organizations"); got != "Real Org,enterprise,false" {
		t.Fatalf("org = %q", got)
	}
	if got := e.str("SELECT organization_id FROM webhook_events ORDER BY id LIMIT 1"); got != "org_y06" {
		t.Fatalf("delivery log organization_id = %q, want org_y06", got)
	}
}

func TestY09UnknownTypesIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	for _, typ := range []string{"session.created", "email.created", "foo.bar", "organizationDomain.created"} {
		e.mustDeliver(envelope(typ, map[string]any{"id": "x_1", "organization_id": "org_9"}))
	}
	if n := e.count("SELECT count(*) FROM webhook_events WHERE status = 'ignored' AND organization_id = 'org_9'"); n != 4 {
		t.Fatalf("ignored deliveries = %d, want 4", n)
	}
	if n := e.count("SELECT count(*) FROM users"); n != 0 {
		t.Fatalf("users = %d", n)
	}
}

func TestY10SchemaDriftAndPermanentFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	t.Run("TolerantDecode", func(t *testing.T) {
		e.mustDeliver([]byte(`{"type":"user.created","future":{"x":1},"data":{"id":"user_y10","first_name":null,` +
			`"last_name":"Nul\u0000Byte","email_addresses":null,"image_url":null,"public_metadata":null,` +
			`"updated_at":"1700000000000","new_field":[1,2]},"timestamp":null}`))
		if got := e.str("SELECT last_name || '|' || email || '|' || first_name FROM users WHERE clerk_id = 'user_y10'"); got != "NulByte||" {
			t.Fatalf("user = %q", got)
		}
	})
	t.Run("LongStringsTruncated", func(t *testing.T) {
		e.mustDeliver(userEvent("user.created", "user_long", strings.Repeat("é", 5000), 1))
		if n := e.count("SELECT char_length(first_name) FROM users WHERE clerk_id = 'user_long'"); n != 1024 {
			t.Fatalf("first_name length = %d, want 1024", n)
		}
	})
	for name, body := range map[string]string{
		"MissingID":        `{"type":"user.created","data":{"first_name":"x"}}`,
		"DataWrongType":    `{"type":"user.updated","data":"oops"}`,
		"FieldWrongType":   `{"type":"organization.created","data":{"id":"org_1","name":42}}`,
		"MembershipNoUser": `{"type":"organizationMembership.created","data":{"id":"orgmem_1","organization":{"id":"org_1"}}}`,
		"NoData":           `{"type":"user.deleted"}`,
	} {
		t.Run("Failed_"+name, func(t *testing.T) {
			e.mustDeliver([]byte(body))
			if got := e.str("SELECT status || ':' || (error <> '')::text FROM webhook_events ORDER BY id DESC LIMIT 1"); got != "failed:true" {
				t.Fatalf("last delivery = %q, want failed with an error", got)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM users WHERE clerk_id NOT IN ('user_y10', 'user_long')"); n != 0 {
		t.Fatalf("%d users written by failed deliveries", n)
	}
	t.Run("MalformedEnvelope400", func(t *testing.T) {
		for _, b := range []string{`not json`, `[]`, `{"data":{}}`, `{"type":7}`} {
			if r := e.deliver([]byte(b)); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", b, r.status)
			}
		}
	})
}

func TestY11HugePayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	d := userData("user_y11", "Big", 1_700_000_000_000)
	d["public_metadata"] = map[string]any{"blob": strings.Repeat("x", 100<<10)}
	e.mustDeliver(envelope("user.created", d))
	if n := e.count("SELECT length(public_metadata->>'blob') FROM users"); n != 100<<10 {
		t.Fatalf("metadata blob = %d bytes", n)
	}
	d["public_metadata"] = map[string]any{"blob": strings.Repeat("x", webhooksMaxBody)}
	if r := e.deliver(envelope("user.updated", d)); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", r.status)
	}
}

func TestY12OrganizationDeletedRemovesMemberships(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.mustDeliver(orgEvent("organization.created", "org_y12", "acme", "pro", 1_700_000_000_000))
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_a", "org_y12", "user_a", "org:admin", 1_700_000_001_000))
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_b", "org_y12", "user_b", "org:member", 1_700_000_001_000))
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_c", "org_other", "user_a", "org:member", 1_700_000_001_000))
	e.mustDeliver(deletedEvent("organization.deleted", "org_y12"))
	if n := e.count("SELECT count(*) FROM memberships WHERE deleted_at IS NULL"); n != 1 {
		t.Fatalf("live memberships = %d, want 1 (the other org's)", n)
	}
	if got := e.str("SELECT organization_id FROM webhook_events ORDER BY id DESC LIMIT 1"); got != "org_y12" {
		t.Fatalf("delivery log organization_id = %q", got)
	}
	// A late membership event for the deleted org changes nothing.
	e.mustDeliver(membershipEvent("organizationMembership.updated", "orgmem_a", "org_y12", "user_a", "org:member", 1_900_000_000_000))
	if n := e.count("SELECT count(*) FROM memberships WHERE deleted_at IS NULL"); n != 1 {
		t.Fatalf("a late membership event resurrected a membership")
	}
}

func TestUserDeletedClearsPersonalData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	e.mustDeliver(userEvent("user.created", "user_del", "Ann", 1_700_000_000_000))
	e.mustDeliver(membershipEvent("organizationMembership.created", "orgmem_del", "org_del", "user_del", "admin", 1_700_000_001_000))
	e.mustDeliver(deletedEvent("user.deleted", "user_del"))
	if got := e.str("SELECT email || first_name || last_name || image_url || public_metadata::text FROM users"); got != "{}" {
		t.Fatalf("personal data left: %q", got)
	}
	if n := e.count("SELECT count(*) FROM memberships WHERE deleted_at IS NULL"); n != 0 {
		t.Fatalf("live memberships = %d, want 0", n)
	}
}

func TestInvitationsAndSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	inv := func(typ, status string, updated int64) []byte {
		return envelope(typ, map[string]any{
			"object": "organization_invitation", "id": "orginv_1", "email_address": "jane@acme.example",
			"role": "basic_member", "organization_id": "org_inv", "status": status,
			"created_at": 1_700_000_000_000, "updated_at": updated,
			"public_organization_data": map[string]any{"id": "org_inv", "name": "Acme", "slug": "acme"},
		})
	}
	e.mustDeliver(inv("organizationInvitation.revoked", "revoked", 1_700_000_002_000))
	e.mustDeliver(inv("organizationInvitation.created", "pending", 1_700_000_000_000))
	if got := e.str("SELECT status || ',' || role || ',' || email FROM invitations"); got != "revoked,org:member,jane@acme.example" {
		t.Fatalf("invitation = %q", got)
	}
	if got := e.str("SELECT name || ',' || stub::text FROM organizations"); got != "Acme,true" {
		t.Fatalf("org stub = %q", got)
	}
	for _, typ := range []string{"session.revoked", "session.ended"} {
		e.mustDeliver(envelope(typ, map[string]any{"object": "session", "id": "sess_1", "user_id": "user_1", "status": "revoked"}))
	}
	if got := e.str("SELECT reason || ',' || user_clerk_id FROM revoked_sessions"); got != "revoked,user_1" {
		t.Fatalf("revoked session = %q", got)
	}
}

func TestInstanceIDMismatchIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{InstanceID: "ins_prod"}, 4)
	e.mustDeliver(userEvent("user.created", "user_ins", "Ann", 1)) // envelope says ins_test
	if got := e.str("SELECT status FROM webhook_events"); got != "ignored" {
		t.Fatalf("status = %q, want ignored", got)
	}
	if n := e.count("SELECT count(*) FROM users"); n != 0 {
		t.Fatalf("users = %d, want 0", n)
	}
}

// TestY02SameIDDifferentBody: a second body under an already-seen svix-id
// (only possible with the secret: a bug or a leak) is never applied.
func TestY02SameIDDifferentBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	id := newMsgID()
	first := userEvent("user.created", "user_y02", "First", 1_700_000_000_000)
	second := userEvent("user.updated", "user_y02", "Second", 1_800_000_000_000)
	for _, body := range [][]byte{first, second} {
		if r := e.post(e.signed(id, time.Now(), body), body); r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
	}
	if got := e.str("SELECT first_name FROM users"); got != "First" {
		t.Fatalf("first_name = %q, want First", got)
	}
}
