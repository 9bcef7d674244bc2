package components

import "time"

// Short formats t for lists, in UTC: "30 Nov, 02:41" this year, "30 Nov
// 2025, 02:41" otherwise. Short enough to stay on one line on a phone.
func Short(t, now time.Time) string {
	t = t.UTC()
	if t.Year() == now.UTC().Year() {
		return t.Format("2 Jan, 15:04")
	}
	return t.Format("2 Jan 2006, 15:04")
}

// Exact is the full UTC time, for a <time> element's title.
func Exact(t time.Time) string {
	return t.UTC().Format("Mon 2 Jan 2006, 15:04:05 UTC")
}
