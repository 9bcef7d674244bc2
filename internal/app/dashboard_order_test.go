package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/saasstarter/saas/internal/routes"
)

// TestDashboardPreviewsInOrder: the dashboard's three previews come from
// one statement as arrays, which take the order of their sorted, limited
// subqueries. With more rows than each preview shows, the page lists
// exactly the first ones in order: members admins first, then by name;
// activity and projects newest first, with a link to all the projects.
func TestDashboardPreviewsInOrder(t *testing.T) {
	t.Parallel()
	ta := start(t)
	ta.synced(t)
	ctx := context.Background()
	acme := admOrg(t, ta, "acme")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := ta.App.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Inserted out of their display order: names descending by insertion,
	// an admin among them, entries whose timestamps and ids disagree (and
	// newer than the seed's, so that they fill the preview).
	exec(`INSERT INTO users (clerk_id, email, first_name, last_name)
	      SELECT 'user_order_' || g, 'order' || g || '@acme.test', 'Order', lpad((13 - g)::text, 2, '0') FROM generate_series(1, 12) g`)
	exec(`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
	      SELECT 'orgmem_order_' || u.clerk_id, o.id, u.id, CASE WHEN u.clerk_id = 'user_order_3' THEN 'org:admin' ELSE 'org:member' END
	      FROM organizations o, users u WHERE o.clerk_id = $1 AND u.clerk_id LIKE 'user_order_%'`, acme)
	exec(`INSERT INTO audit_log (organization_id, action, details, created_at)
	      SELECT o.id, 'project.created', jsonb_build_object('name', 'Entry ' || lpad(g::text, 2, '0')), now() + interval '1 day' + (g % 5) * interval '1 minute' - g * interval '1 hour'
	      FROM organizations o, generate_series(1, 15) g WHERE o.clerk_id = $1`, acme)
	exec(`INSERT INTO projects (organization_id, name)
	      SELECT o.id, 'Proj ' || lpad(g::text, 2, '0') FROM organizations o, generate_series(1, 25) g WHERE o.clerk_id = $1`, acme)

	// The expected previews, read with ORDER BY from the same rows.
	want := func(sql string) []string {
		t.Helper()
		rows, err := ta.App.Pool().Query(ctx, sql, acme)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	members := want(`SELECT COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.email)
		FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.organization_id
		WHERE o.clerk_id = $1 AND m.deleted_at IS NULL AND u.deleted_at IS NULL
		ORDER BY m.role <> 'org:admin', m.sort_name, m.id LIMIT 8`)
	entries := want(`SELECT a.details->>'name' FROM audit_log a JOIN organizations o ON o.id = a.organization_id
		WHERE o.clerk_id = $1 AND a.action = 'project.created' ORDER BY a.created_at DESC, a.id DESC LIMIT 10`)
	projects := want(`SELECT p.name FROM projects p JOIN organizations o ON o.id = p.organization_id
		WHERE o.clerk_id = $1 ORDER BY p.id DESC LIMIT 5`)
	if len(members) != 8 || len(entries) != 10 || len(projects) != 5 {
		t.Fatalf("expected previews: %d members, %d entries, %d projects", len(members), len(entries), len(projects))
	}

	_, doc := pageReq(t, ta, hreq{path: routes.Dashboard, token: sessionToken(t, ta.Server, "alice@acme.test", "")})
	if got := textsOf(doc, `[data-testid="member-name"]`); !slices.Equal(got, members) {
		t.Errorf("members = %q\nwant      %q", got, members)
	}
	var gotEntries []string
	for _, s := range textsOf(doc, `[data-testid="activity-sentence"]`) {
		for _, e := range entries {
			if strings.Contains(s, "“"+e+"”") {
				gotEntries = append(gotEntries, e)
			}
		}
	}
	if !slices.Equal(gotEntries, entries) {
		t.Errorf("activity = %q\nwant       %q", gotEntries, entries)
	}
	if got := textsOf(doc, `[data-testid="project-name"]`); !slices.Equal(got, projects) {
		t.Errorf("projects = %q\nwant       %q", got, projects)
	}
	// The rest of the 25 projects are one link away.
	if all := doc.Find(`[data-testid="projects-all"]`); all.Text() != "See all 25 projects" || all.AttrOr("href", "") != routes.Projects {
		t.Errorf("link to the projects = %q → %q", all.Text(), all.AttrOr("href", ""))
	}
}
