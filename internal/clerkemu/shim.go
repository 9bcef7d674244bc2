package clerkemu

import (
	_ "embed"
	"net/http"
)

// shimJS is the emulator's stand-in for ClerkJS: the subset of window.Clerk
// the app's pages use, talking to the emulator's Frontend API. It uses no
// eval and no inline event handlers, so it runs under a nonce-based,
// 'strict-dynamic' CSP.
//
//go:embed shim.js
var shimJS []byte

func (e *Emulator) handleShim(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	// The shim is loaded cross-origin-capable (crossorigin="anonymous" in
	// Clerk's snippet); same-origin here, but allow CORS reads harmlessly.
	w.Header().Set("Access-Control-Allow-Origin", e.origin)
	_, _ = w.Write(shimJS)
}
