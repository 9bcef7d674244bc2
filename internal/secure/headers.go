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
// Cloudflare's bot challenge; in emulator mode everything is same-origin.
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
}

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

// Policy returns the Content-Security-Policy for a nonce. Scripts run only
// with the nonce ('strict-dynamic' lets a nonced loader such as ClerkJS load
// its own chunks); there is no 'unsafe-inline' or 'unsafe-eval' for scripts.
// Inline styles stay allowed because ClerkJS injects CSS-in-JS.
func (c Config) Policy(nonce string) string {
	before, after := c.policyAround()
	return before + nonce + after
}

// nonceMark stands for the nonce while the policy is assembled once.
const nonceMark = "\x00nonce\x00"

// policyAround returns the policy as the text before and after the nonce,
// so that each request only concatenates three strings.
func (c Config) policyAround() (before, after string) {
	before, after, _ = strings.Cut(c.policy(nonceMark), nonceMark)
	return before, after
}

func (c Config) policy(nonce string) string {
	join := func(base string, extra []string) string {
		if len(extra) == 0 {
			return base
		}
		return base + " " + strings.Join(extra, " ")
	}
	directives := []string{
		"default-src 'self'",
		join("script-src 'nonce-"+nonce+"' 'strict-dynamic' 'self'", c.ScriptSrc),
		join("connect-src 'self'", c.ConnectSrc),
		join("img-src 'self' data:", c.ImgSrc),
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self'",
		"worker-src 'self' blob:",
		join("frame-src 'self'", c.FrameSrc),
		"frame-ancestors 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"object-src 'none'",
	}
	return strings.Join(directives, "; ")
}

// Headers returns middleware that sets the security headers and stores the
// request's nonce in its context. It runs before the handler so that error
// pages get the same headers.
func Headers(cfg Config) echo.MiddlewareFunc {
	before, after := cfg.policyAround()
	// The fixed headers' values are shared by every response: nothing
	// modifies a header value in place, and Set or Add on a response
	// replaces or grows its own slice.
	fixed := http.Header{}
	fixed.Set("X-Content-Type-Options", "nosniff")
	fixed.Set("X-Frame-Options", "DENY")
	fixed.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	fixed.Set("Cross-Origin-Opener-Policy", "same-origin")
	fixed.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if cfg.HSTS {
		fixed.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			nonce := NewNonce()
			r := c.Request()
			c.SetRequest(r.WithContext(NewContextWithNonce(r.Context(), nonce)))
			h := c.Response().Header()
			h.Set("Content-Security-Policy", before+nonce+after)
			for k, v := range fixed {
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
