// Package layouts holds the page shell every full page is rendered in.
package layouts

// Meta is everything the layout needs besides the page content. It is built
// per request by the render package; templates never reach into the request.
type Meta struct {
	// Title is the page title, without the site name.
	Title string
	// Path is the request path, used to mark the current navigation item.
	Path string
	// Nonce is the request's CSP nonce; every script tag carries it.
	Nonce string
	// CSRFToken is sent by htmx in a header and by plain forms in a field.
	CSRFToken string
	// RequestID is shown on error pages so a user can quote it.
	RequestID string
	Flashes   []Flash
	Identity  Identity
	Clerk     ClerkScript
}

// Flash is a one-time message.
type Flash struct {
	Kind    string
	Message string
}

// Identity is the part of the verified session the layout shows.
type Identity struct {
	SignedIn bool
	UserID   string
	// UserName and OrgName come from the session's name and org_name claims
	// (empty without them); the header shows them until Clerk's components
	// render.
	UserName string
	OrgID    string
	OrgSlug  string
	OrgName  string
	OrgRole  string
	// Operator shows the operator console link.
	Operator bool
}

// orgLabel names the active organisation: its name, else its slug.
func orgLabel(i Identity) string {
	if i.OrgName != "" {
		return i.OrgName
	}
	return i.OrgSlug
}

// IsOrgAdmin reports whether the active organisation role is org:admin.
func (i Identity) IsOrgAdmin() bool { return i.OrgRole == "org:admin" }

// ClerkScript says how the page loads Clerk's browser bundles, the same
// way in both modes: ClerkJS and @clerk/ui from the Frontend API (Clerk's,
// its proxy on the app's origin, or the emulator's). With static/js/app.js
// it is the browser-script seam of internal/identity: another provider
// supplies its own script, which keeps the session cookie fresh and serves
// sign-in, sign-up and the switchers.
type ClerkScript struct {
	// ClerkJSURL and UIURL are the pinned bundles.
	ClerkJSURL, UIURL string
	PublishableKey    string
	// ProxyURL is the Frontend API proxy (data-clerk-proxy-url), set in
	// emulator mode and with CLERK_PROXY_URL; ClerkJS then calls it
	// instead of the host in the publishable key.
	ProxyURL string
	// Emulator marks development pages with a badge.
	Emulator bool
}
