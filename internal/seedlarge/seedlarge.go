// Package seedlarge fills an app database with one large organisation and
// many small ones, to measure how the product's cost grows with a tenant's
// size (`web seed-large`, docs/PERFORMANCE.md). Rows are made by the
// database itself (INSERT … SELECT over generate_series), so a million
// audit entries take seconds rather than a million round trips; the
// triggers that keep the counters and sort keys run as for any other write.
//
// The rows are synthetic and exist only in the app's database, not in the
// identity provider: the seeded members cannot sign in. The organisation
// they join is an existing one (the development seed's Acme by default), so
// its real admins see it at full size.
package seedlarge

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sizes are how many rows to make.
type Sizes struct {
	// Org is the slug of the organisation that grows.
	Org        string
	Members    int
	Projects   int
	Audit      int
	Deliveries int
	// OtherOrgs are small organisations beside it.
	OtherOrgs int
}

// Full is the size of issue 16's large-data measurement.
var Full = Sizes{Org: "acme", Members: 10_000, Projects: 100_000, Audit: 1_000_000, Deliveries: 200_000, OtherOrgs: 5_000}

// Marker is the Clerk id prefix of every seeded row; a database holding one
// has been seeded.
const Marker = "seed_large_"

// ErrSeeded refuses a second run: the counts would no longer be the ones
// asked for.
var ErrSeeded = errors.New("this database has already been seeded (its rows have ids starting with " + Marker + "); drop it and start over to seed again")

// Progress is told each step as it starts and as it ends, with the rows
// made so far.
type Progress func(step string, done, total int)

// batch is the number of rows per statement of the big tables: small enough
// to show progress and keep each statement's trigger work bounded.
const batch = 100_000

// Run seeds the database in one transaction: it either completes or leaves
// nothing. It refuses (ErrSeeded) a database seeded before, and a missing
// organisation. The tables are vacuumed and analysed at the end, so the
// planner sees them at their new size at once (and the trigram indexes'
// pending entries are merged, which the planner would otherwise count
// against them).
func Run(ctx context.Context, pool *pgxpool.Pool, s Sizes, progress Progress) error {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	if s.Members < 0 || s.Projects < 0 || s.Audit < 0 || s.Deliveries < 0 || s.OtherOrgs < 0 {
		return errors.New("sizes must not be negative")
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// One seeding at a time: a concurrent second run waits here, then
		// sees the first one's rows and refuses.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('seed-large', 0))"); err != nil {
			return err
		}
		var seeded bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE clerk_id LIKE $1 || '%')", Marker).Scan(&seeded); err != nil {
			return err
		}
		if seeded {
			return ErrSeeded
		}
		var orgID int64
		var orgClerkID string
		err := tx.QueryRow(ctx, "SELECT id, clerk_id FROM organizations WHERE slug = $1 AND deleted_at IS NULL", s.Org).Scan(&orgID, &orgClerkID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("no organisation with slug %q: start the app once so the development seed syncs, or pass -org", s.Org)
		}
		if err != nil {
			return err
		}
		// The counting triggers update one row per inserted row, right for
		// the app's single-row writes; for a bulk load they are off (for
		// this transaction only: an error rolls the change back too) and
		// the organisation is recounted once at the end. ALTER TABLE locks
		// the tables against writes until the seed commits.
		for _, t := range countingTriggers {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+t[0]+" DISABLE TRIGGER "+t[1]); err != nil {
				return err
			}
		}
		steps := []struct {
			name  string
			total int
			sql   string
			args  func(from, to int) []any
		}{
			{"members", s.Members, insertUsers, func(f, t int) []any { return []any{Marker, f, t} }},
			{"members", s.Members, insertMemberships, func(f, t int) []any { return []any{Marker, f, t, orgID} }},
			{"projects", s.Projects, insertProjects, func(f, t int) []any { return []any{orgID, f, t} }},
			{"audit entries", s.Audit, insertAudit, func(f, t int) []any { return []any{orgID, f, t, Marker, max(s.Members, 1), s.Audit} }},
			{"webhook deliveries", s.Deliveries, insertDeliveries, func(f, t int) []any { return []any{orgClerkID, f, t, Marker, s.Deliveries} }},
			{"organisations", s.OtherOrgs, insertOrgs, func(f, t int) []any { return []any{Marker, f, t} }},
		}
		for i, st := range steps {
			// Users and their memberships are one step to the user.
			report := i != 0
			if report {
				progress(st.name, 0, st.total)
			}
			for from := 1; from <= st.total; from += batch {
				to := min(from+batch-1, st.total)
				if _, err := tx.Exec(ctx, st.sql, st.args(from, to)...); err != nil {
					return fmt.Errorf("%s: %w", st.name, err)
				}
				if report {
					progress(st.name, to, st.total)
				}
			}
		}
		progress("counters", 0, 1)
		for _, sql := range recount {
			if _, err := tx.Exec(ctx, sql, orgID); err != nil {
				return fmt.Errorf("counters: %w", err)
			}
		}
		for _, t := range countingTriggers {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+t[0]+" ENABLE TRIGGER "+t[1]); err != nil {
				return err
			}
		}
		progress("counters", 1, 1)
		return nil
	})
	if err != nil {
		return err
	}
	progress("statistics", 0, 1)
	for _, t := range []string{"users", "organizations", "memberships", "projects", "audit_log", "webhook_events",
		"organization_stats", "audit_activity_hourly"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	progress("statistics", 1, 1)
	return nil
}

// countingTriggers are the triggers that keep organization_stats and
// audit_activity_hourly for inserts (db/schema/00009_scale.sql).
var countingTriggers = [][2]string{
	{"memberships", "memberships_stats_ins"},
	{"projects", "projects_stats_ins"},
	{"audit_log", "audit_log_activity_ins"},
}

// recount sets the counters of organisation $1 from its rows, and moves
// its version (a cached dashboard of it is out of date).
var recount = []string{
	`UPDATE organization_stats SET
	     members = (SELECT count(*) FROM memberships m WHERE m.organization_id = $1 AND m.deleted_at IS NULL),
	     projects = (SELECT count(*) FROM projects p WHERE p.organization_id = $1),
	     version = version + 1
	 WHERE organization_id = $1`,
	`DELETE FROM audit_activity_hourly WHERE organization_id = $1`,
	`INSERT INTO audit_activity_hourly (organization_id, hour, entries)
	 SELECT $1, date_trunc('hour', created_at), count(*) FROM audit_log WHERE organization_id = $1 GROUP BY 2`,
}

// The statements take (…, from, to) and make rows from..to. Names are drawn
// from short lists, so a search matches a realistic share of the members;
// times are spread over the past year (audit) and quarter (deliveries), so
// "this week" holds about 2 % of the audit log.
const (
	insertUsers = `
INSERT INTO users (clerk_id, email, first_name, last_name, clerk_created_at, clerk_updated_at)
SELECT $1 || 'user_' || g,
       lower(f.n) || '.' || lower(l.n) || '.' || g || '@seed.example',
       f.n, l.n, now() - g * interval '1 minute', now() - g * interval '1 minute'
FROM generate_series($2::int, $3::int) g,
     LATERAL (SELECT (ARRAY['Ada','Ben','Chloe','Dev','Elif','Femi','Greta','Hugo','Ines','Jun','Kofi','Lena',
                            'Mateo','Nia','Omar','Priya','Quinn','Rosa','Sven','Tara'])[1 + g % 20] AS n) f,
     LATERAL (SELECT (ARRAY['Adams','Brown','Costa','Dubois','Evans','Fischer','Garcia','Haddad','Ito','Jensen',
                            'Kim','Lopez','Meyer','Novak','Okafor','Patel','Rossi','Silva','Tanaka','Weber'])[1 + (g / 20) % 20] AS n) l`

	insertMemberships = `
INSERT INTO memberships (clerk_id, organization_id, user_id, role, clerk_created_at, clerk_updated_at)
SELECT $1 || 'orgmem_' || g, $4, u.id, CASE WHEN g % 500 = 0 THEN 'org:admin' ELSE 'org:member' END,
       u.clerk_created_at, u.clerk_created_at
FROM generate_series($2::int, $3::int) g
JOIN users u ON u.clerk_id = $1 || 'user_' || g`

	insertProjects = `
INSERT INTO projects (organization_id, name, created_by, created_at, updated_at)
SELECT $1, 'Project ' || g, 'seed', now() - g * interval '5 minutes', now() - g * interval '5 minutes'
FROM generate_series($2::int, $3::int) g`

	insertAudit = `
INSERT INTO audit_log (organization_id, actor_id, action, target, details, created_at)
SELECT $1, u.id,
       (ARRAY['project.created','project.renamed','project.deleted','member.invited','settings.updated'])[1 + g % 5],
       'proj_' || g, '{}'::jsonb, now() - (g::float8 / $6::int) * interval '365 days'
FROM generate_series($2::int, $3::int) g
LEFT JOIN users u ON u.clerk_id = $4 || 'user_' || (1 + g % $5::int)`

	insertDeliveries = `
INSERT INTO webhook_events (svix_id, type, organization_id, object_id, instance_id, event_at, status, error,
                            payload, attempts, received_at, processed_at, last_attempt_at)
SELECT 'msg_' || $4 || g, t.type, $1, $4 || 'orgmem_' || g, 'ins_seed',
       r.at - interval '40 milliseconds',
       CASE WHEN g % 97 = 0 THEN 'failed' WHEN g % 13 = 0 THEN 'ignored' ELSE 'applied' END,
       CASE WHEN g % 97 = 0 THEN 'seeded failure' ELSE '' END,
       jsonb_build_object('type', t.type, 'object', 'event', 'data', jsonb_build_object('id', $4 || 'orgmem_' || g)),
       1, r.at, r.at + interval '5 milliseconds', r.at
FROM generate_series($2::int, $3::int) g,
     LATERAL (SELECT (ARRAY['organizationMembership.created','organizationMembership.updated','user.updated',
                            'organization.updated','organizationInvitation.created','session.created'])[1 + g % 6] AS type) t,
     LATERAL (SELECT now() - (g::float8 / $5::int) * interval '90 days' AS at) r`

	insertOrgs = `
INSERT INTO organizations (clerk_id, name, slug, plan, clerk_created_at, clerk_updated_at)
SELECT $1 || 'org_' || g, 'Seeded Org ' || g, 'seeded-org-' || g, 'free',
       now() - g * interval '10 minutes', now() - g * interval '10 minutes'
FROM generate_series($2::int, $3::int) g`
)
