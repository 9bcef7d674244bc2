package clerksync

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestW01SecretRefused(t *testing.T) {
	t.Parallel()
	for name, secret := range map[string]string{
		"Empty":        "",
		"Blank":        "  \n",
		"PrefixOnly":   "whsec_",
		"NotBase64":    "whsec_not*base64!",
		"TooShort":     "whsec_c2hvcnQ=", // "short"
		"TwentyThreeB": "whsec_" + strings.Repeat("A", 28) + "==",
	} {
		t.Run(name, func(t *testing.T) {
			v, err := NewVerifier(secret)
			if err == nil || v != nil {
				t.Fatalf("NewVerifier(%q) = %v, %v; want an error", secret, v, err)
			}
			if secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) && len(strings.TrimSpace(secret)) > 6 {
				t.Fatalf("error %q contains the secret", err)
			}
		})
	}
	for _, ok := range []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"} {
		if _, err := NewVerifier(ok); err != nil {
			t.Errorf("NewVerifier(%q): %v", ok, err)
		}
	}
}

type vector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	MsgID     string `json:"msg_id"`
	Timestamp int64  `json:"timestamp"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
	Expect    string `json:"expect"`
}

// TestW02SvixVectors runs Svix's published signature vectors (valid and
// must-not-match; each names its source in the Svix repositories) through
// the verifier wrapper. They are from 2021-2022, so the timestamp check is
// skipped.
func TestW02SvixVectors(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "svix_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors []vector
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 10 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v, err := NewVerifier(vec.Secret)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set("svix-id", vec.MsgID)
			h.Set("svix-timestamp", fmt.Sprint(vec.Timestamp))
			h.Set("svix-signature", vec.Signature)
			id, err := v.VerifyIgnoringTimestamp([]byte(vec.Payload), h)
			switch vec.Expect {
			case "valid":
				if err != nil || id != vec.MsgID {
					t.Fatalf("= %q, %v; want accepted", id, err)
				}
				// With the live tolerance, a 2021 timestamp is refused.
				if _, err := v.Verify([]byte(vec.Payload), h); !errors.Is(err, ErrSignature) {
					t.Fatalf("Verify with an old timestamp = %v, want ErrSignature", err)
				}
			case "invalid":
				if err == nil {
					t.Fatal("accepted a must-not-match signature")
				}
			default:
				t.Fatalf("unknown expectation %q", vec.Expect)
			}
		})
	}
}

// FuzzVerify checks the wrapper against a reference computation: it never
// panics, and accepts exactly when one space-separated v1 entry carries the
// HMAC of "id.timestamp.body" (W-16).
func FuzzVerify(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Add([]byte(`{"test": 2432232314}`), "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add([]byte(`{}`), "msg_1", "+1614265330", "v2,x v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,extra")
	f.Add([]byte(``), "", "abc", "v1,")
	v, err := NewVerifier(secret)
	if err != nil {
		f.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sig string) {
		h := http.Header{}
		h.Set("svix-id", id)
		h.Set("svix-timestamp", ts)
		h.Set("svix-signature", sig)
		// What actually travels: header values are single-line text.
		for _, s := range []string{id, ts, sig} {
			if strings.ContainsAny(s, "\r\n\x00") {
				return
			}
		}
		got, err := v.VerifyIgnoringTimestamp(body, h)
		n, perr := strconv.ParseInt(h.Get("svix-timestamp"), 10, 64)
		want := false
		if h.Get("svix-id") != "" && h.Get("svix-signature") != "" && perr == nil && len(h.Get("svix-id")) <= maxMessageID {
			mac := hmac.New(sha256.New, key)
			fmt.Fprintf(mac, "%s.%d.%s", h.Get("svix-id"), n, body)
			ref := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			for _, entry := range strings.Split(h.Get("svix-signature"), " ") {
				if parts := strings.Split(entry, ","); len(parts) >= 2 && parts[0] == "v1" && parts[1] == ref {
					want = true
				}
			}
		}
		if (err == nil) != want || (err == nil && got != h.Get("svix-id")) {
			t.Fatalf("id=%q ts=%q sig=%q: accepted=%v (%v), reference says %v", id, ts, sig, err == nil, err, want)
		}
	})
}
