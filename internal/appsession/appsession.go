// Package appsession is the app's own cookie session (gorilla/sessions):
// flash messages, return-to paths and small UI state. It never holds
// identity or authorisation data; those come from the Clerk session token.
package appsession

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// MaxAge is how long an app session lives without being saved again.
const MaxAge = 7 * 24 * time.Hour

// Flash kinds, which map to alert styles.
const (
	FlashInfo    = "info"
	FlashSuccess = "success"
	FlashError   = "error"
)

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string
	Message string
}

// Store wraps a gorilla cookie store with the app's cookie name and options.
type Store struct {
	store *sessions.CookieStore
	name  string
}

// NewStore returns a store keyed by secrets: the first signs and encrypts,
// every one decrypts, so a key can be rotated by putting the new one first.
// secure sets the Secure flag and, with it, the __Host- cookie prefix, which
// pins the cookie to this exact host and path.
func NewStore(secrets [][]byte, secure bool) (*Store, error) {
	if len(secrets) == 0 {
		return nil, errors.New("appsession: no keys")
	}
	var pairs [][]byte
	for _, s := range secrets {
		pairs = append(pairs, derive(s, "appsession hash key"), derive(s, "appsession block key"))
	}
	cs := sessions.NewCookieStore(pairs...)
	cs.Options = &sessions.Options{
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	// MaxAge sets both the cookie's Max-Age and the codecs' own expiry check,
	// so a replayed old cookie is refused even if a browser kept it.
	cs.MaxAge(int(MaxAge / time.Second))
	name := "app_session"
	if secure {
		name = "__Host-app_session"
	}
	return &Store{store: cs, name: name}, nil
}

// derive turns one configured secret into an independent 32-byte key per use,
// so the signing and encryption keys are never the same bytes.
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// CookieName is the name of the session cookie.
func (s *Store) CookieName() string { return s.name }

// Get returns the request's session. A missing, tampered, expired or
// undecodable cookie gives a new empty session rather than an error: the app
// session is convenience state, and losing it must never break a page.
func (s *Store) Get(r *http.Request) *sessions.Session {
	sess, err := s.store.Get(r, s.name)
	if err != nil {
		var scErr securecookie.Error
		if !errors.As(err, &scErr) || !scErr.IsDecode() {
			slog.Warn("app session unreadable", "err", err)
		}
	}
	return sess
}

// AddFlash queues a message for the next page and saves the session.
func (s *Store) AddFlash(c echo.Context, kind, message string) error {
	sess := s.Get(c.Request())
	// Stored as JSON text so the session holds only strings and needs no gob
	// type registration.
	b, err := json.Marshal(Flash{Kind: kind, Message: message})
	if err != nil {
		return err
	}
	sess.AddFlash(string(b))
	return sess.Save(c.Request(), c.Response())
}

// Flashes returns and clears the queued messages. The session is saved only
// when there was something to clear, so ordinary pages set no cookie.
func (s *Store) Flashes(c echo.Context) []Flash {
	// Without the cookie there is nothing to read: skip building an empty
	// session (and copying the request to register it) on every page.
	if _, err := c.Request().Cookie(s.name); err != nil {
		return nil
	}
	sess := s.Get(c.Request())
	raw := sess.Flashes()
	if len(raw) == 0 {
		return nil
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		slog.Warn("app session save failed", "err", err)
	}
	out := make([]Flash, 0, len(raw))
	for _, f := range raw {
		var fl Flash
		if str, ok := f.(string); ok && json.Unmarshal([]byte(str), &fl) == nil {
			out = append(out, fl)
		}
	}
	return out
}
