package dashboard

import (
	"testing"
	"time"

	"github.com/saasstarter/saas/views/pages"
)

// TestCacheServesOnlyTheStampItWasStoredWith: an entry is used for its own
// organisation and stamp only, and not after MaxAge; the least recently
// used organisation goes first when the cache is full.
func TestCacheServesOnlyTheStampItWasStoredWith(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)
	c := NewCache(2, func() time.Time { return now })
	hour := now.Truncate(time.Hour)
	stamp := Stamp{Version: 7, Hour: hour, HourEntries: 3}
	c.put(1, stamp, pages.DashboardProps{Name: "Acme"})

	if p, ok := c.get(1, stamp); !ok || p.Name != "Acme" {
		t.Fatalf("same stamp = %q, %v; want Acme", p.Name, ok)
	}
	for name, other := range map[string]Stamp{
		"version":      {Version: 8, Hour: hour, HourEntries: 3},
		"hour":         {Version: 7, Hour: hour.Add(time.Hour), HourEntries: 3},
		"hour entries": {Version: 7, Hour: hour, HourEntries: 4},
	} {
		if _, ok := c.get(1, other); ok {
			t.Errorf("another %s: served from the cache", name)
		}
	}
	if _, ok := c.get(2, stamp); ok {
		t.Error("another organisation: served from the cache")
	}
	// The same instant in another zone is the same hour.
	if _, ok := c.get(1, Stamp{Version: 7, Hour: hour.In(time.FixedZone("x", 3600)), HourEntries: 3}); !ok {
		t.Error("the same hour in another zone: not served")
	}

	now = now.Add(MaxAge - time.Nanosecond)
	if _, ok := c.get(1, stamp); !ok {
		t.Error("just before MaxAge: not served")
	}
	now = now.Add(time.Nanosecond)
	if _, ok := c.get(1, stamp); ok {
		t.Error("at MaxAge: still served")
	}

	c.put(1, stamp, pages.DashboardProps{Name: "Acme"})
	c.put(2, stamp, pages.DashboardProps{Name: "Globex"})
	c.get(1, stamp)
	c.put(3, stamp, pages.DashboardProps{Name: "Initech"})
	if _, ok := c.get(2, stamp); ok {
		t.Error("full cache: the least recently used organisation is still there")
	}
	if _, ok := c.get(1, stamp); !ok {
		t.Error("full cache: the recently used organisation went")
	}
}
