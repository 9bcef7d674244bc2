// Package audit records who did what in an organisation: admin actions
// written by the app here, membership changes written by a database trigger
// when the webhook sync applies them. Entries are org-scoped and read only
// through queries that join the reader's live membership.
//
// Callers name people and organisations by the identity provider's ids (the
// session's claims, the Backend API's answers); the log stores the app's own
// row ids (users.id, organizations.id), so that it survives a change of
// provider (docs/MIGRATION.md). Readers get the provider's current id back.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/saasstarter/saas/db/store"
	"github.com/saasstarter/saas/internal/auth"
)

// Actions the app records. The trigger of migrations 00003 and 00006 adds
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
	OrgID  string
	Action string
	// TargetUser is the identity provider's id of the person the action was
	// about, TargetOrg that of the organisation; Target is any other object
	// (a project, an invitation, a webhook delivery). Set at most one.
	TargetUser string
	TargetOrg  string
	Target     string
	// Details are stored as JSON; nil (a nil map too) is an empty object.
	// The dashboard shows string values only.
	Details any
}

// Record writes e with the caller as actor and, when someone is
// impersonating the caller, the impersonator. Run it in the transaction of
// the change it describes, so both commit or neither does.
func Record(ctx context.Context, q *store.Queries, a *auth.Auth, e Entry) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return err
	}
	if string(details) == "null" {
		details = []byte("{}")
	}
	var impersonator string
	if a.Actor != nil {
		impersonator = a.Actor.Subject
	}
	return q.InsertAuditEntry(ctx, store.InsertAuditEntryParams{
		OrgClerkID: e.OrgID, Actor: a.UserID, Impersonator: impersonator,
		Action: e.Action, Target: e.Target, TargetUser: e.TargetUser, TargetOrg: e.TargetOrg, Details: details,
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

// DetailsOf decodes an entry's stored details for display. Record and the
// membership trigger write flat string maps; a value that is not a string
// reads as "" (encoding/json keeps the key and the other values).
func DetailsOf(raw []byte) map[string]string {
	var d map[string]string
	_ = json.Unmarshal(raw, &d)
	return d
}
