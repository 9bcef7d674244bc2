package clerksync

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
)

// Counts is what Reconcile changed for one kind of object.
type Counts struct {
	Created, Updated, Deleted int
}

// Report is what Reconcile changed.
type Report struct {
	Users, Organizations, Memberships Counts
}

// String formats the report for the reconcile command's output.
func (r Report) String() string {
	f := func(c Counts) string {
		return fmt.Sprintf("%d created, %d updated, %d deleted", c.Created, c.Updated, c.Deleted)
	}
	return fmt.Sprintf("users: %s; organizations: %s; memberships: %s", f(r.Users), f(r.Organizations), f(r.Memberships))
}

// Reconcile repairs drift between the database and Clerk: it reads every
// user, organisation and membership from the Backend API and creates what is
// missing, updates what differs and tombstones what Clerk no longer has. It
// writes through the same guarded upserts as the webhooks, so it is
// idempotent and safe to run while deliveries arrive:
//
//   - data older than what is stored (a webhook that landed during the
//     listing) is left alone;
//   - a tombstone is never undone (Clerk does not reuse ids);
//   - only rows first seen before the listing started are tombstoned, so an
//     object created meanwhile is not mistaken for a deleted one.
func Reconcile(ctx context.Context, pool *pgxpool.Pool, backend Backend) (Report, error) {
	var rep Report
	var started time.Time
	if err := pool.QueryRow(ctx, "SELECT now()").Scan(&started); err != nil {
		return rep, err
	}
	st, err := backend.fetch(ctx)
	if err != nil {
		return rep, err
	}
	r := reconciler{pool: pool, started: started, now: time.Now().UTC()}
	if rep.Users, err = r.users(ctx, st.users); err != nil {
		return rep, err
	}
	if rep.Organizations, err = r.orgs(ctx, st.orgs); err != nil {
		return rep, err
	}
	rep.Memberships, err = r.memberships(ctx, st.memberships)
	return rep, err
}

type reconciler struct {
	pool    *pgxpool.Pool
	started time.Time // database time before the listing began
	now     time.Time // deleted_at for rows Clerk no longer has
}

// write runs one object's change in its own short transaction, so a long
// reconcile never holds locks that webhook deliveries wait on.
func (r reconciler) write(ctx context.Context, fn func(*store.Queries) (Status, error)) (bool, error) {
	var st Status
	err := runTx(ctx, r.pool, func(q *store.Queries) error {
		var err error
		st, err = fn(q)
		return err
	})
	return st == StatusApplied, err
}

// convert re-decodes an SDK object through the webhook data shapes, so that
// Reconcile cleans and normalises exactly like a delivery does.
func convert[T any](v any) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	return out, err
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func sameTime(db pgtype.Timestamptz, t time.Time) bool {
	return db.Valid == !t.IsZero() && (!db.Valid || db.Time.Equal(t))
}

func (r reconciler) users(ctx context.Context, list []*clerk.User) (Counts, error) {
	var c Counts
	rows, err := store.New(r.pool).ListLiveUsersForReconcile(ctx)
	if err != nil {
		return c, err
	}
	have := make(map[string]store.ListLiveUsersForReconcileRow, len(rows))
	for _, row := range rows {
		have[row.ClerkID] = row
	}
	seen := make(map[string]bool, len(list))
	for _, cu := range list {
		d, err := convert[userData](cu)
		if err != nil {
			return c, err
		}
		u, err := d.row(time.Time{})
		if err != nil {
			continue // an unusable object from Clerk: nothing to repair with
		}
		seen[u.ClerkID] = true
		old, exists := have[u.ClerkID]
		if exists && !old.Stub && old.Email == u.Email && old.FirstName == u.FirstName && old.LastName == u.LastName &&
			old.ImageUrl == u.ImageURL && sameJSON(old.PublicMetadata, u.Metadata) && sameTime(old.ClerkUpdatedAt, u.UpdatedAt) {
			continue
		}
		ok, err := r.write(ctx, func(q *store.Queries) (Status, error) { return upsertUser(ctx, q, u) })
		if err != nil {
			return c, err
		}
		count(&c, ok, exists)
	}
	for id, old := range have {
		if !seen[id] && old.FirstSeen.Time.Before(r.started) {
			ok, err := r.write(ctx, func(q *store.Queries) (Status, error) { return deleteUser(ctx, q, id, r.now) })
			if err != nil {
				return c, err
			}
			if ok {
				c.Deleted++
			}
		}
	}
	return c, nil
}

func (r reconciler) orgs(ctx context.Context, list []*clerk.Organization) (Counts, error) {
	var c Counts
	rows, err := store.New(r.pool).ListLiveOrganizationsForReconcile(ctx)
	if err != nil {
		return c, err
	}
	have := make(map[string]store.ListLiveOrganizationsForReconcileRow, len(rows))
	for _, row := range rows {
		have[row.ClerkID] = row
	}
	seen := make(map[string]bool, len(list))
	for _, co := range list {
		d, err := convert[orgData](co)
		if err != nil {
			return c, err
		}
		o, err := d.row(time.Time{})
		if err != nil {
			continue
		}
		seen[o.ClerkID] = true
		old, exists := have[o.ClerkID]
		if exists && !old.Stub && old.Name == o.Name && old.Slug == o.Slug && old.ImageUrl == o.ImageURL &&
			old.Plan == o.Plan && sameJSON(old.PublicMetadata, o.Metadata) && sameTime(old.ClerkUpdatedAt, o.UpdatedAt) {
			continue
		}
		ok, err := r.write(ctx, func(q *store.Queries) (Status, error) { return upsertOrg(ctx, q, o) })
		if err != nil {
			return c, err
		}
		count(&c, ok, exists)
	}
	for id, old := range have {
		if !seen[id] && old.FirstSeen.Time.Before(r.started) {
			ok, err := r.write(ctx, func(q *store.Queries) (Status, error) { return deleteOrg(ctx, q, id, r.now) })
			if err != nil {
				return c, err
			}
			if ok {
				c.Deleted++
			}
		}
	}
	return c, nil
}

func (r reconciler) memberships(ctx context.Context, list []*clerk.OrganizationMembership) (Counts, error) {
	var c Counts
	rows, err := store.New(r.pool).ListLiveMembershipsForReconcile(ctx)
	if err != nil {
		return c, err
	}
	have := make(map[string]store.ListLiveMembershipsForReconcileRow, len(rows))
	for _, row := range rows {
		have[row.ClerkID] = row
	}
	seen := make(map[string]bool, len(list))
	for _, cm := range list {
		d, err := convert[membershipData](cm)
		if err != nil {
			return c, err
		}
		m, err := d.row(time.Time{})
		if err != nil {
			continue
		}
		seen[m.ClerkID] = true
		old, exists := have[m.ClerkID]
		if exists && old.Role == m.Role && slices.Equal(old.Permissions, m.Permissions) &&
			old.UserClerkID == m.User.ClerkID && old.OrganizationClerkID == m.Org.ClerkID && sameTime(old.ClerkUpdatedAt, m.UpdatedAt) {
			continue
		}
		ok, err := r.write(ctx, func(q *store.Queries) (Status, error) { return upsertMembership(ctx, q, m) })
		if err != nil {
			return c, err
		}
		count(&c, ok, exists)
	}
	for id, old := range have {
		if !seen[id] && old.FirstSeen.Time.Before(r.started) {
			ok, err := r.write(ctx, func(q *store.Queries) (Status, error) {
				return changed(q.TombstoneMembershipByClerkID(ctx, store.TombstoneMembershipByClerkIDParams{ClerkID: id, DeletedAt: tz(r.now)}))
			})
			if err != nil {
				return c, err
			}
			if ok {
				c.Deleted++
			}
		}
	}
	return c, nil
}

func count(c *Counts, applied, existed bool) {
	switch {
	case !applied:
	case existed:
		c.Updated++
	default:
		c.Created++
	}
}
