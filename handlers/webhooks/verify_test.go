package webhooks_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/saasstarter/saas/internal/clerksync"
)

// These are the W-* cases of security-checklist.md §1.6 that go through the
// HTTP handler. Each checks the status and that nothing was written.

func TestW03TamperedBodyRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := userEvent("user.created", "user_w03", "Ann", 1_700_000_000_000)
	h := e.signed(newMsgID(), time.Now(), body)
	tampered := map[string][]byte{
		"OneByte":      append([]byte{}, body...),
		"TrailingLF":   append(append([]byte{}, body...), '\n'),
		"Reserialised": []byte(strings.Replace(string(body), `":`, `": `, 1)),
	}
	tampered["OneByte"][len(body)/2] ^= 1
	for name, b := range tampered {
		t.Run(name, func(t *testing.T) {
			if r := e.post(h, b); r.status != http.StatusUnauthorized && r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400/401", r.status)
			}
		})
	}
	e.assertEmpty()
}

func TestW05Headers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := userEvent("user.created", "user_w05", "Ann", 1_700_000_000_000)
	for _, missing := range []string{"svix-id", "svix-timestamp", "svix-signature"} {
		t.Run("Missing_"+missing, func(t *testing.T) {
			h := e.signed(newMsgID(), time.Now(), body)
			h.Del(missing)
			if r := e.post(h, body); r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.status)
			}
		})
	}
	e.assertEmpty()
	t.Run("WebhookPrefixedSetAccepted", func(t *testing.T) {
		s := e.signed(newMsgID(), time.Now(), body)
		h := http.Header{}
		for _, k := range []string{"id", "timestamp", "signature"} {
			h.Set("webhook-"+k, s.Get("svix-"+k))
		}
		if r := e.post(h, body); r.status != http.StatusOK {
			t.Fatalf("status %d, want 200", r.status)
		}
		if n := e.count("SELECT count(*) FROM users"); n != 1 {
			t.Fatalf("users = %d, want 1", n)
		}
	})
	t.Run("MixedSetUsesWebhookHeaders", func(t *testing.T) {
		b := userEvent("user.created", "user_w05b", "Ann", 1_700_000_000_000)
		s := e.signed(newMsgID(), time.Now(), b)
		h := http.Header{}
		h.Set("svix-id", "msg_other") // incomplete svix-* set: ignored
		for _, k := range []string{"id", "timestamp", "signature"} {
			h.Set("webhook-"+k, s.Get("svix-"+k))
		}
		if r := e.post(h, b); r.status != http.StatusOK {
			t.Fatalf("status %d, want 200", r.status)
		}
		if n := e.count("SELECT count(*) FROM webhook_events WHERE svix_id = $1", s.Get("svix-id")); n != 1 {
			t.Fatalf("the signed webhook-id was not the recorded one")
		}
	})
}

func TestW06W07SignatureLists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := userEvent("user.created", "user_w06", "Ann", 1_700_000_000_000)
	const decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	cases := []struct {
		name string
		sig  func(valid string) []string
		want int
	}{
		{"EmptyV1", func(string) []string { return []string{"v1,"} }, 401},
		{"EightCharPrefix", func(v string) []string { return []string{v[:8]} }, 401},
		{"OnlyV2AndV1a", func(v string) []string { return []string{"v2," + v[3:] + " v1a," + v[3:]} }, 401},
		{"TabSeparated", func(v string) []string { return []string{decoy + "\t" + v} }, 401},
		{"ValidSecondHeader", func(v string) []string { return []string{decoy, v} }, 401},
		{"PrefixJunk", func(v string) []string { return []string{"x" + v} }, 401},
		{"SuffixJunk", func(v string) []string { return []string{v + "AAAA"} }, 401},
		{"ExtraPadding", func(v string) []string { return []string{v + "="} }, 401},
		{"DecoysAndValid", func(v string) []string { return []string{decoy + " v2,abc " + v + " " + decoy} }, 200},
		{"ValidFirstHeader", func(v string) []string { return []string{v, decoy} }, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := e.signed(newMsgID(), time.Now(), body)
			valid := h.Get("svix-signature")
			h.Del("svix-signature")
			for _, s := range c.sig(valid) {
				h.Add("svix-signature", s)
			}
			if r := e.post(h, body); r.status != c.want {
				t.Fatalf("status %d, want %d", r.status, c.want)
			}
		})
	}
}

func TestW08Timestamps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := userEvent("user.created", "user_w08", "Ann", 1_700_000_000_000)
	// Svix's tolerance is ±300 s. Timestamps are whole seconds and the clock
	// moves between signing here and verifying in the handler (by more than
	// a second on a loaded CI machine under -race), so each case signs with
	// a fresh clock and stays 5 s clear of the boundary on either side.
	for _, c := range []struct {
		name   string
		offset time.Duration
		want   int
	}{
		{"Minus305s", -305 * time.Second, 401},
		{"Plus305s", 305 * time.Second, 401},
		{"Minus295s", -295 * time.Second, 200},
		{"Plus295s", 295 * time.Second, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.post(e.signed(newMsgID(), time.Now().Add(c.offset), body), body); r.status != c.want {
				t.Fatalf("status %d, want %d", r.status, c.want)
			}
		})
	}
	for _, c := range []struct {
		name, ts string
		want     int
	}{
		{"Milliseconds", fmt.Sprint(time.Now().UnixMilli()), 401},
		{"NotANumber", "abc", 400},
		{"Empty", "", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := e.signed(newMsgID(), time.Now(), body)
			h.Set("svix-timestamp", c.ts)
			if r := e.post(h, body); r.status != c.want {
				t.Fatalf("status %d, want %d", r.status, c.want)
			}
		})
	}
}

func TestW09ReplayIsNoOp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := userEvent("user.created", "user_w09", "Ann", 1_700_000_000_000)
	h := e.signed(newMsgID(), time.Now(), body)
	for range 2 {
		if r := e.post(h, body); r.status != http.StatusOK {
			t.Fatalf("status %d, want 200", r.status)
		}
	}
	if n := e.count("SELECT attempts FROM webhook_events"); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
	if s := e.str("SELECT status FROM webhook_events"); s != "applied" {
		t.Errorf("status = %q, want applied (the first processing)", s)
	}
	if n := e.count("SELECT count(*) FROM users"); n != 1 {
		t.Errorf("users = %d, want 1", n)
	}
}

func TestW13BodyCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	big := []byte(`{"type":"user.created","data":{"id":"u","pad":"` + strings.Repeat("a", webhooksMaxBody) + `"}}`)
	h := e.signed(newMsgID(), time.Now(), big)
	t.Run("ContentLength", func(t *testing.T) {
		if r := e.post(h, big); r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.status)
		}
	})
	t.Run("Chunked", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url, struct{ *strings.Reader }{strings.NewReader(string(big))})
		req.Header = h.Clone()
		req.ContentLength = -1 // no Content-Length: sent chunked
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	e.assertEmpty()
}

// TestW15ErrorsDoNotLeak checks that every refusal is a fixed JSON message.
func TestW15ErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	e := newEnv(t, clerksync.Options{}, 4)
	body := []byte(`{"not":"an event"}`)
	bad := e.signed(newMsgID(), time.Now(), body)
	bad.Set("svix-signature", "v1,AAAA")
	replies := []reply{
		e.post(bad, body),                                    // 401
		e.post(http.Header{}, body),                          // 400 headers
		e.post(e.signed(newMsgID(), time.Now(), body), body), // 400 malformed event
	}
	e.pool.Close() // the database is gone: 5xx
	replies = append(replies, e.deliver(userEvent("user.created", "user_w15", "Ann", 1)))
	for _, r := range replies {
		if r.status < 400 || !strings.HasPrefix(r.body, `{"error":"`) {
			t.Errorf("reply %d %q: want an error JSON body", r.status, r.body)
		}
		for _, leak := range []string{"sql", "pgx", "closed pool", "goroutine", ".go:", "whsec_", "json:", "svix", "unexpected"} {
			if strings.Contains(strings.ToLower(r.body), leak) {
				t.Errorf("reply %d %q leaks %q", r.status, r.body, leak)
			}
		}
	}
	if last := replies[len(replies)-1]; last.status < 500 {
		t.Errorf("with the database closed: status %d, want 5xx", last.status)
	}
}
