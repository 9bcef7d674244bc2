package components

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

func short(t, now time.Time) string { return string(appendShort(nil, t, now)) }

func exact(t time.Time) string { return t.UTC().Format(exactLayout) }

func TestShortDates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	for name, tc := range map[string]struct {
		at   time.Time
		want string
	}{
		"ThisYear":      {time.Date(2026, 11, 30, 2, 41, 0, 0, time.UTC), "30 Nov, 02:41"},
		"InUTC":         {time.Date(2026, 11, 30, 3, 41, 0, 0, paris), "30 Nov, 02:41"},
		"AnotherYear":   {time.Date(2025, 1, 2, 14, 5, 0, 0, time.UTC), "2 Jan 2025, 14:05"},
		"NewYearsInUTC": {time.Date(2027, 1, 1, 0, 30, 0, 0, paris), "31 Dec, 23:30"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := short(tc.at, now); got != tc.want {
				t.Errorf("Short = %q, want %q", got, tc.want)
			}
		})
	}
	if got := exact(time.Date(2026, 11, 30, 2, 41, 7, 0, time.UTC)); got != "Mon 30 Nov 2026, 02:41:07 UTC" {
		t.Errorf("Exact = %q", got)
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 members", 1: "1 member", 2: "2 members"} {
		if got := Count(n, "member", "members"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTimeHTML(t *testing.T) {
	t.Parallel()
	render := func(at time.Time) string {
		var b strings.Builder
		if err := Time(at).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2024, 2, 29, 0, 5, 9, 0, paris) // 28 Feb in UTC, another year
	want := `<time class="when" datetime="2024-02-28T23:05:09Z" title="Wed 28 Feb 2024, 23:05:09 UTC">28 Feb 2024, 23:05</time>`
	if got := render(at); got != want {
		t.Errorf("Time =\n %s\nwant\n %s", got, want)
	}
	now := time.Now().UTC()
	want = `<time class="when" datetime="` + now.Format(time.RFC3339) + `" title="` + exact(now) + `">` + short(now, now) + `</time>`
	if got := render(now); got != want {
		t.Errorf("Time(now) = %s, want %s", got, want)
	}
	if got := render(time.Time{}); got != `<span class="muted">—</span>` {
		t.Errorf("Time(zero) = %s", got)
	}
	// The layouts must never yield text that needs escaping, as the HTML is
	// written unescaped.
	for _, s := range []string{now.Format(time.RFC3339), exact(at), exact(now), short(at, now), short(now, now)} {
		if templ.EscapeString(s) != s {
			t.Errorf("%q needs escaping", s)
		}
	}
}
