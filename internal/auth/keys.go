package auth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"golang.org/x/sync/singleflight"
)

// errUnknownKey means the token's kid is not in the key set, even after a
// refetch (or a refetch was not allowed yet).
var errUnknownKey = errors.New("auth: unknown signing key")

// keySet finds the public key for a token. A pinned PEM key (CLERK_JWT_KEY)
// answers for every kid and never touches the network. Otherwise keys come
// from the Backend API's JWKS, cached by kid. An unknown kid triggers a
// refetch, but at most one fetch runs at a time (single-flight) and at most
// one starts per interval: a flood of tokens with random kids therefore costs
// one fetch per interval, not one per token (checklist J-04). Keys removed
// from the JWKS stay trusted until the next fetch replaces the set.
type keySet struct {
	pinned   *clerk.JSONWebKey
	client   *jwks.Client
	now      func() time.Time
	interval time.Duration

	group     singleflight.Group
	mu        sync.RWMutex
	keys      map[string]*clerk.JSONWebKey
	lastFetch time.Time
}

func newKeySet(cfg Config, now func() time.Time) (*keySet, error) {
	ks := &keySet{now: now, interval: cfg.JWKSInterval, keys: map[string]*clerk.JSONWebKey{}}
	if ks.interval <= 0 {
		ks.interval = defaultJWKSInterval
	}
	if cfg.JWTKey != "" {
		pub, err := parsePEMKey(cfg.JWTKey)
		if err != nil {
			return nil, err
		}
		ks.pinned = &clerk.JSONWebKey{Key: pub, Algorithm: "RS256"}
		return ks, nil
	}
	if cfg.APIURL == "" || cfg.SecretKey == "" {
		return nil, errors.New("auth: either a JWT key or the Backend API URL and secret key are required")
	}
	ks.client = jwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: httpClient(cfg),
		URL:        clerk.String(cfg.APIURL),
		Key:        clerk.String(cfg.SecretKey),
	}})
	return ks, nil
}

func httpClient(cfg Config) *http.Client {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// key returns the verification key for kid.
func (ks *keySet) key(kid string) (*clerk.JSONWebKey, error) {
	if ks.pinned != nil {
		// Clerk's PEM key has no kid: the token's kid is not checked against
		// it, as in clerk-sdk-go.
		return ks.pinned, nil
	}
	if kid == "" {
		return nil, errors.New("auth: token has no kid")
	}
	ks.mu.RLock()
	k, ok := ks.keys[kid]
	ks.mu.RUnlock()
	if ok {
		return k, nil
	}
	// Every miss goes through the single-flight group: a request that
	// arrives while a fetch runs waits for it (the kid may be in it), and
	// one that arrives later finds the interval not yet over and returns at
	// once. The fetch is not tied to any one request's context.
	_, err, _ := ks.group.Do("jwks", func() (any, error) {
		ks.mu.RLock()
		due := ks.lastFetch.IsZero() || ks.now().Sub(ks.lastFetch) >= ks.interval
		ks.mu.RUnlock()
		if !due {
			return nil, nil
		}
		return nil, ks.fetch()
	})
	if err != nil {
		return nil, err
	}
	ks.mu.RLock()
	k, ok = ks.keys[kid]
	ks.mu.RUnlock()
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

// fetch replaces the key set with the Backend API's JWKS. The attempt is
// recorded even when it fails, so an unreachable API is not hammered.
func (ks *keySet) fetch() error {
	ks.mu.Lock()
	ks.lastFetch = ks.now()
	ks.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	set, err := ks.client.Get(ctx, &jwks.GetParams{})
	if err != nil {
		return fmt.Errorf("auth: fetching JWKS: %w", err)
	}
	keys := make(map[string]*clerk.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k == nil || k.KeyID == "" || (k.Algorithm != "RS256" && k.Algorithm != "") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < 2048 {
			continue
		}
		keys[k.KeyID] = &clerk.JSONWebKey{Key: pub, KeyID: k.KeyID, Algorithm: "RS256", Use: "sig"}
	}
	ks.mu.Lock()
	ks.keys = keys
	ks.mu.Unlock()
	return nil
}

// parsePEMKey reads CLERK_JWT_KEY: a PEM public key with or without its
// BEGIN/END lines (the Dashboard shows it on one line without them), with real
// or escaped ("\n") line breaks. Only RSA keys of at least 2048 bits are
// accepted, since tokens are RS256 and the key is never used as an HMAC secret.
func parsePEMKey(s string) (*rsa.PublicKey, error) {
	s = strings.ReplaceAll(s, `\n`, "\n")
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "-----BEGIN PUBLIC KEY-----")
	if i := strings.Index(s, "-----END PUBLIC KEY-----"); i >= 0 {
		s = s[:i]
	}
	s = strings.Join(strings.Fields(s), "")
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("CLERK_JWT_KEY is not a PEM public key")
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("CLERK_JWT_KEY is not a PEM public key")
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() < 2048 {
		return nil, errors.New("CLERK_JWT_KEY must be an RSA public key of at least 2048 bits")
	}
	return pub, nil
}
