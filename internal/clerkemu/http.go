package clerkemu

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// routes registers the Backend API, the Frontend API, the browser shim and
// the HTML pages under MountPath.
func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	p := MountPath
	bapi := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+p+"/v1"+path, e.requireSecretKey(h))
	}
	bapi("GET /jwks", e.handleJWKS)
	e.userRoutes(bapi)
	e.orgRoutes(bapi)
	e.membershipRoutes(bapi)
	e.invitationRoutes(bapi)
	e.sessionRoutes(bapi)
	e.machineRoutes(bapi)
	// M2M token creation authenticates with a machine's secret, not sk_.
	mux.HandleFunc("POST "+p+"/v1/m2m_tokens", e.handleCreateM2MToken)
	mux.HandleFunc("POST "+p+"/v1/m2m_tokens/verify", e.handleVerifyM2MToken)

	mux.HandleFunc("GET "+p+"/.well-known/jwks.json", e.handleJWKS)
	mux.HandleFunc("GET "+p+"/img/{file}", handleAvatar)
	e.frontendRoutes(mux)
	mux.HandleFunc("GET "+p+"/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "resource_not_found", "not found")
	})
	return e.loopbackOnly(mux)
}

// loopbackOnly refuses every peer that is not on this machine: the emulator
// hands out sessions to anyone who asks and must never be reachable from a
// network. RemoteAddr is the TCP peer; forwarding headers are ignored on
// purpose, since a proxy in front would defeat the check.
func (e *Emulator) loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			writeError(w, http.StatusForbidden, "authorization_invalid", "the Clerk emulator only answers requests from this machine")
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
	writeJSON(w, http.StatusOK, e.jwks())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type apiError struct {
	Code        string         `json:"code"`
	Message     string         `json:"message"`
	LongMessage string         `json:"long_message"`
	Meta        map[string]any `json:"meta"`
}

// writeError answers with Clerk's error envelope, which clerk-sdk-go turns
// into *clerk.APIErrorResponse.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{
		"errors":         []apiError{{Code: code, Message: message, LongMessage: message, Meta: map[string]any{}}},
		"clerk_trace_id": randomHex(16),
	})
}

// clientError is an error whose message may be shown to the caller.
type clientError struct {
	status int
	code   string
	msg    string
}

func (c *clientError) Error() string { return c.msg }

func invalid(code, msg string) error { return &clientError{http.StatusUnprocessableEntity, code, msg} }

// errSessionInactive is returned for tokens of ended or revoked sessions.
var errSessionInactive = &clientError{http.StatusNotFound, "resource_not_found", "session is not active"}

// fail maps an error to Clerk's envelope; unknown errors are logged and
// answered as a 500 without detail.
func (e *Emulator) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *clientError
	switch {
	case errors.As(err, &ce):
		writeError(w, ce.status, ce.code, ce.msg)
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "resource_not_found", "resource not found")
	case errors.Is(err, errNotMember):
		writeError(w, http.StatusForbidden, "not_a_member_in_organization", errNotMember.Error())
	default:
		e.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal_clerk_error", "internal error")
	}
}

// decode reads a JSON body (Clerk's SDKs send JSON; clerk-js sends forms,
// which Frontend API handlers read with formOrJSON instead).
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return invalid("request_body_invalid", "could not read the request body")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("request_body_invalid", "the request body is not valid JSON: "+err.Error())
	}
	return nil
}

// page is Clerk's limit/offset pagination: limit 1..500, default 10.
type page struct{ limit, offset int }

func pageOf(r *http.Request) (page, error) {
	p := page{limit: 10}
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return p, invalid("form_param_value_invalid", "limit must be between 1 and 500")
		}
		p.limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, invalid("form_param_value_invalid", "offset must be 0 or more")
		}
		p.offset = n
	}
	return p, nil
}

// orderBy turns Clerk's order_by (created_at, -created_at, +name…) into SQL
// over an allow-list of columns; anything else falls back to def.
func orderBy(r *http.Request, allowed map[string]string, def string) string {
	v := r.URL.Query().Get("order_by")
	dir := "ASC"
	switch {
	case strings.HasPrefix(v, "-"):
		dir, v = "DESC", v[1:]
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	col, ok := allowed[v]
	if !ok {
		return def
	}
	return col + " " + dir + ", id " + dir
}

type list[T any] struct {
	Data       []T   `json:"data"`
	TotalCount int64 `json:"total_count"`
}
