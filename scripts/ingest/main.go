// Command ingest is the webhook half of scripts/load.sh: it posts
// Svix-signed Clerk events to a running app from concurrent senders for a
// fixed time and prints throughput and latency in the same format as the
// script's wrk runs. wrk cannot sign each request (the signature covers a
// fresh svix-id and timestamp), hence this program.
//
// The mix is BenchmarkIngest's (handlers/webhooks): three user.updated events
// for every organizationMembership.created (which writes a user, an org and
// a membership), each with a new svix-id, so every delivery is applied. The
// events carry -instance, which must be the app's instance id (in emulator
// mode clerkemu.instance.instance_id): the app records events of any other
// instance as ignored without applying them.
//
// With -db (the app's database URL) it then checks that nothing was lost or
// applied twice: it redelivers the first -redeliver events (as Svix does
// after a timeout) and checks that every event answered 200 has exactly one
// inbox row, applied, and that every membership event made exactly one
// membership. It prints applied=, lost= and dup= on its line.
//
//	go run ./scripts/ingest -url http://127.0.0.1:8080/api/webhooks/clerk -secret whsec_… -instance ins_… -duration 10s
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

	"github.com/jackc/pgx/v5"
	svix "github.com/svix/svix-webhooks/go"
)

func main() {
	url := flag.String("url", "", "the app's webhook URL")
	secret := flag.String("secret", "", "the whsec_ signing secret the app verifies with")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	senders := flag.Int("senders", 16, "concurrent senders")
	instance := flag.String("instance", "ins_load", "the instance_id the events carry (the app's, for them to be applied)")
	dbURL := flag.String("db", "", "the app's database URL: check afterwards that every event was applied exactly once")
	redeliver := flag.Int("redeliver", 200, "with -db, how many events to deliver a second time before checking")
	flag.Parse()
	if *url == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "ingest: -url and -secret are required")
		os.Exit(2)
	}
	if err := run(*url, *secret, *instance, *dbURL, *duration, *senders, *redeliver); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(url, secret, instance, dbURL string, duration time.Duration, senders, redeliver int) error {
	signer, err := svix.NewWebhook(secret)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	// Ids and timestamps are unique per run, so a second run against the
	// same database is applied too rather than deduplicated.
	runID := time.Now().UnixMilli()
	deliver := func(n int64) (time.Duration, bool) {
		body := event(runID, n, instance)
		msgID := fmt.Sprintf("msg_load_%d_%d", runID, n)
		// One instant for the signature and the header: read twice, a
		// second could turn between them and the signature would not match.
		sent := time.Now()
		sig, err := signer.Sign(msgID, sent, body)
		if err != nil {
			return 0, false
		}
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("svix-id", msgID)
		req.Header.Set("svix-timestamp", fmt.Sprint(sent.Unix()))
		req.Header.Set("svix-signature", sig)
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, false
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return time.Since(t0), res.StatusCode == http.StatusOK
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var seq, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var ok []int64 // the events answered 200
	var wg sync.WaitGroup
	begin := time.Now()
	for range senders {
		wg.Go(func() {
			var local []time.Duration
			var localOK []int64
			for ctx.Err() == nil {
				n := seq.Add(1)
				d, good := deliver(n)
				if d > 0 {
					local = append(local, d)
				}
				if good {
					localOK = append(localOK, n)
				} else {
					failed.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			ok = append(ok, localOK...)
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
	line := fmt.Sprintf("requests=%d non2xx=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f", len(latencies), failed.Load(),
		float64(len(latencies))/elapsed.Seconds(), ms(latencies[len(latencies)/2]), ms(latencies[len(latencies)*99/100]))
	if dbURL != "" {
		slices.Sort(ok)
		check, err := verify(dbURL, runID, ok, redeliver, deliver)
		if err != nil {
			return err
		}
		line += " " + check
	}
	fmt.Println(line)
	return nil
}

// verify redelivers the first events answered 200, then checks in the
// database that each event answered 200 was applied exactly once: one inbox
// row per svix-id, status applied; one membership per membership event, and
// one "member.added" audit entry per membership (a second application would
// have added another).
func verify(dbURL string, runID int64, ok []int64, redeliver int, deliver func(int64) (time.Duration, bool)) (string, error) {
	for _, n := range ok[:min(redeliver, len(ok))] {
		if _, good := deliver(n); !good {
			return "", fmt.Errorf("redelivery of event %d was not answered 200", n)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT svix_id FROM webhook_events WHERE svix_id LIKE $1 AND status = 'applied'`,
		fmt.Sprintf("msg_load_%d_%%", runID))
	if err != nil {
		return "", err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	inbox := make(map[string]bool, len(applied))
	for _, id := range applied {
		inbox[id] = true
	}
	lost, memberEvents := 0, 0
	for _, n := range ok {
		if !inbox[fmt.Sprintf("msg_load_%d_%d", runID, n)] {
			lost++
		}
		if n%4 == 0 {
			memberEvents++
		}
	}
	var memberships, added int
	err = conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM memberships WHERE clerk_id LIKE $1),
		(SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.target_user_id
		 WHERE a.action = 'member.added' AND u.clerk_id LIKE $2)`,
		fmt.Sprintf("orgmem_load_%d_%%", runID), fmt.Sprintf("user_load_m%d_%%", runID)).Scan(&memberships, &added)
	if err != nil {
		return "", err
	}
	dup := max(memberships-memberEvents, 0) + max(added-memberships, 0) + max(len(applied)-len(ok), 0)
	if lost > 0 || dup > 0 || memberships != memberEvents {
		return "", fmt.Errorf("not applied exactly once: answered 200 %d, applied %d, lost %d, memberships %d of %d, member.added %d",
			len(ok), len(applied), lost, memberships, memberEvents, added)
	}
	return fmt.Sprintf("applied=%d lost=%d dup=%d redelivered=%d", len(applied), lost, dup, min(redeliver, len(ok))), nil
}

// event returns the n-th event of the mix, in Clerk's envelope.
func event(runID, n int64, instance string) []byte {
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
		"object": "event", "type": typ, "data": data, "timestamp": time.Now().UnixMilli(), "instance_id": instance,
		"event_attributes": map[string]any{"http_request": map[string]any{"client_ip": "", "user_agent": ""}},
	})
	return b
}
