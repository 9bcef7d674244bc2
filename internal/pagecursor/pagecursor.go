// Package pagecursor encodes the keyset cursors of the paginated lists: the
// sort key of the last row shown, which the next page starts after. A cursor
// travels in the query string (?after=…), so it is opaque to the user (a
// URL-safe encoding of the list's name and the key's parts) and checked on
// the way back in: a cursor that does not decode, belongs to another list or
// has the wrong number of parts is refused, never half-used.
package pagecursor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// MaxLen bounds an encoded cursor: a key is a few short values.
const MaxLen = 1024

// ErrInvalid is the error of a cursor that cannot be used.
var ErrInvalid = errors.New("invalid page cursor")

// Encode makes the cursor of list with the key parts.
func Encode(list string, parts ...string) string {
	b, _ := json.Marshal(append([]string{list}, parts...))
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads a cursor made by Encode for list with n parts.
func Decode(list, s string, n int) ([]string, error) {
	if len(s) > MaxLen {
		return nil, ErrInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrInvalid
	}
	var parts []string
	if json.Unmarshal(b, &parts) != nil || len(parts) != n+1 || parts[0] != list {
		return nil, ErrInvalid
	}
	return parts[1:], nil
}

// Time encodes t for a cursor, to the microsecond (PostgreSQL's precision).
func Time(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// ParseTime reads a Time part.
func ParseTime(s string) (time.Time, error) {
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, ErrInvalid
	}
	return time.UnixMicro(us).UTC(), nil
}

// ParseID reads a positive integer id part.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrInvalid
	}
	return id, nil
}
