// Package audit records who did what in an organisation: admin actions
// written by the app here, membership changes written by a database trigger
// when the webhook sync applies them. Entries are org-scoped and read only
// through queries that join the reader's live membership.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/auth"
)

// Actions the app records. The trigger of migration 00003 adds
// member.added, member.removed and member.role_changed.
const (
	OrgCreated     = "organization.created"
	OrgLeft        = "organization.left"
	OrgExported    = "organization.exported"
	OrgPlanSet     = "organization.plan_set"
	ProjectCreated = "project.created"
	ProjectRenamed = "project.renamed"
	ProjectDeleted = "project.deleted"
)

// Entry is one action to record.
type Entry struct {
	// OrgID is the Clerk organisation id. It normally comes from the
	// caller's claims; for organization.created it is the id the Backend API
	// just returned.
	OrgID   string
	Action  string
	Target  string
	Details map[string]string
}

// Record writes e with the caller as actor and, when someone is
// impersonating the caller, the impersonator. Run it in the transaction of
// the change it describes, so both commit or neither does.
func Record(ctx context.Context, q *store.Queries, a *auth.Auth, e Entry) error {
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return err
		}
	}
	var impersonator string
	if a.Actor != nil {
		impersonator = a.Actor.Subject
	}
	return q.InsertAuditEntry(ctx, store.InsertAuditEntryParams{
		OrgClerkID: e.OrgID, Actor: a.UserID, Impersonator: impersonator,
		Action: e.Action, Target: e.Target, Details: details,
	})
}

// Item is an entry as the dashboard shows it.
type Item struct {
	Action       string
	Actor        string
	ActorName    string
	Impersonator string
	Target       string
	TargetName   string
	Details      map[string]string
	At           time.Time
}

// Recent returns the newest entries of the caller's active organisation;
// nothing when the caller is not a live member.
func Recent(ctx context.Context, q *store.Queries, a *auth.Auth, limit int32) ([]Item, error) {
	rows, err := q.ListAuditEntries(ctx, store.ListAuditEntriesParams{UserClerkID: a.UserID, OrgClerkID: a.OrgID, MaxRows: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(rows))
	for _, r := range rows {
		it := Item{Action: r.Action, Actor: r.Actor, ActorName: r.ActorName, Impersonator: r.Impersonator,
			Target: r.Target, TargetName: r.TargetName, At: r.CreatedAt.Time}
		// Details are written by this package and the trigger as flat string
		// maps; anything else is simply not shown.
		_ = json.Unmarshal(r.Details, &it.Details)
		out = append(out, it)
	}
	return out, nil
}
