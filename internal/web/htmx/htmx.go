// Package htmx names the HTMX request and response headers in one place, so
// handlers and middleware never spell them out.
package htmx

// Request headers sent by htmx.
const (
	HeaderRequest     = "HX-Request"
	HeaderBoosted     = "HX-Boosted"
	HeaderTarget      = "HX-Target"
	HeaderTrigger     = "HX-Trigger"
	HeaderCurrentURL  = "HX-Current-URL"
	HeaderHistRestore = "HX-History-Restore-Request"
)

// Response headers understood by htmx.
const (
	HeaderRedirect   = "HX-Redirect"
	HeaderLocation   = "HX-Location"
	HeaderRefresh    = "HX-Refresh"
	HeaderRetarget   = "HX-Retarget"
	HeaderReswap     = "HX-Reswap"
	HeaderTriggerOut = "HX-Trigger"
	HeaderPushURL    = "HX-Push-Url"
)
