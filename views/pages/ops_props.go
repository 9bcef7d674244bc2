package pages

import (
	"slices"
	"strconv"
	"time"
)

// OpsPage is the operator console's overview.
type OpsPage struct {
	CSRF      string
	Health    SyncHealth
	Reconcile *ReconcileResult
	Directory Directory
}

// SyncHealth summarises webhook sync over the last hour (the lag over its
// newest 100 deliveries: db/query/ops.sql OpsSyncHealth).
type SyncHealth struct {
	DeliveriesLastHour, FailedLastHour, FailedTotal int64
	// MaxLag and AvgLag run from Clerk sending an event to the app applying
	// it; LastReceived is the newest delivery (zero when there is none).
	MaxLag, AvgLag time.Duration
	LastReceived   time.Time
}

// HealthWindow is the most deliveries of the last hour the health card
// reads (db/query/ops.sql OpsSyncHealth reads one more, to know there are
// more).
const HealthWindow = 1000

// Deliveries is the number of deliveries of the last hour as shown: beyond
// HealthWindow, "1000+".
func (h SyncHealth) Deliveries() string {
	if h.DeliveriesLastHour > HealthWindow {
		return strconv.Itoa(HealthWindow) + "+"
	}
	return strconv.FormatInt(h.DeliveriesLastHour, 10)
}

// ReconcileResult is what a reconcile run changed.
type ReconcileResult struct {
	Users, Organizations, Memberships ReconcileCounts
	Took                              time.Duration
	Focus                             bool
}

// ReconcileCounts are the changes to one kind of object.
type ReconcileCounts struct {
	Created, Updated, Deleted int
}

// Directory is the users and organisations matching a search, a page of
// each.
type Directory struct {
	Query                 string
	Users                 []DirectoryUser
	Orgs                  []DirectoryOrg
	UsersPager, OrgsPager Pager
}

// DirectoryUser is one user in the operator directory.
type DirectoryUser struct {
	ID, Name, Email string
	Orgs            int64
	Operator, Stub  bool
	Deleted         bool
	CreatedAt       time.Time
}

// DirectoryOrg is one organisation in the operator directory.
type DirectoryOrg struct {
	ID, Name, Slug, Plan string
	Members              int64
	Stub, Deleted        bool
	CreatedAt            time.Time
}

// OpsOrgPage is one organisation's plan screen in the operator console.
type OpsOrgPage struct {
	CSRF               string
	ID, Name, Slug     string
	Members            int64
	Stub, Deleted      bool
	Plan               string
	Features           []string
	Plans, AllFeatures []string
	// Notice confirms the last change, and takes focus.
	Notice string
}

// HasFeature reports whether the organisation has feature f.
func (p OpsOrgPage) HasFeature(f string) bool { return slices.Contains(p.Features, f) }
