// Package clerkid checks the shape of Clerk object ids before they are used.
//
// Clerk ids are a type prefix, an underscore and a base62 string, e.g.
// user_2g7np7Hrk0SN6kj5EDMLDaKNL0S or orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S
// (see the id examples in Clerk's Backend API reference,
// https://clerk.com/docs/reference/backend-api). An id taken from a URL,
// query or body goes through Valid before it reaches a database query or a
// Backend API path, so "../", "%2F", query strings and oversized values never
// travel further than the handler that received them.
package clerkid

// Prefixes of the Clerk objects whose ids the app takes from requests or
// configuration.
const (
	User          = "user"
	Organization  = "org"
	OrgInvitation = "orginv"
	Session       = "sess"
	Machine       = "mch"
	Instance      = "ins"
)

// Bounds of the part after the prefix. Clerk's ids carry 27 characters
// there; the bounds leave room for other lengths without letting an
// unbounded value through.
const (
	minBody = 10
	maxBody = 64
)

// Valid reports whether id is prefix, "_", and 10 to 64 ASCII letters and
// digits: Valid(clerkid.User, "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S") is true,
// Valid(clerkid.User, "user_../x") and Valid(clerkid.User, "org_…") are not.
func Valid(prefix, id string) bool {
	if len(id) <= len(prefix) || id[:len(prefix)] != prefix || id[len(prefix)] != '_' {
		return false
	}
	body := id[len(prefix)+1:]
	if len(body) < minBody || len(body) > maxBody {
		return false
	}
	for i := 0; i < len(body); i++ {
		b := body[i]
		if !('0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z') {
			return false
		}
	}
	return true
}
