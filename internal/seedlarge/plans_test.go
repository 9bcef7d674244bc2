package seedlarge_test

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/clerksync"
	"github.com/saasstarter/saas/internal/database"
	"github.com/saasstarter/saas/internal/seedlarge"
	"github.com/saasstarter/saas/internal/testdb"
)

// representative is a seed large enough that the planner prefers the
// indexes it would use at full size (seedlarge.Full): as many members and
// organisations (the tables the searches read), a tenth or more of the
// rest, which is made in a few seconds.
var representative = seedlarge.Sizes{Org: "acme", Members: 10_000, Projects: 20_000, Audit: 100_000, Deliveries: 30_000, OtherOrgs: 5_000}

// seeded is a migrated database with Acme, its admin Alice (user_alice) and
// the representative seed.
func seeded(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := database.Open(ctx, testdb.New(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, sql := range []string{
		`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_acme', 'Acme', 'acme'), ('org_globex', 'Globex', 'globex')`,
		`INSERT INTO users (clerk_id, email, first_name, last_name) VALUES ('user_alice', 'alice@acme.test', 'Alice', 'Anders')`,
		`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
		 SELECT 'orgmem_alice', o.id, u.id, 'org:admin' FROM organizations o, users u WHERE o.slug = 'acme'`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if err := seedlarge.Run(ctx, pool, representative, nil); err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestSeedCountersAndRefusal: the seed makes the rows asked for, the
// counters the triggers keep agree with count(*), and a second run is
// refused without writing anything.
func TestSeedCountersAndRefusal(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	ctx := context.Background()
	count := func(sql string) int64 {
		t.Helper()
		var n int64
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	const acme = "(SELECT id FROM organizations WHERE slug = 'acme')"
	for _, c := range []struct {
		sql  string
		want int64
	}{
		{"SELECT count(*) FROM memberships WHERE deleted_at IS NULL AND organization_id = " + acme, int64(representative.Members) + 1},
		{"SELECT members FROM organization_stats WHERE organization_id = " + acme, int64(representative.Members) + 1},
		{"SELECT projects FROM organization_stats WHERE organization_id = " + acme, int64(representative.Projects)},
		{"SELECT count(*) FROM projects WHERE organization_id = " + acme, int64(representative.Projects)},
		{"SELECT count(*) FROM webhook_events", int64(representative.Deliveries)},
		{"SELECT count(*) FROM organizations", int64(representative.OtherOrgs) + 2},
		{"SELECT count(*) FROM organization_stats", int64(representative.OtherOrgs) + 2},
		// The seeded entries plus one "member.added" per membership (the
		// memberships_audit trigger).
		{"SELECT sum(entries) FROM audit_activity_hourly WHERE organization_id = " + acme, int64(representative.Audit+representative.Members) + 1},
		{"SELECT count(*) FROM audit_log WHERE organization_id = " + acme, int64(representative.Audit+representative.Members) + 1},
	} {
		if got := count(c.sql); got != c.want {
			t.Errorf("%s = %d, want %d", c.sql, got, c.want)
		}
	}

	err := seedlarge.Run(ctx, pool, representative, nil)
	if !errors.Is(err, seedlarge.ErrSeeded) {
		t.Fatalf("second run: %v, want ErrSeeded", err)
	}
	if got := count("SELECT count(*) FROM projects"); got != int64(representative.Projects) {
		t.Fatalf("projects after the refused run = %d", got)
	}
	if err := seedlarge.Run(ctx, pool, seedlarge.Sizes{Org: "nope"}, nil); err == nil {
		t.Fatal("an unknown organisation was accepted")
	}
}

// TestCountersFollowChanges: the counters follow single-row changes the
// way the app makes them (insert, tombstone, revive, delete, an audit entry
// linked to its organisation later), and a deleted organisation takes its
// counters with it.
func TestCountersFollowChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := database.Open(ctx, testdb.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	stats := func() (members, projects, week int64) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT s.members, s.projects,
			(SELECT COALESCE(sum(entries), 0) FROM audit_activity_hourly h WHERE h.organization_id = s.organization_id AND h.hour > now() - interval '7 days')::bigint
			FROM organization_stats s JOIN organizations o ON o.id = s.organization_id WHERE o.clerk_id = 'org_a'`).Scan(&members, &projects, &week)
		if err != nil {
			t.Fatal(err)
		}
		return members, projects, week
	}
	expect := func(step string, m, p, w int64) {
		t.Helper()
		if gm, gp, gw := stats(); gm != m || gp != p || gw != w {
			t.Fatalf("%s: members, projects, week = %d, %d, %d; want %d, %d, %d", step, gm, gp, gw, m, p, w)
		}
	}
	exec(`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_a', 'A', 'a')`)
	expect("new org", 0, 0, 0)
	exec(`INSERT INTO users (clerk_id, email, first_name) VALUES ('user_1', 'one@a.test', 'Zed'), ('user_2', 'two@a.test', 'Amy')`)
	exec(`INSERT INTO memberships (clerk_id, organization_id, user_id, role)
	      SELECT 'orgmem_' || u.clerk_id, o.id, u.id, 'org:member' FROM organizations o, users u`)
	// Two members, and the trigger's two "member.added" entries.
	expect("two members", 2, 0, 2)
	exec(`UPDATE memberships SET deleted_at = now() WHERE clerk_id = 'orgmem_user_1'`)
	expect("tombstone", 1, 0, 3)
	exec(`UPDATE memberships SET role = 'org:admin' WHERE clerk_id = 'orgmem_user_1'`)
	expect("a tombstone's role", 1, 0, 3)
	exec(`DELETE FROM memberships WHERE clerk_id = 'orgmem_user_2'`)
	expect("delete", 0, 0, 3)
	exec(`INSERT INTO projects (organization_id, name) SELECT id, 'p' || g FROM organizations, generate_series(1, 3) g`)
	exec(`DELETE FROM projects WHERE name = 'p2'`)
	expect("projects", 0, 2, 3)
	exec(`INSERT INTO audit_log (organization_id, action, created_at) SELECT id, 'old', now() - interval '8 days' FROM organizations`)
	expect("an entry older than a week", 0, 2, 3)
	// An entry written before its organisation is synced counts once the
	// organisation's row links it.
	exec(`INSERT INTO audit_log (organization_clerk_id, action) VALUES ('org_b', 'early')`)
	exec(`INSERT INTO organizations (clerk_id, name, slug) VALUES ('org_b', 'B', 'b')`)
	var early int64
	if err := pool.QueryRow(ctx, `SELECT COALESCE(sum(entries), 0) FROM audit_activity_hourly h
		JOIN organizations o ON o.id = h.organization_id WHERE o.clerk_id = 'org_b'`).Scan(&early); err != nil || early != 1 {
		t.Fatalf("entries of the org synced late = %d, %v; want 1", early, err)
	}
	// The sort key follows the user's name.
	exec(`UPDATE users SET first_name = 'Ann' WHERE clerk_id = 'user_1'`)
	var sortName string
	if err := pool.QueryRow(ctx, `SELECT sort_name FROM memberships WHERE clerk_id = 'orgmem_user_1'`).Scan(&sortName); err != nil || sortName != "ann  <one@a.test>" {
		t.Fatalf("sort_name = %q, %v", sortName, err)
	}
	exec(`DELETE FROM organizations WHERE clerk_id = 'org_a'`)
	var left int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM organization_stats) + (SELECT count(*) FROM audit_activity_hourly)`).Scan(&left); err != nil || left != 2 {
		t.Fatalf("stats rows left after deleting org_a = %d, %v; want 2 (org_b's)", left, err)
	}
}

// TestHotQueriesUseIndexes EXPLAINs every query a hot screen runs (the
// dashboard, the admin members, audit and webhook lists, the operator
// directory and deliveries, the projects list), first pages and later ones,
// with the arguments the handlers pass, on the representative seed: none may
// read a big table from end to end (Seq Scan).
func TestHotQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	ctx := context.Background()
	var acme int64
	if err := pool.QueryRow(ctx, "SELECT id FROM organizations WHERE slug = 'acme'").Scan(&acme); err != nil {
		t.Fatal(err)
	}
	first := pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	later := pgtype.Timestamptz{Time: time.Now().Add(-30 * 24 * time.Hour), Valid: true}
	dirFirst := func(search string) store.OpsSearchUsersParams {
		return store.OpsSearchUsersParams{ID: search, Search: search, BeforeLive: true, BeforeAt: first, BeforeID: math.MaxInt64}
	}
	dirLater := store.OpsListUsersParams{BeforeLive: true, BeforeAt: later, BeforeID: 5_000}
	listFirst := store.OpsListUsersParams{BeforeLive: true, BeforeAt: first, BeforeID: math.MaxInt64}
	cursor := &clerksync.DeliveryCursor{ReceivedAt: time.Now().Add(-30 * 24 * time.Hour), ID: 20_000}

	queries := map[string]func(q *store.Queries, ex *explainer) error{
		"dashboard": func(q *store.Queries, _ *explainer) error {
			_, err := q.GetDashboard(ctx, store.GetDashboardParams{UserClerkID: "user_alice", OrgClerkID: "org_acme"})
			return err
		},
		"admin scope": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminOrgScope(ctx, store.AdminOrgScopeParams{CallerClerkID: "user_alice", OrgClerkID: "org_acme"})
			return err
		},
		"members first page": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListMembers(ctx, store.AdminListMembersParams{OrgID: acme})
			return err
		},
		"members later page": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListMembers(ctx, store.AdminListMembersParams{OrgID: acme, AfterNotAdmin: true, AfterSortName: "kofi", AfterID: 1})
			return err
		},
		"members search, many matches": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListMembers(ctx, store.AdminListMembersParams{OrgID: acme, Search: "ada"})
			return err
		},
		"members search, one match": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListMembers(ctx, store.AdminListMembersParams{OrgID: acme, Search: "kofi.kim.1234@"})
			return err
		},
		"members count": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminCountMembers(ctx, acme)
			return err
		},
		"audit first page": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListAudit(ctx, store.AdminListAuditParams{OrgID: &acme, BeforeAt: first, BeforeID: math.MaxInt64})
			return err
		},
		"audit later page": func(q *store.Queries, _ *explainer) error {
			_, err := q.AdminListAudit(ctx, store.AdminListAuditParams{OrgID: &acme, BeforeAt: later, BeforeID: 50_000})
			return err
		},
		"ops health": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsSyncHealth(ctx)
			return err
		},
		"ops directory users": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsListUsers(ctx, listFirst)
			return err
		},
		"ops directory users later page": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsListUsers(ctx, dirLater)
			return err
		},
		"ops directory orgs later page": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsListOrganizations(ctx, store.OpsListOrganizationsParams(dirLater))
			return err
		},
		"ops directory users search": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsSearchUsers(ctx, dirFirst("kim"))
			return err
		},
		"ops directory orgs": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsListOrganizations(ctx, store.OpsListOrganizationsParams(listFirst))
			return err
		},
		"ops directory users search, no match": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsSearchUsers(ctx, dirFirst("zzqx"))
			return err
		},
		"ops directory orgs search, no match": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsSearchOrganizations(ctx, store.OpsSearchOrganizationsParams(dirFirst("kim")))
			return err
		},
		"ops directory orgs search": func(q *store.Queries, _ *explainer) error {
			_, err := q.OpsSearchOrganizations(ctx, store.OpsSearchOrganizationsParams(dirFirst("org-12")))
			return err
		},
		"projects list": func(q *store.Queries, _ *explainer) error {
			_, err := q.ListProjects(ctx, store.ListProjectsParams{UserClerkID: "user_alice", OrgClerkID: "org_acme"})
			return err
		},
		"projects count": func(q *store.Queries, _ *explainer) error {
			_, err := q.CountProjects(ctx, store.CountProjectsParams{UserClerkID: "user_alice", OrgClerkID: "org_acme"})
			return err
		},
		"org members (API)": func(q *store.Queries, _ *explainer) error {
			_, err := q.ListOrgMembers(ctx, store.ListOrgMembersParams{UserClerkID: "user_alice", OrgClerkID: "org_acme", MaxRows: 50})
			return err
		},
	}
	for name, f := range map[string]clerksync.DeliveryFilter{
		"admin webhooks":                {OrganizationID: "org_acme", Limit: 20},
		"admin webhooks later page":     {OrganizationID: "org_acme", Limit: 20, Before: cursor},
		"admin webhooks failed":         {OrganizationID: "org_acme", Status: clerksync.StatusFailed, Limit: 20},
		"admin webhooks by type":        {OrganizationID: "org_acme", Type: "user.updated", Limit: 20},
		"ops deliveries":                {Limit: 20},
		"ops deliveries later page":     {Limit: 20, Before: cursor},
		"ops deliveries failed":         {Status: clerksync.StatusFailed, Limit: 20},
		"ops deliveries by type":        {Type: "organization.updated", Limit: 20},
		"ops deliveries of another org": {OrganizationID: "org_globex", Limit: 20},
	} {
		queries[name] = func(_ *store.Queries, ex *explainer) error {
			sql, args := clerksync.DeliveriesSQL(f)
			_, err := ex.Query(ctx, sql, args...)
			return err
		}
	}

	bigTables := regexp.MustCompile(`Seq Scan on (users|organizations|memberships|projects|audit_log|webhook_events)\b`)
	for name, run := range queries {
		ex := &explainer{pool: pool}
		if err := run(store.New(ex), ex); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ex.err != nil {
			t.Errorf("%s: EXPLAIN: %v", name, ex.err)
			continue
		}
		if len(ex.plans) == 0 {
			t.Errorf("%s: ran no statement", name)
		}
		for _, plan := range ex.plans {
			if m := bigTables.FindString(plan); m != "" || !strings.Contains(plan, "Index") {
				t.Errorf("%s reads a big table without an index (%q):\n%s", name, m, plan)
			}
		}
	}
}

// explainer is a store.DBTX that EXPLAINs each statement, with its
// arguments, instead of running it, and answers with no rows.
type explainer struct {
	pool  *pgxpool.Pool
	plans []string
	err   error
}

func (e *explainer) explain(ctx context.Context, sql string, args []any) {
	rows, err := e.pool.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, args...)
	if err != nil {
		e.err = errors.Join(e.err, err)
		return
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.err = errors.Join(e.err, err)
		return
	}
	e.plans = append(e.plans, strings.Join(lines, "\n"))
}

func (e *explainer) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	e.explain(ctx, sql, args)
	return pgconn.CommandTag{}, nil
}

func (e *explainer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	e.explain(ctx, sql, args)
	return noRows{}, nil
}

func (e *explainer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	e.explain(ctx, sql, args)
	return noRows{}
}

// noRows is an empty result.
type noRows struct{}

func (noRows) Close()                                       {}
func (noRows) Err() error                                   { return nil }
func (noRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (noRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (noRows) Next() bool                                   { return false }
func (noRows) Scan(...any) error                            { return pgx.ErrNoRows }
func (noRows) Values() ([]any, error)                       { return nil, nil }
func (noRows) RawValues() [][]byte                          { return nil }
func (noRows) Conn() *pgx.Conn                              { return nil }
func (noRows) TypeMap() *pgtype.Map                         { return nil }
