package auth

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/saasstarter/saas/internal/config"
	"github.com/saasstarter/saas/internal/routes"
)

// Config is what the authenticator needs. Build it with ConfigFrom, or by hand
// in tests.
type Config struct {
	// FrontendAPI is the Frontend API URL with no trailing slash, e.g.
	// https://clerk.example.com. Session tokens must carry exactly this iss,
	// and stale document requests are handshaken against it.
	FrontendAPI string
	// BaseURL is the app's public origin (BASE_URL). The handshake's
	// redirect_url is built from it, never from the Host header.
	BaseURL string
	// PublishableKey names the suffixed cookies (__session_<suffix>). Empty
	// means only the unsuffixed cookies are read.
	PublishableKey string
	// SecretKey authenticates the instance's Backend API calls: GET /jwks.
	SecretKey string
	// MachineSecretKey is this app's machine secret key (ak_…,
	// CLERK_MACHINE_SECRET_KEY). Machine tokens are verified as this
	// machine, so only tokens scoped to it pass. Empty means machine tokens
	// are never accepted.
	MachineSecretKey string
	// MachineID is this app's machine id (mch_…), when known up front (the
	// emulator's). Empty means it is learned from the Backend API the first
	// time a JWT-format machine token needs it.
	MachineID string
	// APIURL is the Backend API base, including /v1.
	APIURL string
	// JWTKey is the PEM public key (CLERK_JWT_KEY), with or without the
	// BEGIN/END lines. When set, no JWKS is ever fetched.
	JWTKey string
	// AuthorizedParties lists the origins accepted in azp. A token without
	// azp is accepted, as Clerk issues none when the browser sent no Origin.
	AuthorizedParties []string
	// Revocations, when set, is the set of revoked sessions: their tokens
	// are refused although signed and unexpired.
	Revocations *Revocations
	// HandshakeAttempts, when set, counts handshake nonces the Backend API
	// did not know, per client IP. A nonce costs a Backend API call to
	// resolve, and anyone can put one in a URL; once a client has used up
	// its attempts, its nonces are dropped without a call. Without it every
	// nonce is resolved.
	HandshakeAttempts AttemptLimiter
	// HTTPClient is used for Backend API calls; nil means a client with a
	// 5 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// JWKSInterval is the shortest time between two JWKS fetches triggered by
	// unknown key ids; zero means 30 s.
	JWKSInterval time.Duration
}

// ConfigFrom derives the authenticator's configuration from the app's. In
// Clerk mode the Frontend API comes from the publishable key, or is
// CLERK_PROXY_URL when the app proxies it; in emulator mode it is the
// emulator mounted on the app's own origin as a proxy. Behind a proxy Clerk
// issues tokens whose iss is the proxy URL, so that is the exact iss
// required.
func ConfigFrom(c config.Config) (Config, error) {
	base := strings.TrimRight(c.BaseURL.String(), "/")
	out := Config{
		BaseURL:           base,
		PublishableKey:    c.ClerkPublishableKey,
		JWTKey:            c.ClerkJWTKey,
		AuthorizedParties: c.ClerkAuthorizedParty,
	}
	switch c.Mode {
	case config.ModeClerk:
		fapi, err := FrontendAPIFromPublishableKey(c.ClerkPublishableKey)
		if err != nil {
			return Config{}, err
		}
		out.FrontendAPI = fapi
		if c.ClerkProxyURL != nil {
			out.FrontendAPI = c.ClerkProxyURL.String()
		}
		out.SecretKey = c.ClerkSecretKey
		out.MachineSecretKey = c.ClerkMachineSecretKey
		out.APIURL = strings.TrimRight(c.ClerkAPIURL, "/")
	case config.ModeEmulator:
		out.FrontendAPI = base + routes.Emulator
		out.SecretKey = c.EmulatorSecretKey
		out.APIURL = base + routes.Emulator + "/v1"
	default:
		return Config{}, fmt.Errorf("auth: unknown mode %q", c.Mode)
	}
	return out, nil
}

// FrontendAPIFromPublishableKey decodes a publishable key (pk_test_… or
// pk_live_… followed by base64(host + "$"), padding optional) into the
// Frontend API URL, https://host. It applies Clerk's own validity rules.
func FrontendAPIFromPublishableKey(pk string) (string, error) {
	parts := strings.Split(pk, "_")
	if len(parts) != 3 || parts[0] != "pk" || (parts[1] != "test" && parts[1] != "live") {
		return "", errors.New("CLERK_PUBLISHABLE_KEY must look like pk_test_… or pk_live_…")
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return "", errors.New("CLERK_PUBLISHABLE_KEY is not valid base64")
	}
	host := string(raw)
	if !strings.HasSuffix(host, "$") || strings.Count(host, "$") != 1 || !strings.Contains(host, ".") {
		return "", errors.New("CLERK_PUBLISHABLE_KEY does not encode a Frontend API host")
	}
	host = strings.TrimSuffix(host, "$")
	if strings.ContainsAny(host, "/?#@ \\") {
		return "", errors.New("CLERK_PUBLISHABLE_KEY encodes an invalid host")
	}
	return "https://" + host, nil
}

// CookieSuffix returns the suffix clerk-js appends to its cookie names:
// the first 8 characters of base64url(sha1(publishable key)). It is empty
// for an empty key.
func CookieSuffix(publishableKey string) string {
	if publishableKey == "" {
		return ""
	}
	sum := sha1.Sum([]byte(publishableKey))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:8]
}

// Clerk's token-category header values (JS tokens/jwtCategories.ts).
const (
	catSession = "cl_B7d4PD111AAA"
	catM2M     = "cl_B7d4PD333AAA"
	catIgnore  = "cl_I7d4PD111III"
)

// Limits and fixed values of the verification rules.
const (
	// leeway is the allowed clock skew. Clerk's tokens live 60 s, so
	// anything larger would stretch their life noticeably.
	leeway = 5 * time.Second
	// maxTokenLen caps a token before any parsing. A cookie cannot exceed
	// 4 KiB; a header token twice that is still generous.
	maxTokenLen = 8 << 10
	// cacheSize bounds the verified-claims cache.
	cacheSize = 10_000
	// defaultJWKSInterval spaces out JWKS refetches on unknown key ids.
	defaultJWKSInterval = 30 * time.Second
	// clerkAPIVersion is the API version clerk-sdk-go v2.4.2 speaks, sent on
	// the handshake redirect.
	clerkAPIVersion = "2025-04-10"
)
