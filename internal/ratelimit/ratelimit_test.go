package ratelimit_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/saasstarter/saas/internal/ratelimit"
	"github.com/saasstarter/saas/internal/testdb"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 30, 12, 0, 5, 0, time.UTC)} }

func limiter(pool *pgxpool.Pool, c *clock, limit, batch int) *ratelimit.Limiter {
	return ratelimit.New(pool, ratelimit.Config{Limit: limit, Window: time.Minute, Now: c.Now, LocalBatch: batch},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// stored is the key's count in the database.
func stored(t *testing.T, pool *pgxpool.Pool, key string) int {
	t.Helper()
	var hits int
	if err := pool.QueryRow(context.Background(), `SELECT COALESCE((SELECT hits FROM rate_limits WHERE key = $1), 0)`, key).Scan(&hits); err != nil {
		t.Fatal(err)
	}
	return hits
}

func hit(t *testing.T, l *ratelimit.Limiter, key string) ratelimit.Result {
	t.Helper()
	res, err := l.Hit(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLocalBatchDecidesLikeAWritePerHit: one instance with a local batch
// allows and refuses exactly the requests a write per hit would, with the
// same headers, while writing a fraction of them; the hits reach the
// database with the next write, by the batch's size or its age.
func TestLocalBatchDecidesLikeAWritePerHit(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	c := newClock()
	batched, each := limiter(pool, c, 40, 4), limiter(pool, c, 40, 0)
	for i := 1; i <= 45; i++ {
		b, e := hit(t, batched, "batched"), hit(t, each, "each")
		if b != e {
			t.Fatalf("hit %d: batched %+v, each %+v", i, b, e)
		}
		if want := i <= 40; b.Allowed != want || b.Remaining != max(0, 40-i) {
			t.Fatalf("hit %d: %+v, want allowed %v", i, b, want)
		}
	}
	if got := stored(t, pool, "each"); got != 45 {
		t.Errorf("written hit by hit: %d in the database, want 45", got)
	}
	// The first hit and then every fifth (a batch of four and the hit that
	// writes it) reach the database: 41 of the 45; the four since, and the
	// refused ones after the limit, stay local.
	if got := stored(t, pool, "batched"); got != 36 {
		t.Errorf("batched: %d in the database, want 36", got)
	}

	// A batch older than FlushAfter is written with the next hit.
	hit(t, batched, "slow")
	hit(t, batched, "slow")
	if got := stored(t, pool, "slow"); got != 1 {
		t.Fatalf("slow: %d in the database after 2 hits, want 1 (one pending)", got)
	}
	c.Add(ratelimit.FlushAfter)
	if res := hit(t, batched, "slow"); res.Remaining != 37 {
		t.Errorf("slow third hit: remaining %d, want 37", res.Remaining)
	}
	if got := stored(t, pool, "slow"); got != 3 {
		t.Errorf("slow: %d in the database after a second, want 3", got)
	}
}

// TestLocalBatchAcrossInstances: two instances share one counter; each
// learns the other's hits at its next write, and together they pass the
// limit by at most one batch per other instance.
func TestLocalBatchAcrossInstances(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	c := newClock()
	const limit, batch = 32, 2
	a, b := limiter(pool, c, limit, batch), limiter(pool, c, limit, batch)
	allowed := 0
	for i := 0; i < 100; i++ {
		l := a
		if i%3 == 2 {
			l = b
		}
		if hit(t, l, "shared").Allowed {
			allowed++
		}
	}
	if allowed < limit || allowed > limit+batch {
		t.Errorf("allowed %d of 100 across two instances, want %d to %d", allowed, limit, limit+batch)
	}
	// Hits nobody allowed any more are refused without a write.
	before := stored(t, pool, "shared")
	for range 20 {
		if hit(t, a, "shared").Allowed {
			t.Fatal("allowed over the limit")
		}
	}
	if got := stored(t, pool, "shared"); got != before {
		t.Errorf("refused hits wrote: %d, then %d", before, got)
	}
	// A new window starts over on both.
	c.Add(time.Minute)
	if res := hit(t, b, "shared"); !res.Allowed || res.Remaining != limit-1 {
		t.Errorf("new window: %+v", res)
	}
}

// TestLocalBatchConcurrentBurst: concurrent hits of one key on one instance
// allow exactly the limit.
func TestLocalBatchConcurrentBurst(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	l := limiter(pool, newClock(), 50, 4)
	// Several bursts, each on a key of its own: the races between an
	// instance's writes of one key (one counted by the database before an
	// earlier one) show in some bursts only.
	for burst := range 6 {
		key := "burst-" + strconv.Itoa(burst)
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range 16 {
			wg.Go(func() {
				for range 13 {
					res, err := l.Hit(context.Background(), key)
					if err != nil {
						t.Error(err)
						return
					}
					if res.Allowed {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if allowed != 50 {
			t.Errorf("burst %d: allowed %d of 208 concurrent hits, want 50", burst, allowed)
		}
	}
}

func TestBatchFor(t *testing.T) {
	for limit, want := range map[int]int{3: 0, 15: 0, 16: 1, 120: 7, 10_000: ratelimit.MaxLocalBatch} {
		if got := ratelimit.BatchFor(limit); got != want {
			t.Errorf("BatchFor(%d) = %d, want %d", limit, got, want)
		}
	}
}
