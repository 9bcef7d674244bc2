package database_test

import (
	"context"
	"testing"

	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestDashboardVersionBumpsOnWhatTheDashboardShows: migration 00010's
// organisation version moves with every change the dashboard shows of the
// organisation (its own row, members joining, leaving or changing role,
// projects added, renamed or removed), only for that organisation, and not
// for writes that change nothing shown. The Down section applies.
func TestDashboardVersionBumpsOnWhatTheDashboardShows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	if err := database.MigrateTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_a', 'A', 'a'), ('org_b', 'B', 'b')`)
	exec(`INSERT INTO users (clerk_id, email, first_name) VALUES ('user_1', 'one@a.test', 'One'), ('user_2', 'two@a.test', 'Two')`)
	version := func(slug string) int64 {
		t.Helper()
		var v int64
		if err := pool.QueryRow(ctx, `SELECT s.version FROM organization_stats s JOIN organizations o ON o.id = s.organization_id
			WHERE o.slug = $1`, slug).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, step := range []struct {
		sql  string
		bump bool
	}{
		{`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
		  SELECT 'm_1', o.id, u.id, 'org:admin' FROM organizations o, users u WHERE o.slug = 'a' AND u.clerk_id = 'user_1'`, true},
		{`INSERT INTO memberships (clerk_id, organization_id, user_id, role, deleted_at)
		  SELECT 'm_2', o.id, u.id, 'org:member', now() FROM organizations o, users u WHERE o.slug = 'a' AND u.clerk_id = 'user_2'`, false},
		{`UPDATE memberships SET deleted_at = NULL WHERE clerk_id = 'm_2'`, true},
		{`UPDATE memberships SET role = 'org:admin' WHERE clerk_id = 'm_2'`, true},
		{`UPDATE memberships SET role = 'org:admin' WHERE clerk_id = 'm_2'`, false},
		{`UPDATE memberships SET deleted_at = now() WHERE clerk_id = 'm_2'`, true},
		{`UPDATE memberships SET role = 'org:member' WHERE clerk_id = 'm_2'`, false}, // a tombstone
		{`INSERT INTO projects (organization_id, name) SELECT id, 'p' FROM organizations WHERE slug = 'a'`, true},
		{`UPDATE projects SET name = 'q'`, true},
		{`UPDATE projects SET name = 'q'`, false},
		{`DELETE FROM projects`, true},
		{`UPDATE organizations SET name = 'A2' WHERE slug = 'a'`, true},
		{`UPDATE organizations SET plan = 'pro' WHERE slug = 'a'`, true},
		{`UPDATE organizations SET image_url = 'https://img.test/a.png' WHERE slug = 'a'`, true},
		{`UPDATE organizations SET name = 'A2' WHERE slug = 'a'`, false},
		{`UPDATE organizations SET public_metadata = '{"x":1}' WHERE slug = 'a'`, false},
	} {
		a, b := version("a"), version("b")
		exec(step.sql)
		if got := version("a") > a; got != step.bump {
			t.Errorf("%s: version of a moved %v, want %v", step.sql, got, step.bump)
		}
		if version("b") != b {
			t.Errorf("%s: version of b moved", step.sql)
		}
	}
	if err := database.MigrateTo(ctx, pool, 9); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE projects SET name = 'r'`)
	if err := database.MigrateTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
}
