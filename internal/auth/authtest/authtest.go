// Package authtest mints Clerk-shaped tokens and checks route protection for
// tests of the auth package and of the server that wires it. It must only be
// imported from _test.go files.
package authtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Issuer is a stand-in for a Clerk instance: an RSA-2048 key with a kid.
type Issuer struct {
	Key *rsa.PrivateKey
	KID string
}

// NewIssuer returns an issuer with a fresh RSA-2048 key (e = 65537).
func NewIssuer(t testing.TB, kid string) *Issuer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{Key: k, KID: kid}
}

// PEM is the public key as CLERK_JWT_KEY holds it.
func (i *Issuer) PEM() string {
	der, err := x509.MarshalPKIXPublicKey(&i.Key.PublicKey)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// JWK is the public key as a Clerk JWKS entry.
func (i *Issuer) JWK() map[string]any {
	return map[string]any{
		"use": "sig", "kty": "RSA", "kid": i.KID, "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(i.Key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(i.Key.E)).Bytes()),
	}
}

// Sign returns a compact RS256 JWS. header may override or add header
// fields (a nil value removes one); alg defaults to RS256, typ to JWT and kid
// to the issuer's.
func (i *Issuer) Sign(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": i.KID}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return i.SignRaw(string(hb), string(cb))
}

// SignRaw signs literal header and payload JSON, for malformed inputs such
// as duplicate keys.
func (i *Issuer) SignRaw(headerJSON, payloadJSON string) string {
	in := b64(headerJSON) + "." + b64(payloadJSON)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.Key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Session returns the default claims of a Clerk session token (v2 layout,
// no organisation) for user and session, issued at now by iss.
func Session(iss, user, session string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": user, "sid": session, "azp": "http://localhost:8080",
		"iat": now.Unix(), "nbf": now.Unix() - 10, "exp": now.Unix() + 60,
		"jti": "0123456789abcdef0123", "fva": []int{0, -1}, "v": 2, "sts": "active",
	}
}

// Clock is a settable clock for Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// JWKSServer is a fake Backend API serving GET /v1/jwks for a set of issuers
// and counting the fetches.
type JWKSServer struct {
	*httptest.Server
	Fetches atomic.Int64
	mu      sync.Mutex
	keys    []*Issuer
	secret  string
}

// NewJWKSServer starts a fake Backend API that requires "Bearer secret".
// Its base URL for Config.APIURL is URL + "/v1".
func NewJWKSServer(t testing.TB, secret string, keys ...*Issuer) *JWKSServer {
	s := &JWKSServer{keys: keys, secret: secret}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jwks" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		s.Fetches.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+s.secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"authentication_invalid","message":"invalid"}]}`))
			return
		}
		s.mu.Lock()
		var set []map[string]any
		for _, k := range s.keys {
			set = append(set, k.JWK())
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	t.Cleanup(s.Close)
	return s
}

// SetKeys replaces the served keys (key rotation).
func (s *JWKSServer) SetKeys(keys ...*Issuer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// PathFor turns a route template into a concrete path: every :param and *
// becomes "x".
func PathFor(template string) string {
	parts := strings.Split(template, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}
