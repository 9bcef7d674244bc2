package webhooks_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/clerksync"
)

// BenchmarkIngest sends signed events over HTTP into PostgreSQL from 16
// concurrent senders: three user events for every membership event (which
// writes a user, an org and a membership), each with a new svix-id. It
// reports events/s and the p99 latency as seen by the sender.
//
//	go test -run=NONE -bench=Ingest -benchtime=20000x ./handlers/webhooks/
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, clerksync.Options{}, 16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var seq atomic.Int64
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, b.N)

	b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			n := seq.Add(1)
			var body []byte
			if n%4 == 0 {
				body = membershipEvent("organizationMembership.created", fmt.Sprintf("orgmem_%d", n),
					fmt.Sprintf("org_%d", n%50), fmt.Sprintf("user_%d", n), "org:member", 1_700_000_000_000+n)
			} else {
				body = userEvent("user.updated", fmt.Sprintf("user_%d", n%2000), "Bench", 1_700_000_000_000+n)
			}
			h := e.signed(fmt.Sprintf("msg_bench_%d", n), time.Now(), body)
			req, _ := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
			req.Header = h
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			local = append(local, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	}
}
