package auth

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// RevocationRetention is how long a revoked session is remembered. A session
// token outlives its session by at most its own lifetime: Clerk's session
// tokens live 60 s, and tokens minted through the Backend API with
// expires_in_seconds are meant for tests and scripts. A day covers both
// with a wide margin, and a day of revocations is a small set.
const RevocationRetention = 24 * time.Hour

var errRevoked = errors.New("auth: the session was revoked")

// Revocations is the set of Clerk sessions that were revoked, ended or
// removed (the session.* webhooks), consulted on every request so that such
// a session's tokens stop working at once instead of when they expire. It
// lives in memory, so the check costs no database query: the webhook sync
// announces each revocation with PostgreSQL NOTIFY and every instance of
// the app adds it to its own set (clerksync.WatchRevocations). It is safe
// for concurrent use.
type Revocations struct {
	mu sync.RWMutex
	m  map[string]time.Time
	// n mirrors len(m), so the common case, an empty set, takes no lock.
	n atomic.Int64
}

// NewRevocations returns an empty set.
func NewRevocations() *Revocations {
	return &Revocations{m: map[string]time.Time{}}
}

// Add records that session was revoked at at.
func (r *Revocations) Add(session string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[session]; !ok || at.Before(old) {
		r.m[session] = at
	}
	r.n.Store(int64(len(r.m)))
}

// Revoked reports whether session was revoked.
func (r *Revocations) Revoked(session string) bool {
	if r == nil || r.n.Load() == 0 {
		return false
	}
	r.mu.RLock()
	_, ok := r.m[session]
	r.mu.RUnlock()
	return ok
}

// Prune forgets the sessions revoked more than RevocationRetention before
// now: every token they issued has expired by then.
func (r *Revocations) Prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, at := range r.m {
		if now.Sub(at) > RevocationRetention {
			delete(r.m, s)
		}
	}
	r.n.Store(int64(len(r.m)))
}

// Len is the number of sessions in the set.
func (r *Revocations) Len() int { return int(r.n.Load()) }
