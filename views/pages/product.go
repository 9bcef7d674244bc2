package pages

import (
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/saasstarter/saas/views/components"
)

// OrgItem is one of the caller's organisations on /orgs.
type OrgItem struct {
	ClerkID      string
	Name         string
	Slug         string
	ImageURL     string
	Plan         string
	Role         string
	MembersCount int64
	// Active marks the session's active organisation.
	Active bool
}

// PendingOrg is an organisation the caller just created that the webhook
// has not brought into the database yet.
type PendingOrg struct {
	ClerkID string
	Name    string
}

// OrgsProps are the /orgs page.
type OrgsProps struct {
	Orgs    []OrgItem
	Pending []PendingOrg
	// CanLeave offers to leave the active organisation.
	CanLeave bool
	// SoleAdmin: the caller is the active organisation's only admin, who
	// cannot leave it until someone else is an admin.
	SoleAdmin bool
	CSRFToken string
}

// MemberItem is one member in the dashboard's preview.
type MemberItem struct {
	Name     string
	Email    string
	Role     string
	ImageURL string
}

// ActivityItem is one audit entry as the dashboard shows it.
type ActivityItem struct {
	// Sentence says who did what, with names (audit.Sentence).
	Sentence string
	At       time.Time
}

// DashboardProps are the active organisation's dashboard.
type DashboardProps struct {
	Name           string
	Slug           string
	ImageURL       string
	Plan           string
	Role           string
	MembersCount   int64
	ProjectsCount  int64
	RecentActivity int64
	// Lists is DashboardLists of the organisation's previews, rendered
	// beforehand (the dashboard cache keeps it with the data).
	Lists    templ.Component
	Projects components.ProjectsProps
}

// planText shows an empty plan as "free".
func planText(plan string) string {
	if plan == "" {
		return "free"
	}
	return plan
}

// initialOf is the first letter of a name, for avatars without an image.
func initialOf(name string) string {
	for _, r := range strings.TrimSpace(name) {
		return strings.ToUpper(string(r))
	}
	return "?"
}
