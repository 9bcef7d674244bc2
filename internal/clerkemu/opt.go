package clerkemu

import (
	"encoding/json"
	"time"
)

// opt is a body field that remembers whether it was sent and whether it was
// null, so an update changes exactly the fields the caller named, and
// "field": null clears a field as Clerk's PATCH does.
type opt[T any] struct {
	Set, Null bool
	V         T
}

// UnmarshalJSON records the field's presence.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// ptr is the value for a nullable column: nil when null or absent.
func (o opt[T]) ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	return &o.V
}

// rfc3339Millis reads one of Clerk's RFC 3339 body timestamps (created_at,
// legal_accepted_at) as Unix milliseconds.
func rfc3339Millis(field string, o opt[string]) (*int64, error) {
	if !o.Set || o.Null {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, o.V)
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", field, field+" must be an RFC 3339 timestamp such as 2012-10-20T07:15:20.902Z")
	}
	ms := t.UnixMilli()
	return &ms, nil
}
