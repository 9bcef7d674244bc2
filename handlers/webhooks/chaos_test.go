package webhooks_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/clerksync"
)

// history is a plausible stretch of Clerk activity, in the order Clerk
// emitted it, with strictly increasing updated_at per object: sign-ups,
// renames, an org with a plan change, memberships added, promoted, removed
// and re-added (a new membership id), an invitation, a user deletion and an
// organisation deletion.
func history() [][]byte {
	var evs [][]byte
	ts := int64(1_700_000_000_000)
	next := func() int64 { ts += 1000; return ts }
	for i := range 4 {
		u := fmt.Sprintf("user_%d", i)
		evs = append(evs, userEvent("user.created", u, "First", next()), userEvent("user.updated", u, "Renamed", next()))
	}
	evs = append(evs,
		orgEvent("organization.created", "org_a", "acme", "free", next()),
		orgEvent("organization.created", "org_b", "globex", "free", next()),
		orgEvent("organization.updated", "org_a", "acme", "enterprise", next()),
		membershipEvent("organizationMembership.created", "mem_0a", "org_a", "user_0", "org:admin", next()),
		membershipEvent("organizationMembership.created", "mem_1a", "org_a", "user_1", "basic_member", next()),
		membershipEvent("organizationMembership.updated", "mem_1a", "org_a", "user_1", "admin", next()),
		membershipEvent("organizationMembership.created", "mem_2b", "org_b", "user_2", "org:member", next()),
		membershipEvent("organizationMembership.created", "mem_3a", "org_a", "user_3", "org:member", next()),
		membershipEvent("organizationMembership.deleted", "mem_3a", "org_a", "user_3", "org:member", next()),
		membershipEvent("organizationMembership.created", "mem_3a2", "org_a", "user_3", "org:admin", next()),
		membershipEvent("organizationMembership.created", "mem_0b", "org_b", "user_0", "org:member", next()),
		envelope("organizationInvitation.created", map[string]any{"id": "inv_1", "organization_id": "org_a",
			"email_address": "new@acme.example", "role": "org:member", "status": "pending", "updated_at": next()}),
		envelope("organizationInvitation.accepted", map[string]any{"id": "inv_1", "organization_id": "org_a",
			"email_address": "new@acme.example", "role": "org:member", "status": "accepted", "updated_at": next()}),
		deletedEvent("user.deleted", "user_1"),
		deletedEvent("organization.deleted", "org_b"),
		envelope("session.revoked", map[string]any{"id": "sess_1", "user_id": "user_0", "updated_at": next()}),
	)
	return evs
}

// snapshot is the synced state that must not depend on delivery order: the
// content of live rows, and which rows are tombstones (a tombstone's content
// is never read, and a user's is cleared).
func (e *env) snapshot() string {
	return e.str(`SELECT
	  (SELECT string_agg(CASE WHEN deleted_at IS NULL THEN format('%s|%s|%s|%s|%s', clerk_id, email, first_name, image_url, stub)
	                          ELSE clerk_id || '|deleted' END, ';' ORDER BY clerk_id) FROM users) || ' # ' ||
	  (SELECT string_agg(CASE WHEN deleted_at IS NULL THEN format('%s|%s|%s|%s', clerk_id, name, plan, stub)
	                          ELSE clerk_id || '|deleted' END, ';' ORDER BY clerk_id) FROM organizations) || ' # ' ||
	  (SELECT string_agg(CASE WHEN m.deleted_at IS NULL THEN format('%s|%s|%s', m.clerk_id, m.role, u.clerk_id)
	                          ELSE m.clerk_id || '|deleted' END, ';' ORDER BY m.clerk_id)
	     FROM memberships m JOIN users u ON u.id = m.user_id) || ' # ' ||
	  (SELECT string_agg(clerk_id || '|' || status, ';') FROM invitations) || ' # ' ||
	  (SELECT string_agg(session_id, ';') FROM revoked_sessions)`)
}

// TestChaosConvergesToOrderlyState delivers the same history once in order
// and once shuffled, with every event sent two or three times by 8
// concurrent senders (as Svix retries and reorders), and expects the same
// database.
func TestChaosConvergesToOrderlyState(t *testing.T) {
	t.Parallel()
	evs := history()
	orderly := newEnv(t, clerksync.Options{}, 4)
	for _, b := range evs {
		orderly.mustDeliver(b)
	}
	want := orderly.snapshot()

	for round := range 3 {
		t.Run(fmt.Sprint("Round", round), func(t *testing.T) {
			chaos := newEnv(t, clerksync.Options{}, 8)
			type delivery struct {
				h    http.Header
				body []byte
			}
			var queue []delivery
			for _, b := range evs {
				d := delivery{chaos.signed(newMsgID(), time.Now(), b), b}
				for range 2 + rand.IntN(2) {
					queue = append(queue, d)
				}
			}
			rand.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
			work := make(chan delivery)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for d := range work {
						// A 5xx (a deadlock or a unique race between two
						// events) is retried, as Svix would.
						for try := 0; ; try++ {
							r := chaos.post(d.h, d.body)
							if r.status == http.StatusOK {
								break
							}
							if try == 5 {
								t.Errorf("status %d after retries", r.status)
								break
							}
						}
					}
				})
			}
			for _, d := range queue {
				work <- d
			}
			close(work)
			wg.Wait()
			if got := chaos.snapshot(); got != want {
				t.Fatalf("state after chaos:\n%s\nwant (orderly):\n%s", got, want)
			}
		})
	}
}
