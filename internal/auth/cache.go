package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenKey is the cache key for a token: its SHA-256, so that the cache never
// holds bearer credentials and every key has the same small size.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey {
	// Hashing a string needs it as bytes; copying into a pooled buffer
	// keeps the cache-hit path free of a token-sized allocation.
	if len(token) > maxTokenLen {
		return sha256.Sum256([]byte(token))
	}
	buf := keyBufs.Get().(*[maxTokenLen]byte)
	n := copy(buf[:], token)
	k := sha256.Sum256(buf[:n])
	keyBufs.Put(buf)
	return k
}

var keyBufs = sync.Pool{New: func() any { return new([maxTokenLen]byte) }}

// ttlCache is a bounded map of values that expire. Reads take a shared lock
// so the hot path (a repeat request with the same token) does not serialise.
// When full, expired entries are dropped first, then arbitrary ones: the
// cache only saves work, so losing an entry costs one re-verification.
type ttlCache[V any] struct {
	mu  sync.RWMutex
	max int
	m   map[tokenKey]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](max int) *ttlCache[V] {
	return &ttlCache[V]{max: max, m: make(map[tokenKey]ttlEntry[V])}
}

// get returns the value for k if it has not expired at now.
func (c *ttlCache[V]) get(k tokenKey, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v under k until expires.
func (c *ttlCache[V]) put(k tokenKey, v V, expires, now time.Time) {
	if !expires.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[k] = ttlEntry[V]{v: v, expires: expires}
}

// evict makes room: expired entries go first; if that frees less than a tenth
// of the cache, arbitrary entries (Go's map order is random) go too, so a
// flood of distinct tokens cannot make every insert scan the whole map.
func (c *ttlCache[V]) evict(now time.Time) {
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	target := c.max - c.max/10
	for k := range c.m {
		if len(c.m) <= target {
			break
		}
		delete(c.m, k)
	}
}

func (c *ttlCache[V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
