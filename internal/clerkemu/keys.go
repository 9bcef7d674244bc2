package clerkemu

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed schema.sql
var schemaSQL string

// schemaLockID serialises schema creation when several processes (or tests)
// open the same database at once.
const schemaLockID int64 = 4_224_901_400

func (e *Emulator) migrate(ctx context.Context) error {
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("clerkemu: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLockID); err != nil {
		return fmt.Errorf("clerkemu: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("clerkemu: migrate: %w", err)
	}
	return tx.Commit(ctx)
}

// generateKey makes the instance's signing key. Tests replace it with a
// cached key because RSA generation is slow under the race detector.
var generateKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// loadInstance reads the persisted key and webhook secret, creating them on
// first start. Losing them would invalidate every token the app has cached
// and every webhook secret it was given.
func (e *Emulator) loadInstance(ctx context.Context) error {
	var keyPEM string
	err := e.pool.QueryRow(ctx, "SELECT instance_id, private_key, webhook_secret FROM clerkemu.instance").
		Scan(&e.kid, &keyPEM, &e.whsecret)
	if errors.Is(err, pgx.ErrNoRows) {
		key, err := generateKey()
		if err != nil {
			return fmt.Errorf("clerkemu: generate key: %w", err)
		}
		secret := make([]byte, 24)
		_, _ = rand.Read(secret)
		der := x509.MarshalPKCS1PrivateKey(key)
		_, err = e.pool.Exec(ctx, `INSERT INTO clerkemu.instance (instance_id, private_key, webhook_secret, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			newID("ins"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})),
			"whsec_"+base64.StdEncoding.EncodeToString(secret), e.nowMS())
		if err != nil {
			return fmt.Errorf("clerkemu: store instance: %w", err)
		}
		// Read back rather than use our values: a concurrent first start
		// may have won the insert.
		return e.loadInstance(ctx)
	}
	if err != nil {
		return fmt.Errorf("clerkemu: load instance: %w", err)
	}
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return errors.New("clerkemu: stored key is not PEM")
	}
	e.key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("clerkemu: stored key: %w", err)
	}
	return nil
}

func publicKeyPEM(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwk is one key of a JWKS, in the shape Clerk serves. "alg" must be present:
// clerk-sdk-go rejects a token whose alg differs from the key's.
type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (e *Emulator) jwks() map[string][]jwk {
	pub := e.key.PublicKey
	return map[string][]jwk{"keys": {{
		Use: "sig", Kty: "RSA", Kid: e.kid, Alg: "RS256",
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// Token categories from @clerk/backend's jwtCategories.ts.
const (
	catSession = "cl_B7d4PD111AAA"
)

// sign returns an RS256 JWT over claims with the instance kid. cat, when not
// empty, is Clerk's token-category header.
func (e *Emulator) sign(claims any, cat string) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT", "kid": e.kid}
	if cat != "" {
		header["cat"] = cat
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, e.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

const alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix_ followed by 27 random alphanumerics, the shape of
// Clerk's ids (user_2g7np7Hrk0SN6kj5EDMLDaKNL0S).
func newID(prefix string) string {
	return prefix + "_" + randomString(27)
}

func randomString(n int) string {
	var b strings.Builder
	b.Grow(n)
	buf := make([]byte, 2*n)
	for b.Len() < n {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			// Rejecting bytes at or above 248 (4 * 62) keeps every
			// character equally likely.
			if c < 248 && b.Len() < n {
				b.WriteByte(alphanumerics[int(c)%len(alphanumerics)])
			}
		}
	}
	return b.String()
}

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return fmt.Sprintf("%x", buf)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%x", sum)
}

// nowMS is the emulator's clock in Unix milliseconds, strictly increasing
// within an emulator: the seed creates dozens of objects in one millisecond,
// and "a user's first membership" (the organisation a new session starts
// in) and every list ordered by creation must still follow creation order.
func (e *Emulator) nowMS() int64 {
	for {
		ms, last := e.now().UnixMilli(), e.lastMS.Load()
		if ms <= last {
			ms = last + 1
		}
		if e.lastMS.CompareAndSwap(last, ms) {
			return ms
		}
	}
}
