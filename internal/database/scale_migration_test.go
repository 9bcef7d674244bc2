package database_test

import (
	"context"
	"testing"

	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// scaleVersion is 00009_scale.sql: counters, sort keys, search columns.
const scaleVersion = 9

// TestScaleMigrationBackfillsAndGoesDown: on a database with data written
// before it, the migration fills the counters, the hourly buckets and the
// members' sort keys from the rows there; its Down section applies, and
// applying it again gives the same counts.
func TestScaleMigrationBackfillsAndGoesDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	if err := database.MigrateTo(ctx, pool, scaleVersion-1); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_a', 'A', 'a'), ('org_b', 'B', 'b')`,
		`INSERT INTO users (clerk_id, email, first_name, last_name) VALUES ('user_1', 'One@A.test', 'Zoe', 'Young'), ('user_2', 'two@a.test', 'Al', 'Bo')`,
		`INSERT INTO memberships (clerk_id, organization_id, user_id, role, deleted_at)
		 SELECT 'm_' || u.clerk_id || o.clerk_id, o.id, u.id, 'org:member', CASE WHEN u.clerk_id = 'user_2' AND o.slug = 'b' THEN now() END
		 FROM organizations o, users u`,
		`INSERT INTO projects (organization_id, name) SELECT id, 'p' FROM organizations WHERE slug = 'a'`,
		`INSERT INTO audit_log (organization_id, action, created_at) SELECT id, 'x', now() - interval '8 days' FROM organizations WHERE slug = 'a'`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	check := func(step string) {
		t.Helper()
		var got string
		err := pool.QueryRow(ctx, `SELECT string_agg(o.slug || ':' || s.members || '/' || s.projects || '/' ||
			(SELECT COALESCE(sum(entries), 0) FROM audit_activity_hourly h WHERE h.organization_id = o.id), ' ' ORDER BY o.slug)
			FROM organizations o JOIN organization_stats s ON s.organization_id = o.id`).Scan(&got)
		// a: two members, one project, two "member.added" and one older
		// entry; b: one live member, a tombstone, one "member.added".
		if want := "a:2/1/3 b:1/0/1"; err != nil || got != want {
			t.Fatalf("%s: counters %q, %v; want %q", step, got, err, want)
		}
		var sortName, search string
		err = pool.QueryRow(ctx, `SELECT m.sort_name, u.search FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.clerk_id = 'm_user_1org_a'`).Scan(&sortName, &search)
		if err != nil || sortName != "zoe young <one@a.test>" || search != "one@a.test zoe young" {
			t.Fatalf("%s: sort_name %q, search %q, %v", step, sortName, search, err)
		}
	}
	if err := database.MigrateTo(ctx, pool, scaleVersion); err != nil {
		t.Fatal(err)
	}
	check("up")
	if err := database.MigrateTo(ctx, pool, scaleVersion-1); err != nil {
		t.Fatalf("down: %v", err)
	}
	if err := database.MigrateTo(ctx, pool, scaleVersion); err != nil {
		t.Fatalf("up again: %v", err)
	}
	check("up again")
}
