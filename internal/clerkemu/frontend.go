package clerkemu

import "net/http"

const shimPath = "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"

func (e *Emulator) frontendRoutes(mux *http.ServeMux) {}
