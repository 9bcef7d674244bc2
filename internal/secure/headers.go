// Package secure sets the security headers every response carries, including
// a Content-Security-Policy with a fresh nonce per request. Templates read the
// nonce from the request context and put it on every script tag.
package secure

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/saasstarter/saas/internal/routes"
)

type nonceKey struct{}

// NewContextWithNonce returns ctx carrying the CSP nonce of this request.
func NewContextWithNonce(ctx context.Context, nonce string) context.Context {
	return context.WithValue(ctx, nonceKey{}, nonce)
}

// NonceFromContext returns the request's CSP nonce, or "" outside a request.
func NonceFromContext(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

// Config lists the third-party origins the page may use. With Clerk they are
// the Frontend API host (ClerkJS and its API), Clerk's image CDN and
// Cloudflare's bot challenge (Clerk's CAPTCHA); in emulator mode, and with
// the Frontend API proxied, ClerkJS and its API are on the app's origin.
type Config struct {
	// ScriptSrc, ConnectSrc, ImgSrc and FrameSrc are origins added to the
	// matching directives.
	ScriptSrc  []string
	ConnectSrc []string
	ImgSrc     []string
	FrameSrc   []string
	// HSTS turns on Strict-Transport-Security; set it in production, where the
	// app is only reached over HTTPS.
	HSTS bool
	// DataOnly lists route-template prefixes (Echo's c.Path()) that never
	// answer with an HTML document: the JSON API and the health checks.
	// Their responses get DataPolicy, which allows nothing, and no nonce:
	// a nonce protects scripts in a page, and these responses have none.
	DataOnly []string
}

// DataPolicy is the Content-Security-Policy of DataOnly routes: should a
// browser ever render such a response as a document, it may load, run and
// frame nothing.
const DataPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// NewNonce returns 128 bits from crypto/rand, base64-encoded.
func NewNonce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a page without a
		// usable nonce must not be served.
		panic("secure: crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Policy returns the Content-Security-Policy for a nonce, with what ClerkJS
// and @clerk/ui need and no more (Clerk's CSP guide,
// https://clerk.com/docs/guides/secure/best-practices/csp-headers):
//   - scripts run only with the nonce; 'strict-dynamic' lets the nonced
//     bundles load their own chunks, and nothing allows eval;
//   - styles come from the app's stylesheet or carry the nonce: Clerk's
//     components insert theirs with it (Clerk.load's nonce option), so no
//     'unsafe-inline';
//   - workers from blob: only (ClerkJS runs its timers in a worker);
//   - frames only for Clerk's CAPTCHA (Clerk mode), none otherwise;
//   - images from 'self' and data: (Clerk's components draw some as data:
//     SVG), plus Clerk's image CDN in Clerk mode.
func (c Config) Policy(nonce string) string {
	return strings.Join(c.policyParts(), nonce)
}

// nonceMark stands for the nonce while the policy is assembled once.
const nonceMark = "\x00nonce\x00"

// policyParts returns the policy split where the nonce goes (each directive
// that takes it), so that each request only joins the parts around its own.
func (c Config) policyParts() []string {
	return strings.Split(c.policy(nonceMark), nonceMark)
}

func (c Config) policy(nonce string) string {
	join := func(base string, extra []string) string {
		if len(extra) == 0 {
			return base
		}
		return base + " " + strings.Join(extra, " ")
	}
	// Nothing of the app's own is framed: frames are only for what Clerk
	// needs (its CAPTCHA, in Clerk mode).
	frameSrc := "frame-src 'none'"
	if len(c.FrameSrc) > 0 {
		frameSrc = "frame-src " + strings.Join(c.FrameSrc, " ")
	}
	directives := []string{
		"default-src 'self'",
		join("script-src 'nonce-"+nonce+"' 'strict-dynamic' 'self'", c.ScriptSrc),
		join("connect-src 'self'", c.ConnectSrc),
		join("img-src 'self' data:", c.ImgSrc),
		"style-src 'self' 'nonce-" + nonce + "'",
		"font-src 'self'",
		"worker-src blob:",
		frameSrc,
		"frame-ancestors 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"object-src 'none'",
	}
	return strings.Join(directives, "; ")
}

// Headers returns middleware that sets the security headers and stores the
// request's nonce in its context (DataOnly routes get DataPolicy instead).
// It runs before the handler so that error pages get the same headers; Echo
// has routed the request by then, so c.Path() is the route template.
func Headers(cfg Config) echo.MiddlewareFunc {
	parts := cfg.policyParts()
	// The fixed headers' values are shared by every response: nothing
	// modifies a header value in place, and Set or Add on a response
	// replaces or grows its own slice.
	fixed := http.Header{}
	fixed.Set("X-Content-Type-Options", "nosniff")
	fixed.Set("X-Frame-Options", "DENY")
	fixed.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if cfg.HSTS {
		fixed.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	// Two more for documents only: COOP and Permissions-Policy govern a
	// page's browsing context and the features its scripts may use, and a
	// JSON answer or a probe has neither. Left out there, a probe's header
	// map stays within one group of eight, which net/http clones, sorts
	// and writes on every response.
	document := fixed.Clone()
	document.Set("Cross-Origin-Opener-Policy", "same-origin")
	document.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	dataPolicy := []string{DataPolicy}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			set := document
			if routes.UnderAny(c.Path(), cfg.DataOnly) {
				h["Content-Security-Policy"] = dataPolicy
				set = fixed
			} else {
				nonce := NewNonce()
				r := c.Request()
				c.SetRequest(r.WithContext(NewContextWithNonce(r.Context(), nonce)))
				h.Set("Content-Security-Policy", strings.Join(parts, nonce))
			}
			for k, v := range set {
				h[k] = v
			}
			return next(c)
		}
	}
}

// NoStore marks a response as private and uncacheable. Authenticated pages
// and every response that varies by identity use it.
func NoStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
}
