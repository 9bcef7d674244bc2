// Package clerkproxy serves Clerk's Frontend API through the app's own
// origin: Clerk's "proxy the Frontend API" setup
// (https://clerk.com/docs/guides/dashboard/dns-domains/proxy-fapi). With
// CLERK_PROXY_URL set, ClerkJS talks to <CLERK_PROXY_URL>/v1/…, the app
// forwards each request to the instance's Frontend API with the three
// headers Clerk requires (Clerk-Proxy-Url, Clerk-Secret-Key,
// X-Forwarded-For), and Clerk issues session tokens whose iss is the proxy
// URL. It follows @clerk/backend's own clerkFrontendApiProxy
// (packages/backend/src/proxy.ts in clerk/javascript).
package clerkproxy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// Clerk's Frontend API hosts, by instance family (@clerk/shared constants).
const (
	// ProductionUpstream serves every production and development instance.
	ProductionUpstream = "https://frontend-api.clerk.dev"
	stagingUpstream    = "https://frontend-api.clerkstage.dev"
	localUpstream      = "https://frontend-api.lclclerk.com"
)

// UpstreamFor is the Frontend API a proxy forwards to for a publishable
// key, as @clerk/backend's fapiUrlFromPublishableKey decides it: Clerk's
// shared frontend-api host, which routes by the Clerk-Proxy-Url header,
// except for Clerk's own staging and local environments.
func UpstreamFor(publishableKey string) (*url.URL, error) {
	parts := strings.Split(publishableKey, "_")
	if len(parts) != 3 {
		return nil, errors.New("clerkproxy: not a publishable key")
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return nil, errors.New("clerkproxy: publishable key is not base64")
	}
	host := strings.TrimSuffix(string(raw), "$")
	upstream := ProductionUpstream
	switch {
	case strings.HasPrefix(host, "clerk.") && hasAnySuffix(host, ".lcl.dev", ".lclstage.dev", ".lclclerk.com"):
		// Clerk's legacy development instances live on the production API.
	case hasAnySuffix(host, ".lcl.dev", "lclstage.dev", ".lclclerk.com", ".accounts.lclclerk.com"):
		upstream = localUpstream
	case hasAnySuffix(host, ".accountsstage.dev"):
		upstream = stagingUpstream
	}
	return url.Parse(upstream)
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// Config configures the proxy.
type Config struct {
	// ProxyURL is the proxy's public URL, e.g.
	// https://app.example.com/__clerk. Requests under its path are
	// forwarded, with the path prefix removed.
	ProxyURL *url.URL
	// SecretKey is the instance's secret key, sent as Clerk-Secret-Key.
	SecretKey string
	// Upstream is the Frontend API origin; see UpstreamFor.
	Upstream *url.URL
	// ClientIP is the original client's address, sent as X-Forwarded-For;
	// nil means the TCP peer, which is what the app trusts elsewhere.
	ClientIP func(*http.Request) string
	// Transport reaches the upstream; nil means a transport with timeouts.
	Transport http.RoundTripper
	// Logger receives failed forwards; nil means slog.Default().
	Logger *slog.Logger
}

// maxBody caps a forwarded request body: the Frontend API takes form posts
// and profile images, never more.
const maxBody = 10 << 20

// New returns the proxy handler, to be mounted at ProxyURL's path.
func New(cfg Config) (http.Handler, error) {
	if cfg.ProxyURL == nil || cfg.ProxyURL.Path == "" || cfg.ProxyURL.Path == "/" {
		return nil, errors.New("clerkproxy: ProxyURL must be an absolute URL with a path")
	}
	if cfg.Upstream == nil || cfg.Upstream.Host == "" || (cfg.Upstream.Scheme != "https" && cfg.Upstream.Scheme != "http") {
		return nil, errors.New("clerkproxy: Upstream must be an http(s) origin")
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("clerkproxy: SecretKey is required")
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = peerIP
	}
	if cfg.Transport == nil {
		cfg.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   32,
			ForceAttemptHTTP2:     true,
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	prefix := strings.TrimRight(cfg.ProxyURL.Path, "/")
	proxyURL := strings.TrimRight(cfg.ProxyURL.String(), "/")
	upstream := &url.URL{Scheme: cfg.Upstream.Scheme, Host: cfg.Upstream.Host}
	rp := &httputil.ReverseProxy{
		// Rewrite (rather than Director) has ReverseProxy drop the
		// inbound Forwarded and X-Forwarded-* headers first, so a client
		// cannot choose the IP address Clerk sees.
		Rewrite: func(pr *httputil.ProxyRequest) {
			rest := strings.TrimPrefix(pr.In.URL.EscapedPath(), prefix)
			if rest == "" {
				rest = "/"
			}
			u := *upstream
			u.RawQuery = pr.In.URL.RawQuery
			if p, err := url.PathUnescape(rest); err == nil {
				u.Path, u.RawPath = p, rest
			} else {
				u.Path = rest
			}
			pr.Out.URL = &u
			pr.Out.Host = ""
			pr.Out.Header.Set("Clerk-Proxy-Url", proxyURL)
			pr.Out.Header.Set("Clerk-Secret-Key", cfg.SecretKey)
			pr.Out.Header.Set("X-Forwarded-For", cfg.ClientIP(pr.In))
			pr.Out.Header.Set("X-Forwarded-Host", cfg.ProxyURL.Host)
			pr.Out.Header.Set("X-Forwarded-Proto", cfg.ProxyURL.Scheme)
		},
		Transport: cfg.Transport,
		// A redirect to the Frontend API's own host must come back
		// through the proxy.
		ModifyResponse: func(res *http.Response) error {
			if loc := res.Header.Get("Location"); loc != "" {
				if l, err := upstream.Parse(loc); err == nil && l.Host == upstream.Host {
					res.Header.Set("Location", proxyURL+l.EscapedPath()+query(l.RawQuery)+fragment(l.EscapedFragment()))
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, code := http.StatusBadGateway, "proxy_request_failed"
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				status, code = http.StatusRequestEntityTooLarge, "request_body_too_large"
			}
			cfg.Logger.Warn("clerk frontend api proxy", "method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{
				"code": code, "message": fmt.Sprintf("the Clerk Frontend API could not be reached through the proxy (%d)", status),
			}}})
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rp.ServeHTTP(w, r)
	}), nil
}

func query(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

func fragment(raw string) string {
	if raw == "" {
		return ""
	}
	return "#" + raw
}

// peerIP is the request's TCP peer address without the port.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
