package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tenantTables hold one organisation's data (organizations is the tenant
// itself). A statement that reads, changes or deletes rows of one of them
// must name an organisation.
var tenantTables = []string{"organizations", "memberships", "invitations", "projects", "audit_log", "usage_records"}

// crossTenant lists the statements that work across organisations on
// purpose, each with the reason. A new one fails TestQueriesNameAnOrganization
// until it is added here (or marked in its file with "-- cross-tenant:").
var crossTenant = map[string]string{
	// Webhook sync (internal/clerksync) applies Clerk's events by Clerk id.
	"TombstoneUserMemberships":          "sync: a deleted user leaves every organisation",
	"TombstoneMembershipByClerkID":      "sync: a membership is addressed by its own Clerk id",
	"ListLiveUsersForReconcile":         "reconcile compares the whole mirror with Clerk",
	"ListLiveOrganizationsForReconcile": "reconcile compares the whole mirror with Clerk",
	"ListLiveMembershipsForReconcile":   "reconcile compares the whole mirror with Clerk",
	// The caller's own organisations: scoped by the user, joined by org.
	"ListMyMemberships": "the caller's memberships in every organisation, for /orgs",
	// Deployment operators (handlers/ops) search across tenants by design.
	"OpsSearchUsers":         "operator console: cross-tenant search",
	"OpsSearchOrganizations": "operator console: cross-tenant search",
	"OpsListUsers":           "operator console: cross-tenant directory",
	"OpsListOrganizations":   "operator console: cross-tenant directory",
	"OpsSyncHealth":          "operator console: sync health across tenants",
}

var (
	nameRE      = regexp.MustCompile(`(?m)^--\s*name:\s*(\w+)`)
	orgPredRE   = regexp.MustCompile(`(?i)(organization_id|org_id)\s*(=|IN\b)|=\s*\w*\.?organization_id\b|\b(o|organizations)\.clerk_id\s*=|\bclerk_id\s*=\s*(sqlc\.n?arg\(|@)(org_clerk_id|organization_clerk_id|org_id)\b`)
	writeOnlyRE = regexp.MustCompile(`(?is)^\s*INSERT\b`)
)

// TestQueriesNameAnOrganization is checklist T-07: every sqlc statement in
// db/query that selects, updates or deletes rows of a tenant table has an
// organisation predicate (organization_id = …, or the organisation's own
// clerk_id = the org argument), unless it is a deliberate cross-tenant
// statement listed above. Plain INSERTs are exempt: they create rows of the
// organisation they are given.
func TestQueriesNameAnOrganization(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../db/query/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files: %v", err)
	}
	checked := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range splitQueries(string(src)) {
			if !touchesTenant(q.sql) || writeOnlyRE.MatchString(q.sql) && !strings.Contains(strings.ToUpper(q.sql), "SELECT") {
				continue
			}
			checked++
			if _, ok := crossTenant[q.name]; ok || strings.Contains(q.comments, "cross-tenant:") {
				continue
			}
			if !orgPredRE.MatchString(q.sql) {
				t.Errorf("%s: %s touches a tenant table without an organisation predicate", filepath.Base(f), q.name)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d statements checked: is the parser still finding the queries?", checked)
	}

	t.Run("CatchesAMissingPredicate", func(t *testing.T) {
		for _, sql := range []string{
			"SELECT * FROM projects WHERE id = $1",
			"UPDATE projects SET name = $1 WHERE id = $2",
			"DELETE FROM audit_log WHERE id = $1",
			"SELECT p.* FROM projects p JOIN users u ON u.clerk_id = $1",
		} {
			if !touchesTenant(sql) || orgPredRE.MatchString(sql) {
				t.Errorf("the lint lets %q through", sql)
			}
		}
	})
}

type namedQuery struct{ name, comments, sql string }

// splitQueries cuts a query file at its "-- name:" lines; the comment lines
// of each statement are kept apart from its SQL, so a table named in a
// comment does not count.
func splitQueries(src string) []namedQuery {
	idx := nameRE.FindAllStringSubmatchIndex(src, -1)
	var out []namedQuery
	for i, m := range idx {
		end := len(src)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		q := namedQuery{name: src[m[2]:m[3]]}
		var sql, comments strings.Builder
		body := src[m[1]:end]
		_, body, _ = strings.Cut(body, "\n") // the rest of the name line (":one")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--") {
				comments.WriteString(line + "\n")
			} else {
				sql.WriteString(line + "\n")
			}
		}
		q.sql, q.comments = sql.String(), comments.String()
		out = append(out, q)
	}
	return out
}

func touchesTenant(sql string) bool {
	for _, tbl := range tenantTables {
		if regexp.MustCompile(`(?i)\b(FROM|JOIN|UPDATE|INTO|USING)\s+` + tbl + `\b`).MatchString(sql) {
			return true
		}
	}
	return false
}
