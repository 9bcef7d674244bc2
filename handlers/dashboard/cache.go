package dashboard

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/saasstarter/saas/views/pages"
)

// Cache keeps each organisation's dashboard data between requests, checked
// against the database on every request: the dashboard handler first reads
// the caller's live membership together with the organisation's Stamp
// (store.GetDashboardVersion, a few index lookups) and uses the cached data
// only when the stamp is the one it was stored with. Under load this turns
// the dashboard's large statement into that small one; a page never shows
// data older than the last committed change it displays, except for the
// people's names and pictures in its lists (migration 00010 says why),
// which are at most MaxAge old.
//
// Only organisation data is kept: the caller's role comes from the
// membership read with the stamp, and the permissions and the CSRF token
// from the request. It is safe for concurrent use.
type Cache struct {
	entries *lru.Cache[int64, cached]
	now     func() time.Time
}

// Stamp identifies a state of an organisation's dashboard: the version the
// triggers bump (organization_stats.version), the database's current hour
// and that hour's audit entries.
type Stamp struct {
	Version     int64
	Hour        time.Time
	HourEntries int64
}

// Cache sizes and lifetime.
const (
	// DefaultCacheSize is the number of organisations kept; a dashboard's
	// data is a few kilobytes.
	DefaultCacheSize = 2048
	// MaxAge bounds how long an entry is used, for what its stamp does not
	// cover.
	MaxAge = time.Minute
)

type cached struct {
	stamp   Stamp
	data    pages.DashboardProps
	expires time.Time
}

// NewCache returns a cache of up to size organisations (DefaultCacheSize
// when size <= 0). now is the clock; nil means time.Now.
func NewCache(size int, now func() time.Time) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	if now == nil {
		now = time.Now
	}
	entries, err := lru.New[int64, cached](size)
	if err != nil { // only for a size <= 0, excluded above
		panic(err)
	}
	return &Cache{entries: entries, now: now}
}

// get returns organisation org's data if it was stored with stamp and is
// younger than MaxAge.
func (c *Cache) get(org int64, stamp Stamp) (pages.DashboardProps, bool) {
	e, ok := c.entries.Get(org)
	if !ok || !e.stamp.equal(stamp) || !c.now().Before(e.expires) {
		return pages.DashboardProps{}, false
	}
	return e.data, true
}

// put stores organisation org's data, read with stamp. The data's slices
// are shared by every later request and must not be changed.
func (c *Cache) put(org int64, stamp Stamp, data pages.DashboardProps) {
	c.entries.Add(org, cached{stamp: stamp, data: data, expires: c.now().Add(MaxAge)})
}

func (s Stamp) equal(o Stamp) bool {
	return s.Version == o.Version && s.Hour.Equal(o.Hour) && s.HourEntries == o.HourEntries
}
