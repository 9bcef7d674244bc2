package clerksync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrMalformed is returned for a body that is not a Clerk event envelope at
// all (not a JSON object, or without a type). The webhook handler answers it
// with 400; it is not recorded, because there is nothing to replay.
var ErrMalformed = errors.New("malformed event body")

// Event is a decoded Clerk webhook envelope. Data stays raw until the type is
// known.
type Event struct {
	Type       string
	InstanceID string
	// Timestamp is when Clerk emitted the event; zero when absent. It orders
	// deletes, which carry no updated_at of their own.
	Timestamp time.Time
	Data      json.RawMessage
}

// ParseEvent decodes the envelope of a webhook body. Unknown fields are
// ignored; only a body that is not an object with a string type fails.
func ParseEvent(body []byte) (Event, error) {
	var env struct {
		Type       string          `json:"type"`
		InstanceID string          `json:"instance_id"`
		Timestamp  clerkTime       `json:"timestamp"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Type == "" {
		return Event{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	return Event{
		Type:       clean(env.Type, maxShort),
		InstanceID: clean(env.InstanceID, maxShort),
		Timestamp:  env.Timestamp.Time,
		Data:       env.Data,
	}, nil
}

// clerkTime accepts Clerk's timestamps: milliseconds since the epoch as a
// number, a numeric string, or null. Values too small to be milliseconds are
// read as seconds, because some of Clerk's own examples use seconds for the
// envelope timestamp. Anything else decodes to the zero time rather than
// failing the whole event: a timestamp is a hint, not data.
type clerkTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *clerkTime) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1e15 {
		t.Time = time.Time{}
		return nil
	}
	if f < 1e11 { // seconds: 1e11 s is in the year 5138
		f *= 1000
	}
	t.Time = time.UnixMilli(int64(f)).UTC()
	return nil
}

// Length limits for text copied from Clerk. Clerk's own limits are lower; these
// only stop a hostile or broken payload from filling the database.
const (
	maxID    = 128
	maxShort = 256
	maxText  = 1024
	maxURL   = 2048
)

// clean makes text safe to store: invalid UTF-8 and NUL (which PostgreSQL
// rejects in text) are removed, and the result is cut to max runes.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// cleanID validates a Clerk object id. Ids are keys, so an unusable one is a
// permanent fault rather than something to truncate.
func cleanID(kind, id string) (string, error) {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", permanentf("%s has no id", kind)
	case len(id) > maxID || strings.ContainsAny(id, "\x00") || !utf8.ValidString(id):
		return "", permanentf("%s has an invalid id", kind)
	}
	return id, nil
}

// normalizeRole maps Clerk's role keys to the org:-prefixed form that session
// tokens use. Very old instances (and Clerk's catalog examples) send admin and
// basic_member; a key without a prefix is a custom role.
func normalizeRole(role string) string {
	role = clean(strings.TrimSpace(role), maxShort)
	switch role {
	case "", "basic_member", "member":
		return "org:member"
	case "admin":
		return "org:admin"
	}
	if !strings.HasPrefix(role, "org:") {
		return "org:" + role
	}
	return role
}

// metadata returns a JSON object that PostgreSQL accepts as jsonb: absent or
// null becomes {}, and \u0000 escapes (which jsonb rejects) are removed.
func metadata(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []byte("{}"), nil
	}
	return storableJSON(raw)
}

// storableJSON returns raw unchanged unless it holds something jsonb cannot
// store (a \u0000 escape or invalid UTF-8), in which case it is decoded,
// cleaned and re-encoded. Checking first keeps the common case free.
func storableJSON(raw []byte) ([]byte, error) {
	if utf8.Valid(raw) && !bytes.Contains(raw, []byte(`\u0000`)) {
		return raw, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, permanentf("undecodable JSON: %v", err)
	}
	return json.Marshal(stripNUL(v))
}

func stripNUL(v any) any {
	switch t := v.(type) {
	case string:
		return clean(t, len(t))
	case []any:
		for i := range t {
			t[i] = stripNUL(t[i])
		}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[clean(k, len(k))] = stripNUL(x)
		}
		return out
	}
	return v
}

// planOf reads the organisation's plan from public_metadata.plan. Anything
// but a string means "no plan".
func planOf(meta []byte) string {
	var m struct {
		Plan any `json:"plan"`
	}
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	s, _ := m.Plan.(string)
	return clean(s, maxShort)
}
