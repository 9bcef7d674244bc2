package clerksync

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	svix "github.com/svix/svix-webhooks/go"
)

// minSecretBytes is the shortest accepted signing key. Svix secrets are 24
// bytes or more (32 base64 characters); anything shorter is a truncated or
// made-up secret, and an empty one would let anyone sign (svix-webhooks v1.84
// accepts it silently).
const minSecretBytes = 24

// Verification errors. The handler answers ErrMissingHeaders and
// ErrMalformedHeaders with 400 and ErrSignature with 401.
var (
	ErrMissingHeaders   = errors.New("missing webhook signature headers")
	ErrMalformedHeaders = errors.New("malformed webhook signature headers")
	ErrSignature        = errors.New("invalid webhook signature or timestamp")
)

// Verifier checks Svix signatures on webhook deliveries.
type Verifier struct {
	wh *svix.Webhook
}

// NewVerifier returns a Verifier for a Clerk signing secret (whsec_…). It
// refuses a secret that is empty, only the prefix, not base64 or shorter
// than 24 bytes once decoded; the process should refuse to start with the
// returned error, whose text never contains the secret.
func NewVerifier(secret string) (*Verifier, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_")
	if s == "" {
		return nil, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is empty (expected whsec_ followed by base64)")
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is not whsec_ followed by valid base64")
	}
	if len(key) < minSecretBytes {
		return nil, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is too short (the decoded key must be at least 24 bytes)")
	}
	wh, err := svix.NewWebhookRaw(key)
	if err != nil {
		return nil, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is unusable")
	}
	return &Verifier{wh: wh}, nil
}

// maxMessageID bounds the svix-id we store as the idempotency key.
const maxMessageID = 256

// messageID returns the delivery's message id from the svix-* headers, or
// the webhook-* set when any svix-* header is missing: exactly the headers
// the Svix library verifies, so the id we deduplicate on is the signed one.
// It checks that the headers are present and well formed.
func messageID(h http.Header) (string, error) {
	id, ts, sig := h.Get("svix-id"), h.Get("svix-timestamp"), h.Get("svix-signature")
	if id == "" || ts == "" || sig == "" {
		id, ts, sig = h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	}
	if id == "" || ts == "" || sig == "" {
		return "", ErrMissingHeaders
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || len(id) > maxMessageID {
		return "", ErrMalformedHeaders
	}
	return id, nil
}

// Verify checks the signature of body against the headers, with Svix's
// ±5 minute timestamp tolerance, and returns the message id.
func (v *Verifier) Verify(body []byte, h http.Header) (string, error) {
	return v.verify(body, h, true)
}

// VerifyIgnoringTimestamp is Verify without the timestamp check. It exists
// for fixed test vectors; never use it for live traffic.
func (v *Verifier) VerifyIgnoringTimestamp(body []byte, h http.Header) (string, error) {
	return v.verify(body, h, false)
}

func (v *Verifier) verify(body []byte, h http.Header, checkTime bool) (string, error) {
	id, err := messageID(h)
	if err != nil {
		return "", err
	}
	if checkTime {
		err = v.wh.Verify(body, h)
	} else {
		err = v.wh.VerifyIgnoringTimestamp(body, h)
	}
	if err != nil {
		return "", ErrSignature
	}
	return id, nil
}
