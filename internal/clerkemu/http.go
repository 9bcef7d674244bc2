package clerkemu

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// routes builds the emulator's handler. The Backend API and the Frontend API
// share /__clerk/v1, as they would share a host behind Clerk's proxy setup:
// a request that authenticates with a secret key (Authorization: Bearer
// sk_… or a machine's ak_…) is a Backend API call, anything else a Frontend
// API call. Paths that exist in both (POST /v1/organizations) therefore reach
// the right one.
func (e *Emulator) routes() http.Handler {
	e.bapi = http.NewServeMux()
	bapi := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		e.bapi.Handle(method+" "+MountPath+"/v1"+path, e.requireSecretKey(h))
	}
	bapi("GET /jwks", e.handleJWKS)
	e.userRoutes(bapi)
	e.orgRoutes(bapi)
	e.membershipRoutes(bapi)
	e.invitationRoutes(bapi)
	e.instanceInvitationRoutes(bapi)
	e.sessionRoutes(bapi)
	e.tokenRoutes(bapi)
	e.clientRoutes(bapi)
	e.machineRoutes(bapi)
	// M2M token creation authenticates with a machine's secret, not sk_.
	e.bapi.HandleFunc("POST "+MountPath+"/v1/m2m_tokens", e.handleCreateM2MToken)
	e.bapi.HandleFunc("POST "+MountPath+"/v1/m2m_tokens/verify", e.handleVerifyM2MToken)
	e.bapi.HandleFunc(MountPath+"/", e.unsupportedBackend)

	e.fapi = http.NewServeMux()
	e.fapi.HandleFunc("GET "+MountPath+"/.well-known/jwks.json", e.handleJWKS)
	e.fapi.HandleFunc("GET "+MountPath+"/img/{file}", e.handleImage)
	e.frontendRoutes(e.fapi)
	e.fapi.HandleFunc(MountPath+"/", e.unsupportedFrontend)

	return e.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSecretKeyRequest(r) {
			e.bapi.ServeHTTP(w, r)
			return
		}
		e.fapi.ServeHTTP(w, tunnelled(r))
	}))
}

// tunnelled applies ClerkJS's method tunnelling: it sends every PATCH, PUT
// and DELETE as a POST with the method in the _method query parameter
// (packages/clerk-js/src/core/fapiClient.ts: a Safari CORS workaround that
// keeps requests simple).
func tunnelled(r *http.Request) *http.Request {
	if r.Method != http.MethodPost {
		return r
	}
	switch m := strings.ToUpper(r.URL.Query().Get("_method")); m {
	case http.MethodPatch, http.MethodPut, http.MethodDelete:
		r = r.WithContext(r.Context())
		r.Method = m
	}
	return r
}

// isSecretKeyRequest reports whether r presents a Backend API credential:
// the instance secret key or a machine secret key. Whether it is the right
// one is for requireSecretKey (or the M2M handlers) to decide.
func isSecretKeyRequest(r *http.Request) bool {
	b := bearer(r)
	return strings.HasPrefix(b, "sk_") || strings.HasPrefix(b, "ak_")
}

// unsupportedBackend answers a Backend API request no route serves: 405
// when the path is served with other methods, else 404, both with Clerk's
// envelope naming the method and path.
func (e *Emulator) unsupportedBackend(w http.ResponseWriter, r *http.Request) {
	e.unsupported(w, r, e.bapi, "Backend")
}

// unsupportedFrontend answers a Frontend API request no route serves. When
// the Backend API serves it, the caller forgot (or mistyped) the secret key:
// that is Clerk's 401, as api.clerk.com answers an unauthenticated call.
func (e *Emulator) unsupportedFrontend(w http.ResponseWriter, r *http.Request) {
	if _, pattern := e.bapi.Handler(r); pattern != MountPath+"/" {
		writeAPIError(w, http.StatusUnauthorized, apiError{Code: "authentication_invalid", Message: "Unauthorized request",
			LongMessage: "This is a Backend API endpoint: send Authorization: Bearer <secret key>."})
		return
	}
	e.unsupported(w, r, e.fapi, "Frontend")
}

func (e *Emulator) unsupported(w http.ResponseWriter, r *http.Request, mux *http.ServeMux, api string) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != MountPath+"/" {
			allow = append(allow, m)
		}
	}
	path := strings.TrimPrefix(r.URL.Path, MountPath)
	status := http.StatusNotFound
	if len(allow) > 0 {
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	writeAPIError(w, status, apiError{Code: codeUnsupportedEndpoint,
		Message:     fmt.Sprintf("%s %s is not supported by the Clerk emulator", r.Method, path),
		LongMessage: fmt.Sprintf("The Clerk emulator's %s API does not serve %s %s. See the README for what the emulator supports.", api, r.Method, path),
		Meta:        map[string]any{"method": r.Method, "path": path}})
}

// proxyHeaders are set by reverse proxies, load balancers and tunnels. The
// emulator hands out sessions to anyone who asks, so a request that came
// through any of them (nginx, Caddy, ngrok, a Cloudflare tunnel on the same
// machine) is refused even though its TCP peer is loopback.
var proxyHeaders = []string{
	"Forwarded", "Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
	"X-Forwarded-Server", "X-Forwarded-Prefix", "X-Original-Forwarded-For", "X-Real-IP", "X-Client-IP",
	"X-Cluster-Client-IP", "True-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP", "X-Envoy-External-Address",
}

// guard lets through only direct requests from this machine, addressed to
// BASE_URL's host: the TCP peer must be loopback, no proxy may have
// forwarded the request, and the Host header must be BASE_URL's (a page on
// another site that rebinds its DNS name to 127.0.0.1 sends its own name).
func (e *Emulator) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			writeError(w, http.StatusForbidden, "authorization_invalid", "the Clerk emulator only answers requests from this machine")
			return
		}
		for _, h := range proxyHeaders {
			if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				writeAPIError(w, http.StatusForbidden, apiError{Code: "authorization_invalid",
					Message:     "the Clerk emulator refuses proxied requests",
					LongMessage: "The request carries " + h + ": the Clerk emulator must be reached directly on this machine, never through a proxy or tunnel.",
					Meta:        map[string]any{"header": h}})
				return
			}
		}
		if !sameHost(r.Host, e.cfg.BaseURL.Scheme, e.cfg.BaseURL.Host) {
			writeAPIError(w, http.StatusForbidden, apiError{Code: "host_invalid",
				Message:     "the Clerk emulator only answers requests for " + e.cfg.BaseURL.Host,
				LongMessage: fmt.Sprintf("The Host header %q is not BASE_URL's host %q.", r.Host, e.cfg.BaseURL.Host)})
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r.WithContext(withRequestInfo(r)))
	})
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameHost compares a Host header with BASE_URL's host, ignoring case and
// the scheme's default port.
func sameHost(got, scheme, want string) bool {
	norm := func(h string) string {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if p := ":" + map[string]string{"http": "80", "https": "443"}[scheme]; strings.HasSuffix(h, p) {
			h = strings.TrimSuffix(h, p)
		}
		return h
	}
	return got != "" && norm(got) == norm(want)
}

// isLoopbackHost reports whether a BASE_URL host (with or without port) is
// localhost or a loopback address: 127.0.0.0/8 or ::1.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireSecretKey guards the Backend API as Clerk does: Bearer sk_….
func (e *Emulator) requireSecretKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.hasSecretKey(r) {
			writeError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (e *Emulator) hasSecretKey(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(bearer(r)), []byte(e.cfg.SecretKey)) == 1
}

func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func (e *Emulator) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if _, err := checkQuery(r); err != nil {
		e.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e.jwks())
}
