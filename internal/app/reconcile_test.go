package app_test

import (
	"context"
	"testing"

	"github.com/saasstarter/saas/internal/clerksync"
)

// TestReconcileAgainstTheEmulator is issue 5's drift repair, end to end:
// the emulator's Backend API (in process, as `web reconcile` uses it) is the
// truth, and the app database has drifted from it.
func TestReconcileAgainstTheEmulator(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	ctx := context.Background()
	db := ta.App.Pool()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Drift: a user and her memberships lost, an org renamed locally, a
	// user that Clerk never had.
	exec(`DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = 'bob@acme.test')`)
	exec(`DELETE FROM users WHERE email = 'bob@acme.test'`)
	exec(`UPDATE organizations SET name = 'Drifted', clerk_updated_at = clerk_updated_at - interval '1 hour' WHERE slug = 'globex'`)
	exec(`INSERT INTO users (clerk_id, email, created_at) VALUES ('user_ghost000000000000000000', 'ghost@nowhere.test', now() - interval '1 hour')`)

	report, err := ta.App.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if report.Users.Created != 1 || report.Users.Deleted != 1 || report.Organizations.Updated != 1 || report.Memberships.Created != 1 {
		t.Fatalf("report = %s; want 1 user created, 1 user deleted, 1 org updated, 1 membership created", report)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
		WHERE u.email = 'bob@acme.test' AND u.deleted_at IS NULL`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("bob restored with his membership: %d, %v", n, err)
	}
	var name string
	if err := db.QueryRow(ctx, `SELECT name FROM organizations WHERE slug = 'globex'`).Scan(&name); err != nil || name != "Globex" {
		t.Fatalf("globex name = %q, %v", name, err)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users WHERE clerk_id = 'user_ghost000000000000000000' AND deleted_at IS NULL`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("ghost user still live: %d, %v", n, err)
	}

	again, err := ta.App.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again != (clerksync.Report{}) {
		t.Fatalf("second reconcile changed %s; want nothing (idempotent)", again)
	}
}
