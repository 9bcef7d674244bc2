package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/testdb"
)

// TestAuditEntryLinksToAnOrganisationArrivingConcurrently: the app audits
// an organisation it has just created through the Backend API while the
// organization.created webhook inserts the row in another transaction.
// Whichever commits first, the entry ends up on the organisation (it was
// lost from the dashboard when neither transaction saw the other's row).
func TestAuditEntryLinksToAnOrganisationArrivingConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)

	insertOrg := func(tx pgx.Tx, clerkID string) error {
		_, err := tx.Exec(ctx, `INSERT INTO organizations (clerk_id, name) VALUES ($1, 'Initech')`, clerkID)
		return err
	}
	insertEntry := func(tx pgx.Tx, clerkID string) error {
		return store.New(tx).InsertAuditEntry(ctx, store.InsertAuditEntryParams{
			OrgClerkID: clerkID, Actor: "user_nobody", Action: "organization.created",
			TargetOrg: clerkID, Details: []byte(`{"name":"Initech"}`),
		})
	}
	for _, tc := range []struct {
		name          string
		first, second func(pgx.Tx, string) error
	}{
		{"OrganisationCommitsFirst", insertOrg, insertEntry},
		{"EntryCommitsFirst", insertEntry, insertOrg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clerkID := "org_race" + tc.name
			tx1, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx1.Rollback(ctx)
			if err := tc.first(tx1, clerkID); err != nil {
				t.Fatal(err)
			}
			// The second statement runs while the first is uncommitted.
			done := make(chan error, 1)
			go func() {
				tx2, err := pool.Begin(ctx)
				if err != nil {
					done <- err
					return
				}
				defer tx2.Rollback(ctx)
				if err := tc.second(tx2, clerkID); err != nil {
					done <- err
					return
				}
				done <- tx2.Commit(ctx)
			}()
			// Either it finishes on its own, or it waits for the first
			// transaction: then let that commit.
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				if err := tx1.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			case <-waitingForLock(t, pool):
				if err := tx1.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			var orgLinked, targetLinked bool
			var pending string
			err = pool.QueryRow(ctx, `
SELECT a.organization_id IS NOT DISTINCT FROM o.id, a.target_organization_id IS NOT DISTINCT FROM o.id, a.organization_clerk_id
FROM audit_log a, organizations o
WHERE o.clerk_id = $1 AND a.action = 'organization.created' AND (a.organization_id = o.id OR a.organization_clerk_id = $1)`,
				clerkID).Scan(&orgLinked, &targetLinked, &pending)
			if err != nil {
				t.Fatalf("audit entry: %v", err)
			}
			if !orgLinked || !targetLinked || pending != "" {
				t.Errorf("entry linked to the organisation %v, as target %v, still waiting for %q", orgLinked, targetLinked, pending)
			}
		})
	}
}

// waitingForLock is closed once some session of the test database waits for
// a lock.
func waitingForLock(t *testing.T, pool *pgxpool.Pool) <-chan struct{} {
	ch := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			var n int
			err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n)
			if err == nil && n > 0 {
				close(ch)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(cancel)
	return ch
}
