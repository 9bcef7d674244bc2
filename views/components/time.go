package components

import (
	"context"
	"io"
	"time"

	"github.com/a-h/templ"
)

// Time shows t short ("30 Nov, 02:41", with the year when it is not this
// year's) in a <time> whose datetime and title give the exact UTC time.
//
// It is written by hand rather than in templ: lists show one per row, and the
// generated version formatted each time into three strings and escaped them,
// a tenth of a dashboard's rendering. Every layout below yields only digits,
// ASCII letters, spaces and ",:+-", so nothing needs escaping.
func Time(t time.Time) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var buf [128]byte
		_, err := w.Write(appendTime(buf[:0], t, time.Now()))
		return err
	})
}

// appendTime appends Time's HTML for t, shown at now.
func appendTime(b []byte, t, now time.Time) []byte {
	if t.IsZero() {
		return append(b, `<span class="muted">—</span>`...)
	}
	t = t.UTC()
	b = append(b, `<time class="when" datetime="`...)
	b = t.AppendFormat(b, time.RFC3339)
	b = append(b, `" title="`...)
	b = t.AppendFormat(b, exactLayout)
	b = append(b, `">`...)
	b = appendShort(b, t, now)
	return append(b, `</time>`...)
}

// exactLayout is the full UTC time, for the <time> element's title.
const exactLayout = "Mon 2 Jan 2006, 15:04:05 UTC"

// appendShort appends t for lists, in UTC: "30 Nov, 02:41" this year,
// "30 Nov 2025, 02:41" otherwise. Short enough to stay on one line on a
// phone.
func appendShort(b []byte, t, now time.Time) []byte {
	t = t.UTC()
	if t.Year() == now.UTC().Year() {
		return t.AppendFormat(b, "2 Jan, 15:04")
	}
	return t.AppendFormat(b, "2 Jan 2006, 15:04")
}
