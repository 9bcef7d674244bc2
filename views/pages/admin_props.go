package pages

import (
	"net/url"
	"strings"
	"time"
)

// AdminTab names a tab of the admin screens.
type AdminTab string

// The admin tabs, in navigation order.
const (
	TabMembers     AdminTab = "members"
	TabInvitations AdminTab = "invitations"
	TabSettings    AdminTab = "settings"
	TabWebhooks    AdminTab = "webhooks"
	TabAudit       AdminTab = "audit"
)

// MaxPendingTries bounds how long a pending row polls (once a second)
// before it asks the user to refresh instead: a webhook that has not landed
// in that time is late enough to look at in the webhook log.
const MaxPendingTries = 30

// AdminFrame is what every admin screen shows around its content.
type AdminFrame struct {
	OrgName string
	Tab     AdminTab
	// CSRF goes into a hidden _csrf field of every form, for the no-JS path
	// (htmx sends the X-CSRF-Token header from the body's hx-headers).
	CSRF string
}

// Pager links a keyset-paginated list to its next page, and a later page
// back to the first. Lists are read in index order from a cursor (the sort
// key of the last row shown), never counted or skipped through with
// OFFSET, so a page costs the same at any depth; the browser's back button
// returns to the previous page.
type Pager struct {
	// Next is the URL of the following page; empty on the last one.
	Next string
	// First is the URL of the first page; empty on the first page.
	First string
	// Total is shown when HasTotal (a counter kept by the database).
	Total    int64
	HasTotal bool
	// Select is the element htmx swaps when following a page link.
	Select string
}

// RoleOption is a role an admin can give.
type RoleOption struct {
	Key, Label string
}

// Roles are the organisation roles the admin screens offer: Clerk's two
// default roles.
var Roles = []RoleOption{{"org:member", "Member"}, {"org:admin", "Admin"}}

// RoleLabel is the display name of a role key.
func RoleLabel(key string) string {
	for _, r := range Roles {
		if r.Key == key {
			return r.Label
		}
	}
	return strings.TrimPrefix(key, "org:")
}

// Pending describes a change sent to Clerk whose webhook has not landed yet.
type Pending struct {
	// What is shown, e.g. "Admin" or "Removal".
	Label string
	// PollURL re-fetches the element; empty when polling gave up.
	PollURL string
}

// MemberRow is one member in the members table.
type MemberRow struct {
	UserID, Name, Email, Role string
	JoinedAt                  time.Time
	// Self marks the caller's own row.
	Self    bool
	Pending *Pending
	// Focus moves keyboard focus to the row's status after an action.
	Focus bool
}

// MembersPage is the members screen.
type MembersPage struct {
	Frame AdminFrame
	Query string
	Rows  []MemberRow
	Pager Pager
}

// InvitationRow is one pending invitation.
type InvitationRow struct {
	ID, Email, Role string
	SentAt          time.Time
	Pending         *Pending
	Focus           bool
}

// InvitationsPage is the invitations screen.
type InvitationsPage struct {
	Frame AdminFrame
	Rows  []InvitationRow
	// Expecting is a just-created invitation that is not in the database
	// yet; the list polls until it is.
	Expecting *Pending
	// Notice confirms the last action, and takes focus.
	Notice string
}

// SettingsForm is the organisation settings form's values, with the plan
// and feature flags, which the screen shows but does not change.
type SettingsForm struct {
	Name, Slug, LogoURL, Plan string
	Features                  []string
}

// SettingsPage is the settings screen.
type SettingsPage struct {
	Frame  AdminFrame
	Form   SettingsForm
	Status SettingsStatus
}

// SettingsStatus is the save state shown beside the form.
type SettingsStatus struct {
	// State is "", "pending", "saved" or "late".
	State string
	// PollURL re-fetches the status while pending.
	PollURL string
	Focus   bool
}

// DeliveryRow is one webhook delivery in a log table.
type DeliveryRow struct {
	ID                                   int64
	ReceivedAt                           time.Time
	Type, ObjectID, OrgID, Status, Error string
	Attempts                             int32
	// Replayed is the outcome of a replay just done, focused and announced.
	Replayed string
}

// DeliveryLog is a filtered, paginated webhook log: the admin's (one org)
// or the operator's (every org).
type DeliveryLog struct {
	// Base is the log's URL (routes.AdminWebhooks or routes.OpsWebhooks);
	// detail and replay URLs are built below it.
	Base     string
	CSRF     string
	Type     string
	Status   string
	Types    []string
	Statuses []string
	Rows     []DeliveryRow
	Pager    Pager
	// ShowOrg adds the organisation column (operators).
	ShowOrg bool
}

// DeliveryDetail is one delivery with its payload.
type DeliveryDetail struct {
	Row     DeliveryRow
	Payload string
	Back    string
	CSRF    string
	Replay  string
	EventAt *time.Time
	SvixID  string
}

// AuditRow is one audit log entry.
type AuditRow struct {
	When time.Time
	// Action is the machine name ("member.role_changed"), Sentence the
	// entry in words with names, Raw the stored entry as indented JSON.
	Action, Sentence, Raw string
}

// AuditPage is the audit log screen.
type AuditPage struct {
	Frame AdminFrame
	Rows  []AuditRow
	Pager Pager
	// ShowRaw offers each entry's stored event (ids, exact details): to
	// operators, who need them; admins read the sentences.
	ShowRaw bool
}

// Fill puts values into a route template's :params, in order, escaping
// each as one path segment: Fill(routes.AdminMember, "user_1").
func Fill(tmpl string, values ...string) string {
	parts := strings.Split(tmpl, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") && len(values) > 0 {
			parts[i] = url.PathEscape(values[0])
			values = values[1:]
		}
	}
	return strings.Join(parts, "/")
}

// ForbiddenAdmin is the 403 page of the admin screens for a member who is
// not an admin of the active organisation.
type ForbiddenAdmin struct {
	Message string
	// OrgName is the active organisation.
	OrgName string
	// AdminOf are the caller's other organisations where they are an admin.
	AdminOf []OrgChoice
	// RedirectURL is the admin page asked for, opened again after a switch.
	RedirectURL string
}

// OrgChoice is an organisation the caller can switch to.
type OrgChoice struct {
	ClerkID, Name string
}

// Confirm is the confirmation page of a destructive action, for browsers
// without JavaScript.
type Confirm struct {
	Question, Detail string
	// Action is the URL the confirming form posts to, Button its label,
	// Back where Cancel goes.
	Action, Button, Back string
}
