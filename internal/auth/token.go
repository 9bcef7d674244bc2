package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Cookie and parameter names of Clerk's browser protocol (clerk.md §2.1).
const (
	cookieSession       = "__session"
	cookieClientUAT     = "__client_uat"
	cookieDevBrowser    = "__clerk_db_jwt"
	cookieRedirectCount = "__clerk_redirect_count"
	paramHandshake      = "__clerk_handshake"
	paramHandshakeNonce = "__clerk_handshake_nonce"
	paramHelp           = "__clerk_help"
)

var errMalformed = errors.New("auth: malformed token")

// bearerToken returns the credential of an "Authorization: Bearer <token>"
// header. The scheme is matched case-insensitively (RFC 7235 §2.1). Any other
// scheme, and a bare token with no scheme, is not a bearer credential: ok is
// false and the request falls back to cookies.
func bearerToken(h string) (token string, ok bool) {
	h = strings.TrimLeft(h, " \t")
	if len(h) < 7 || !strings.EqualFold(h[:6], "Bearer") || (h[6] != ' ' && h[6] != '\t') {
		return "", false
	}
	return strings.Trim(h[7:], " \t"), true
}

// wellFormed reports whether s is a compact JWS within the size limit: three
// non-empty base64url segments and nothing else. It runs before any parsing,
// so padding, whitespace, the JSON serialization and oversized tokens never
// reach the JOSE library (checklist J-14, J-15), and one token has one
// spelling (the cache key).
func wellFormed(s string) bool {
	if len(s) == 0 || len(s) > maxTokenLen {
		return false
	}
	dots, segLen := 0, 0
	for i := 0; i < len(s); i++ {
		if b64url[s[i]] {
			segLen++
			continue
		}
		if s[i] != '.' || segLen == 0 {
			return false
		}
		dots++
		segLen = 0
	}
	return dots == 2 && segLen > 0
}

// b64url marks the bytes of the base64url alphabet; a table keeps the check
// to one load per byte on the hot path.
var b64url = func() (t [256]bool) {
	for _, b := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[b] = true
	}
	return t
}()

// header is the part of the JOSE header the app looks at before verifying.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Cat  string   `json:"cat"`
	Crit []string `json:"crit"`
}

// parseHeader decodes the header of a well-formed token. It rejects any
// algorithm but RS256 (no "none", no HMAC: J-01, J-02) and any critical
// extension the app does not understand (J-12; go-jose implements b64).
func parseHeader(token string) (header, error) {
	var h header
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return h, errMalformed
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return h, errMalformed
	}
	if h.Alg != "RS256" {
		return h, errors.New("auth: signing algorithm must be RS256")
	}
	for _, c := range h.Crit {
		if c != "b64" {
			return h, errors.New("auth: unsupported critical header")
		}
	}
	return h, nil
}

// cookies holds the Clerk cookies of one request, read in a single pass over
// the Cookie header without allocating.
type cookies struct {
	session, sessionSuffixed       string
	uat, uatSuffixed               string
	hasUAT, hasUATSuffixed         bool
	handshake, handshakeNonce      string
	devBrowser, devBrowserSuffixed string
	redirectCount                  string
}

// readCookies scans the Cookie headers for Clerk's cookies. suffix is the
// publishable key's cookie suffix, possibly empty.
func readCookies(h http.Header, suffix string) cookies {
	var c cookies
	for _, line := range h.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			val = strings.Trim(val, `"`)
			switch {
			case name == cookieSession:
				c.session = first(c.session, val)
			case name == cookieClientUAT:
				c.uat, c.hasUAT = first(c.uat, val), true
			case name == paramHandshake:
				c.handshake = first(c.handshake, val)
			case name == paramHandshakeNonce:
				c.handshakeNonce = first(c.handshakeNonce, val)
			case name == cookieDevBrowser:
				c.devBrowser = first(c.devBrowser, val)
			case name == cookieRedirectCount:
				c.redirectCount = first(c.redirectCount, val)
			case suffix != "" && len(name) == len(cookieSession)+1+len(suffix) && strings.HasPrefix(name, cookieSession+"_") && strings.HasSuffix(name, suffix):
				c.sessionSuffixed = first(c.sessionSuffixed, val)
			case suffix != "" && len(name) == len(cookieClientUAT)+1+len(suffix) && strings.HasPrefix(name, cookieClientUAT+"_") && strings.HasSuffix(name, suffix):
				c.uatSuffixed, c.hasUATSuffixed = first(c.uatSuffixed, val), true
			case suffix != "" && len(name) == len(cookieDevBrowser)+1+len(suffix) && strings.HasPrefix(name, cookieDevBrowser+"_") && strings.HasSuffix(name, suffix):
				c.devBrowserSuffixed = first(c.devBrowserSuffixed, val)
			}
		}
	}
	return c
}

// first keeps the first value of a repeated cookie, as net/http's
// Request.Cookie does.
func first(have, v string) string {
	if have != "" {
		return have
	}
	return v
}

// devBrowserToken is the development browser, suffixed cookie first, as
// clerk-js reads it.
func (c cookies) devBrowserToken() string { return first(c.devBrowserSuffixed, c.devBrowser) }

// sessionToken applies the contract's order: the suffixed cookie, then the
// plain one. The client_uat read is the one of the same family, falling back
// to the other family, because clerk-js writes both.
func (c cookies) sessionToken() (token, uat string, hasUAT bool) {
	if c.sessionSuffixed != "" || (c.session == "" && c.hasUATSuffixed) {
		if c.hasUATSuffixed {
			return c.sessionSuffixed, c.uatSuffixed, true
		}
		return c.sessionSuffixed, c.uat, c.hasUAT
	}
	if c.hasUAT {
		return c.session, c.uat, true
	}
	return c.session, c.uatSuffixed, c.hasUATSuffixed
}
