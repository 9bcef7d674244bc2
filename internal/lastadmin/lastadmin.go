// Package lastadmin keeps every organisation with at least one admin when
// members are demoted, removed or leave.
//
// The rule is checked against Clerk (the database may lag a webhook behind)
// and then acted on through the Backend API. Checking and acting are two
// steps, so two admins demoting each other at the same moment would both
// see "two admins" and both succeed, leaving none. Guard.Do therefore runs
// check and change one at a time per organisation: across the instances of
// the app with a transaction-scoped PostgreSQL advisory lock keyed by the
// organisation, and within an instance behind a per-organisation gate, so
// that waiting requests do not each hold a database connection.
package lastadmin

import (
	"context"
	"errors"
	"hash/maphash"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RoleAdmin is the role the rule protects.
const RoleAdmin = "org:admin"

// Errors of Do besides the Backend API's and change's own.
var (
	// ErrNotMember means the user is not a member of the organisation in
	// Clerk.
	ErrNotMember = errors.New("lastadmin: not a member of the organisation")
	// ErrBusy means another change of the organisation's members held the
	// lock for longer than Do waits; nothing was changed.
	ErrBusy = errors.New("lastadmin: another membership change of the organisation is in progress")
)

// Membership is a member's role as Clerk has it, read under the lock.
type Membership struct {
	Role string
	// LastAdmin is true when the member is the organisation's only admin:
	// demoting or removing them would leave it without one.
	LastAdmin bool
}

// Guard serialises membership changes per organisation. Create it with
// New and share one per process.
type Guard struct {
	pool  *pgxpool.Pool
	clerk *clerk.ClientConfig
	// gates admit one Do at a time per organisation (organisations share
	// a gate by hash, which only ever delays an unrelated change briefly).
	gates [64]chan struct{}
	seed  maphash.Seed
}

// New returns a Guard over pool and the Backend API client configuration
// (Clerk or the emulator).
func New(pool *pgxpool.Pool, cfg *clerk.ClientConfig) *Guard {
	g := &Guard{pool: pool, clerk: cfg, seed: maphash.MakeSeed()}
	for i := range g.gates {
		g.gates[i] = make(chan struct{}, 1)
	}
	return g
}

// lockTimeout bounds the wait for another instance's change of the same
// organisation: a handful of Backend API calls.
const lockTimeout = "10s"

// Do reads userID's membership of orgID from Clerk and runs change with it,
// while no other Do for orgID runs in any instance. change makes the
// Backend API call; it must not use the database pool (one of its
// connections holds the lock). Do returns ErrNotMember, ErrBusy, a Backend
// API error of the read, or change's error.
func (g *Guard) Do(ctx context.Context, orgID, userID string, change func(context.Context, Membership) error) error {
	gate := g.gates[maphash.String(g.seed, orgID)%uint64(len(g.gates))]
	select {
	case gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-gate }()

	return pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+lockTimeout+"'"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "lastadmin:"+orgID)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available: lock_timeout passed
			return ErrBusy
		}
		if err != nil {
			return err
		}
		m, err := g.membership(ctx, orgID, userID)
		if err != nil {
			return err
		}
		return change(ctx, m)
	})
}

// membership reads the member's role and the organisation's admin count.
func (g *Guard) membership(ctx context.Context, orgID, userID string) (Membership, error) {
	client := organizationmembership.NewClient(g.clerk)
	list, err := client.List(ctx, &organizationmembership.ListParams{OrganizationID: orgID, UserIDs: []string{userID}})
	if err != nil {
		return Membership{}, err
	}
	if len(list.OrganizationMemberships) == 0 {
		return Membership{}, ErrNotMember
	}
	m := Membership{Role: list.OrganizationMemberships[0].Role}
	if m.Role != RoleAdmin {
		return m, nil
	}
	lp := &organizationmembership.ListParams{OrganizationID: orgID, Roles: []string{RoleAdmin}}
	lp.Limit = clerk.Int64(1)
	admins, err := client.List(ctx, lp)
	if err != nil {
		return Membership{}, err
	}
	m.LastAdmin = admins.TotalCount <= 1
	return m, nil
}
