package database_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// auditAppIDs is the migration that makes the audit log refer to people and
// organisations by row id.
const auditAppIDs = 6

// The readers of the audit log as they were before migration 00006: the
// admin screen's list and the member-facing list (the dashboard's activity
// has the same columns). Each row is rendered as one string.
const (
	oldAdminList = `
SELECT a.actor, a.impersonator, a.action, a.target, a.details::text,
       COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email, '')::text
FROM audit_log a
LEFT JOIN users u ON u.clerk_id = a.actor
WHERE a.organization_id = $1
ORDER BY a.created_at DESC, a.id DESC`
	oldMemberList = `
SELECT a.actor, a.impersonator, a.action, a.target, a.details::text,
       COALESCE(NULLIF(trim(au.first_name || ' ' || au.last_name), ''), au.email, '')::text,
       COALESCE(NULLIF(trim(tu.first_name || ' ' || tu.last_name), ''), tu.email, '')::text
FROM organizations o
JOIN memberships m ON m.organization_id = o.id AND m.deleted_at IS NULL
 AND m.user_id = (SELECT u.id FROM users u WHERE u.clerk_id = $1 AND u.deleted_at IS NULL)
JOIN audit_log a ON a.organization_clerk_id = o.clerk_id
LEFT JOIN users au ON au.clerk_id = a.actor
LEFT JOIN users tu ON tu.clerk_id = a.target
WHERE o.clerk_id = $2 AND o.deleted_at IS NULL
ORDER BY a.created_at DESC, a.id DESC`
)

// TestAuditMigrationKeepsWhatScreensShow writes audit entries the way the
// app did before migration 00006 (admin actions, the membership trigger, an
// organisation audited before its webhook, an actor never synced), then
// migrates: the screens' queries show the same rows, the entries now hold
// row ids, late rows still link, and a changed provider id changes what is
// shown but not whom it names. Migrating down restores the old rows.
func TestAuditMigrationKeepsWhatScreensShow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	if err := database.MigrateTo(ctx, pool, auditAppIDs-1); err != nil {
		t.Fatalf("down to %d: %v", auditAppIDs-1, err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (clerk_id, email, first_name, last_name) VALUES
	        ('user_alice', 'alice@acme.test', 'Alice', 'Anders'),
	        ('user_bob', 'bob@acme.test', '', ''),
	        ('user_gone', '', '', '')`)
	exec(`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_acme', 'Acme', 'acme')`)
	exec(`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
	      SELECT 'orgmem_alice', o.id, u.id, 'org:admin' FROM organizations o, users u
	      WHERE o.clerk_id = 'org_acme' AND u.clerk_id = 'user_alice'`)
	// The trigger audits these two as actor "clerk".
	exec(`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
	      SELECT 'orgmem_bob', o.id, u.id, 'org:member' FROM organizations o, users u
	      WHERE o.clerk_id = 'org_acme' AND u.clerk_id = 'user_bob'`)
	var acme int64
	if err := pool.QueryRow(ctx, `SELECT id FROM organizations WHERE clerk_id = 'org_acme'`).Scan(&acme); err != nil {
		t.Fatal(err)
	}
	// Admin actions by row id, app actions by Clerk id, as both writers did.
	exec(`INSERT INTO audit_log (organization_id, actor, action, target, details) VALUES
	        ($1, 'user_alice', 'member.role_changed', 'user_bob', '{"from":"org:member","to":"org:admin"}'),
	        ($1, 'user_alice', 'invitation.created', 'orginv_1', '{"email":"new@acme.test"}'),
	        ($1, 'user_alice', 'organization.settings_updated', 'org_acme', '{}'),
	        ($1, 'user_bob', 'member.removed', 'user_gone', '{}')`, acme)
	exec(`INSERT INTO audit_log (organization_clerk_id, actor, impersonator, action, target, details) VALUES
	        ('org_acme', 'user_bob', 'user_alice', 'project.created', '42', '{"name":"Apollo"}'),
	        ('org_acme', 'user_ghost', '', 'organization.exported', '', '{}'),
	        ('org_acme', 'user_alice', '', 'organization.created', 'org_acme', '{"name":"Acme"}'),
	        ('org_late', 'user_alice', '', 'organization.created', 'org_late', '{"name":"Late"}')`)

	adminBefore := rowsOf(t, pool, oldAdminList, acme)
	memberBefore := rowsOf(t, pool, oldMemberList, "user_alice", "org_acme")
	if len(adminBefore) != 9 || len(memberBefore) != 9 {
		t.Fatalf("before: %d admin rows, %d member rows; want 9 each:\n%v", len(adminBefore), len(memberBefore), adminBefore)
	}

	if err := database.MigrateTo(ctx, pool, auditAppIDs); err != nil {
		t.Fatalf("up to %d: %v", auditAppIDs, err)
	}
	q := store.New(pool)
	adminList := func() []string {
		t.Helper()
		rows, err := q.AdminListAudit(ctx, store.AdminListAuditParams{
			OrgID: &acme, BeforeID: math.MaxInt64,
			BeforeAt: pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r.Actor, "|", r.Impersonator, "|", r.Action, "|", r.Target, "|", string(r.Details), "|", r.ActorName))
		}
		return out
	}
	memberList := func(user, org string) []string {
		t.Helper()
		rows, err := q.ListAuditEntries(ctx, store.ListAuditEntriesParams{UserClerkID: user, OrgClerkID: org, MaxRows: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r.Actor, "|", r.Impersonator, "|", r.Action, "|", r.Target, "|", string(r.Details), "|", r.ActorName, "|", r.TargetName))
		}
		return out
	}
	if got := adminList(); !slices.Equal(got, adminBefore) {
		t.Errorf("admin audit screen changed:\n got %q\nwant %q", got, adminBefore)
	}
	if got := memberList("user_alice", "org_acme"); !slices.Equal(got, memberBefore) {
		t.Errorf("member audit list changed:\n got %q\nwant %q", got, memberBefore)
	}

	// Every synced person and organisation is now a row id; what was not
	// synced stays text until it is.
	var providerIDs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log
	    WHERE actor ~ '^user_' OR impersonator ~ '^user_' OR target ~ '^(user|org)_' OR organization_clerk_id <> ''`).Scan(&providerIDs); err != nil {
		t.Fatal(err)
	}
	if providerIDs != 2 { // user_ghost, and org_late (its org and target)
		t.Errorf("%d entries still hold provider ids, want 2 (the ones never synced)", providerIDs)
	}
	exec(`INSERT INTO users (clerk_id, email, first_name) VALUES ('user_ghost', 'ghost@acme.test', 'Ghost')`)
	exec(`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_late', 'Late', 'late')`)
	var linked int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log a
	    JOIN users u ON u.id = a.actor_id
	    WHERE (u.clerk_id = 'user_ghost' AND a.action = 'organization.exported')
	       OR (a.organization_id = a.target_organization_id AND a.target_organization_id = (SELECT id FROM organizations WHERE clerk_id = 'org_late'))`).Scan(&linked); err != nil {
		t.Fatal(err)
	}
	if linked != 2 {
		t.Errorf("%d late rows linked, want 2 (the user's and the organisation's entries)", linked)
	}

	// The provider's ids change (a move to another instance): the entries
	// still name the same people, shown under their new ids.
	exec(`UPDATE users SET clerk_id = 'user_new_' || id`)
	exec(`UPDATE organizations SET clerk_id = 'org_new_' || id`)
	var aliceNew, acmeNew string
	if err := pool.QueryRow(ctx, `SELECT u.clerk_id, o.clerk_id FROM users u, organizations o WHERE u.email = 'alice@acme.test' AND o.id = $1`, acme).Scan(&aliceNew, &acmeNew); err != nil {
		t.Fatal(err)
	}
	after := memberList(aliceNew, acmeNew)
	if len(after) != 9 {
		t.Fatalf("after the ids changed: %d entries, want 9: %q", len(after), after)
	}
	for _, want := range []string{
		aliceNew + "||member.role_changed|" + userClerkID(t, pool, "bob@acme.test") + `|{"to": "org:admin", "from": "org:member"}|Alice Anders|bob@acme.test`,
		aliceNew + "||organization.created|" + acmeNew + `|{"name": "Acme"}|Alice Anders|`,
		userClerkID(t, pool, "ghost@acme.test") + "||organization.exported||{}|Ghost|",
	} {
		if !slices.Contains(after, want) {
			t.Errorf("after the ids changed, no entry %q in\n%q", want, after)
		}
	}

	// Down restores the old rows, which the old queries read alike.
	adminAfter, memberAfter := adminList(), memberList(aliceNew, acmeNew)
	if err := database.MigrateTo(ctx, pool, auditAppIDs-1); err != nil {
		t.Fatalf("down to %d: %v", auditAppIDs-1, err)
	}
	if got := rowsOf(t, pool, oldAdminList, acme); !slices.Equal(got, adminAfter) {
		t.Errorf("after down, admin list:\n got %q\nwant %q", got, adminAfter)
	}
	if got := rowsOf(t, pool, oldMemberList, aliceNew, acmeNew); !slices.Equal(got, memberAfter) {
		t.Errorf("after down, member list:\n got %q\nwant %q", got, memberAfter)
	}
}

// rowsOf runs one of the old list queries and renders each row as the
// columns joined by "|".
func rowsOf(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		var s string
		for i, v := range vals {
			if i > 0 {
				s += "|"
			}
			s += fmt.Sprint(v)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func userClerkID(t *testing.T, pool *pgxpool.Pool, email string) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), `SELECT clerk_id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
