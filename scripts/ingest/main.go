// Command ingest is the webhook half of scripts/load.sh: it posts
// Svix-signed Clerk events to a running app from concurrent senders for a
// fixed time and prints throughput and latency in the same format as the
// script's wrk runs. wrk cannot sign each request (the signature covers a
// fresh svix-id and timestamp), hence this program.
//
// The mix is BenchmarkIngest's (handlers/webhooks): three user.updated events
// for every organizationMembership.created (which writes a user, an org and
// a membership), each with a new svix-id, so every delivery is applied.
//
//	go run ./scripts/ingest -url http://127.0.0.1:8080/api/webhooks/clerk -secret whsec_… -duration 10s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

func main() {
	url := flag.String("url", "", "the app's webhook URL")
	secret := flag.String("secret", "", "the whsec_ signing secret the app verifies with")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	senders := flag.Int("senders", 16, "concurrent senders")
	flag.Parse()
	if *url == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "ingest: -url and -secret are required")
		os.Exit(2)
	}
	if err := run(*url, *secret, *duration, *senders); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(url, secret string, duration time.Duration, senders int) error {
	signer, err := svix.NewWebhook(secret)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	// Ids and timestamps are unique per run, so a second run against the
	// same database is applied too rather than deduplicated.
	runID := time.Now().UnixMilli()
	var seq, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	begin := time.Now()
	for range senders {
		wg.Go(func() {
			var local []time.Duration
			for ctx.Err() == nil {
				n := seq.Add(1)
				body := event(runID, n)
				msgID := fmt.Sprintf("msg_load_%d_%d", runID, n)
				sig, err := signer.Sign(msgID, time.Now(), body)
				if err != nil {
					failed.Add(1)
					continue
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("svix-id", msgID)
				req.Header.Set("svix-timestamp", fmt.Sprint(time.Now().Unix()))
				req.Header.Set("svix-signature", sig)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				local = append(local, time.Since(t0))
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if len(latencies) == 0 {
		return fmt.Errorf("no delivery was answered (%d failed)", failed.Load())
	}
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	// One line, key=value, for load.sh to read.
	fmt.Printf("requests=%d non2xx=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f\n", len(latencies), failed.Load(),
		float64(len(latencies))/elapsed.Seconds(), ms(latencies[len(latencies)/2]), ms(latencies[len(latencies)*99/100]))
	return nil
}

// event returns the n-th event of the mix, in Clerk's envelope.
func event(runID, n int64) []byte {
	updated := runID + n
	user := func(id string) map[string]any {
		return map[string]any{
			"object": "user", "id": id, "first_name": "Load", "last_name": "Test",
			"image_url": "", "primary_email_address_id": "idn_" + id,
			"email_addresses":  []any{map[string]any{"id": "idn_" + id, "email_address": id + "@load.example"}},
			"public_metadata":  map[string]any{},
			"created_at":       runID,
			"updated_at":       updated,
			"last_sign_in_at":  nil,
			"private_metadata": map[string]any{},
		}
	}
	typ, data := "user.updated", user(fmt.Sprintf("user_load_%d", n%2000))
	if n%4 == 0 {
		org := fmt.Sprintf("org_load_%d", n%50)
		userID := fmt.Sprintf("user_load_m%d_%d", runID, n)
		typ, data = "organizationMembership.created", map[string]any{
			"object": "organization_membership", "id": fmt.Sprintf("orgmem_load_%d_%d", runID, n), "role": "org:member",
			"permissions": []string{"org:sys_memberships:read"},
			"organization": map[string]any{
				"object": "organization", "id": org, "name": org, "slug": org, "image_url": "",
				"public_metadata": map[string]any{"plan": "free"}, "created_at": runID, "updated_at": runID,
			},
			"public_user_data": map[string]any{"user_id": userID, "first_name": "Load", "last_name": nil,
				"image_url": nil, "identifier": userID + "@load.example"},
			"created_at": runID, "updated_at": updated,
		}
	}
	b, _ := json.Marshal(map[string]any{
		"object": "event", "type": typ, "data": data, "timestamp": time.Now().UnixMilli(), "instance_id": "ins_load",
		"event_attributes": map[string]any{"http_request": map[string]any{"client_ip": "", "user_agent": ""}},
	})
	return b
}
